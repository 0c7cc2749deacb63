"""Acquisition and retention costs and their ratio, measured from the spend ledger and the transactions.

Inputs are the canonical transaction frame and the spend ledger of
:func:`relmkt_helpers.load_spend` (validated at the edge). The definitions are
in the table of :mod:`relmkt_helpers.economics`; in short:

* a customer's **acquisition month** is the month of their first order in the
  data (up to ``as_of``) and their **channel** the ``channel_col`` value on
  that first order;
* ledger rows are compared with the customers of the same calendar month and
  channel; months outside the transaction data, or the partial month that
  contains ``as_of``, are listed with a note and left out of the totals.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._common import (
    ALL, NOTE_AFTER, NOTE_BEFORE, NOTE_FIRST, NOTE_NO_NEW, NOTE_NO_RETAINED, NOTE_NO_ROW, NOTE_NO_SPEND_NO_NEW,
    NOTE_ORGANIC, NOTE_PARTIAL, Activity, activity, check_choice, check_spend, check_tx, match_channels,
)

__all__ = [
    "RETAINED_BASES",
    "cac_by_month",
    "cac_by_channel",
    "retention_costs",
    "cost_ratios",
]

#: Who counts as a retained customer in a period (see :func:`retention_costs`).
RETAINED_BASES: tuple[str, ...] = ("existing", "returning", "active")


# ----------------------------------------------------------------------------
# ledger x activity
# ----------------------------------------------------------------------------

def _prepare(tx: Any, spend: Any, channel_col: str | None, as_of: Any, freq: str = "M"
             ) -> tuple[pd.DataFrame, Activity, list[str]]:
    """Ledger, activity counts and the channels of the result (ledger channels; blended -> ["all"])."""
    tx = check_tx(tx)
    led = check_spend(spend)
    has_col = channel_col is not None and channel_col in tx.columns
    act = activity(tx, channel_col=channel_col if has_col else None, as_of=as_of, freq=freq)
    blended = match_channels(led["channel"].unique().tolist(), act.channels if has_col else None, channel_col)
    if blended and act.channels != [ALL]:
        act = Activity(periods=act.periods, channels=[ALL], new=act.new.sum(1, keepdims=True),
                       active=act.active.sum(1, keepdims=True), returning=act.returning.sum(1, keepdims=True),
                       revenue=act.revenue.sum(1, keepdims=True), complete=act.complete,
                       first_day=act.first_day, as_of=act.as_of)
    return led, act, act.channels


def _ledger_grid(led: pd.DataFrame, kind: str, channels: list[str]) -> tuple[pd.PeriodIndex, np.ndarray]:
    """Ledger months (every month from the first to the last ledger row) x channels; NaN = no row."""
    rows = led[led["kind"] == kind]
    months = pd.period_range(led["month"].min(), led["month"].max(), freq="M", name="month")
    grid = rows.pivot_table(index="month", columns="channel", values="spend", aggfunc="sum")
    grid = grid.reindex(index=months, columns=channels)
    return months, grid.to_numpy(dtype=np.float64)


def _counts_for(months: pd.PeriodIndex, act: Activity, counts: np.ndarray, *, mark_first: bool = False
                ) -> tuple[np.ndarray, np.ndarray]:
    """Counts (periods x channels) aligned to ``months`` and a position code: -1 before, 0 inside, 1 after data,
    2 partial period, 3 first period of the data (with ``mark_first``: nobody can be retained there)."""
    ords = months.asi8
    lo = act.periods.asi8[0]
    idx = ords - lo
    inside = (idx >= 0) & (idx < len(act.periods))
    out = np.zeros((len(months), counts.shape[1]), dtype=np.float64)
    out[inside] = counts[idx[inside]]
    where = np.where(idx < 0, -1, np.where(idx >= len(act.periods), 1, 0))
    complete = np.zeros(len(months), dtype=bool)
    complete[inside] = act.complete[idx[inside]]
    where = np.where((where == 0) & ~complete, 2, where)
    if mark_first:
        where = np.where((where == 0) & (idx == 0), 3, where)
    return out, where


def _with_all(spend: np.ndarray, counts: np.ndarray, channels: list[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    if channels == [ALL]:
        return spend, counts, channels
    return (np.column_stack([spend, spend.sum(1)]),  # NaN if any channel's row is missing
            np.column_stack([counts, counts.sum(1)]), channels + [ALL])


def _position_notes(where: np.ndarray) -> np.ndarray:
    return np.select([where == -1, where == 1, where == 2, where == 3],
                     [NOTE_BEFORE, NOTE_AFTER, NOTE_PARTIAL, NOTE_FIRST], "")


def _cost_table(months: pd.PeriodIndex, spend: np.ndarray, counts: np.ndarray, where: np.ndarray,
                channels: list[str], *, spend_name: str, count_name: str, cost_name: str,
                zero_note: str, zero_zero_note: str, free_note: str) -> pd.DataFrame:
    P, C = spend.shape
    pos = np.repeat(_position_notes(where), C).reshape(P, C)
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = np.where(counts > 0, spend / np.where(counts > 0, counts, 1.0), np.nan)
    note = np.select(
        [pos != "", np.isnan(spend), (counts == 0) & (spend > 0), (counts == 0), (spend == 0)],
        [pos, NOTE_NO_ROW, zero_note, zero_zero_note, free_note], "")
    in_totals = (pos == "") & ~np.isnan(spend)
    out = pd.DataFrame({
        "month": np.repeat(months, C),
        "channel": np.tile(np.array(channels, dtype=object), P),
        spend_name: spend.ravel(),
        count_name: counts.ravel().astype(np.int64),
        cost_name: cost.ravel(),
        "in_totals": in_totals.ravel(),
        "note": note.ravel(),
    })
    out["channel"] = out["channel"].astype(str)
    out["basis"] = "measured"
    return out


def cac_by_month(tx: pd.DataFrame, spend: pd.DataFrame, *, channel_col: str | None = "channel",
                 as_of: Any = None) -> pd.DataFrame:
    """Customer acquisition cost (CAC) per calendar month and channel, with the blended "all" rows.

    ``cac = acquisition spend / new customers`` of the month and channel; a
    **new** customer places their first order ever (in the data, up to
    ``as_of``) in the month, through the channel of that first order. A
    month-channel with spend but no new customer has an **undefined** CAC
    (NaN, with a ``note``), never a division by zero. The ``"all"`` rows are
    blended: all acquisition spend of the month over all new customers.

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions with the acquisition channel in ``channel_col``.
    spend : DataFrame
        Spend ledger from :func:`relmkt_helpers.load_spend` (``month`` may also be ``YYYY-MM`` text).
        Its channels must match the transactions' channels exactly, or be the single channel ``"all"``.
    channel_col : str or None, default "channel"
        Column of ``tx`` with the acquisition channel. Ignored when the ledger is
        blended (channel ``"all"``).
    as_of : date-like, optional
        Inclusive last day of the transaction data; default the last order date.

    Returns
    -------
    DataFrame
        One row per ledger month (every month from the ledger's first to its
        last) and channel, ``"all"`` last: ``month`` (``Period[M]``), ``channel``,
        ``acquisition_spend`` (NaN: no ledger row), ``new_customers``, ``cac``,
        ``in_totals`` (counts in :func:`cac_by_channel`), ``note`` (why a CAC is
        undefined or set aside; "" when fine), ``basis`` ("measured").

    Raises
    ------
    DataValidationError
        The ledger's channels do not match the transactions' (both sides named).

    Examples
    --------
    February has spend but nobody new: its CAC is undefined, not infinite.

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a", "c"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-02-03", "2024-03-09"]),
    ...     "amount": [20.0, 30.0, 25.0, 40.0]})
    >>> spend = pd.DataFrame({"month": ["2024-01", "2024-02", "2024-03"], "channel": "all",
    ...     "kind": "acquisition", "spend": [100.0, 50.0, 60.0]})
    >>> cac_by_month(tx, spend, as_of="2024-03-31")[["month", "new_customers", "cac", "note"]]
    ... # doctest: +NORMALIZE_WHITESPACE
         month  new_customers   cac                                       note
    0  2024-01              2  50.0
    1  2024-02              0   NaN  spend but no new customers: CAC undefined
    2  2024-03              1  60.0
    """
    led, act, channels = _prepare(tx, spend, channel_col, as_of)
    months, sp = _ledger_grid(led, "acquisition", channels)
    counts, where = _counts_for(months, act, act.new)
    sp, counts, cols = _with_all(sp, counts, channels)
    return _cost_table(months, sp, counts, where, cols, spend_name="acquisition_spend", count_name="new_customers",
                       cost_name="cac", zero_note=NOTE_NO_NEW, zero_zero_note=NOTE_NO_SPEND_NO_NEW,
                       free_note=NOTE_ORGANIC)


def _pool(table: pd.DataFrame, spend_name: str, count_name: str, cost_name: str,
          period: str = "month") -> pd.DataFrame:
    use = table[table["in_totals"]]
    order = list(dict.fromkeys(table["channel"]))
    g = use.groupby("channel", sort=False)
    spend = g[spend_name].sum().reindex(order).fillna(0.0)
    count = g[count_name].sum().reindex(order).fillna(0).astype(np.int64)
    n = g.size().reindex(order).fillna(0).astype(np.int64)
    undefined = use[use[cost_name].isna()].groupby("channel", sort=False).size().reindex(order).fillna(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = np.where(count > 0, spend / count.where(count > 0, 1), np.nan)
    out = pd.DataFrame({"channel": order, spend_name: spend.to_numpy(), count_name: count.to_numpy(),
                        cost_name: cost, f"{period}s": n.to_numpy(),
                        f"{period}s_undefined": undefined.to_numpy().astype(np.int64)})
    first = use.groupby("channel", sort=False)[period].min().reindex(order)
    last = use.groupby("channel", sort=False)[period].max().reindex(order)
    out[f"first_{period}"] = first.to_numpy()
    out[f"last_{period}"] = last.to_numpy()
    out["note"] = np.where(count.to_numpy() > 0, "", "no customers in the pooled periods: undefined")
    out["basis"] = "measured"
    return out


def cac_by_channel(tx: pd.DataFrame, spend: pd.DataFrame, *, channel_col: str | None = "channel",
                   as_of: Any = None) -> pd.DataFrame:
    """CAC per channel over the whole ledger period, and blended over all channels ("all").

    Pools the rows of :func:`cac_by_month` with ``in_totals``: every complete
    month inside the transaction data for which the ledger has a row.
    ``cac = sum of acquisition spend / sum of new customers``. Spend in a month
    without any new customer stays in the sum (it bought nobody).

    Parameters
    ----------
    tx, spend, channel_col, as_of
        As in :func:`cac_by_month`.

    Returns
    -------
    DataFrame
        One row per channel, ``"all"`` last: ``channel``, ``acquisition_spend``,
        ``new_customers``, ``cac``, ``months`` (pooled), ``months_undefined``
        (pooled months whose own CAC is undefined), ``first_month``,
        ``last_month``, ``note``, ``basis`` ("measured").

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "c"], "channel": ["ads", "ads", "seo"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-02-20", "2024-02-09"]), "amount": [20.0, 30.0, 40.0]})
    >>> spend = pd.DataFrame({"month": ["2024-01", "2024-01", "2024-02", "2024-02"],
    ...     "channel": ["ads", "seo", "ads", "seo"], "kind": "acquisition", "spend": [90.0, 10.0, 30.0, 0.0]})
    >>> cac_by_channel(tx, spend, as_of="2024-02-29")[["channel", "new_customers", "cac"]].round(2)
      channel  new_customers    cac
    0     ads              2  60.00
    1     seo              1  10.00
    2     all              3  43.33
    """
    return _cac_pool(cac_by_month(tx, spend, channel_col=channel_col, as_of=as_of))


def _cac_pool(months: pd.DataFrame) -> pd.DataFrame:
    return _pool(months, "acquisition_spend", "new_customers", "cac")


def _year_grid(led: pd.DataFrame, channels: list[str]) -> tuple[pd.PeriodIndex, np.ndarray, np.ndarray]:
    """Retention spend per calendar year x channel, and the number of ledger months with a row."""
    rows = led[led["kind"] == "retention"]
    years = pd.period_range(led["month"].min().asfreq("Y"), led["month"].max().asfreq("Y"), freq="Y", name="year")
    yr = rows["month"].dt.asfreq("Y")
    spend = rows.groupby([yr, rows["channel"]])["spend"].sum().unstack().reindex(index=years, columns=channels)
    nmon = rows.groupby([yr, rows["channel"]]).size().unstack().reindex(index=years, columns=channels)
    return years, spend.to_numpy(dtype=np.float64), nmon.fillna(0).to_numpy(dtype=np.int64)


def retention_costs(tx: pd.DataFrame, spend: pd.DataFrame, *, retained: str = "existing", period: str = "M",
                    channel_col: str | None = "channel", as_of: Any = None) -> pd.DataFrame:
    """Retention spend per retained customer, per month or per calendar year, by channel.

    ``cost_per_retained = retention spend / retained customers`` of the period
    and channel (the customer's acquisition channel). Who is **retained**
    (``retained=``) in a period:

    ``"existing"`` (default)
        Active in the period (at least one order) and acquired in an earlier
        period: returning + reactivated customers. Retention spend is meant for
        customers already won; this counts every one of them who bought.
    ``"returning"``
        Active in the period **and** in the previous one (the numerator of the
        period retention rate of :func:`relmkt_helpers.period_kpis`); stricter,
        so the cost per customer is higher.
    ``"active"``
        Every active customer, the newly acquired included. This is the base
        the bundled sample shop charges its retention spend to ("per active
        customer-month", ``ground_truth.json``), so use it to compare with the
        generator's true cost.

    With ``period="Y"`` the ledger months are summed by calendar year and the
    retained customers are **distinct customers** of the year (``"existing"``:
    active in the year and acquired in an earlier year; ``"returning"``: active
    in the year and the year before), so the yearly cost is the cost of keeping
    one customer for a year, not twelve monthly costs.

    Parameters
    ----------
    tx, spend, channel_col, as_of
        As in :func:`cac_by_month`.
    retained : {"existing", "returning", "active"}
        The retained base (above).
    period : {"M", "Y"}
        Calendar months or calendar years.

    Returns
    -------
    DataFrame
        One row per ledger period and channel, ``"all"`` last: ``month`` (or
        ``year``), ``channel``, ``retention_spend``, ``retained_customers``,
        ``cost_per_retained``, ``in_totals``, ``note``, ``basis``
        ("measured"). A row is in the totals (pooled by :func:`cost_ratios`:
        sum of spend / sum of retained customers) when its period is complete
        and inside the transaction data and the ledger has a row; for
        ``"existing"`` and ``"returning"`` the data's first period is left out
        (nobody acquired earlier can be seen there). Spend in a period without
        retained customers stays in the totals (it retained nobody), like CAC
        spend without acquisitions. A yearly row also needs all 12 ledger
        months and data covering the whole year.

    Examples
    --------
    ``a`` is acquired in January and buys again in February; ``b`` is new in February.

    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-02-03", "2024-02-09"]), "amount": [20.0, 30.0, 40.0]})
    >>> spend = pd.DataFrame({"month": ["2024-01", "2024-02"], "channel": "all", "kind": "retention",
    ...     "spend": [5.0, 8.0]})
    >>> retention_costs(tx, spend, as_of="2024-02-29")[["month", "retained_customers", "cost_per_retained"]]
         month  retained_customers  cost_per_retained
    0  2024-01                   0                NaN
    1  2024-02                   1                8.0
    >>> retention_costs(tx, spend, retained="active", as_of="2024-02-29")["cost_per_retained"].tolist()
    [5.0, 4.0]
    """
    retained = check_choice("retained", retained, RETAINED_BASES)
    period = check_choice("period", period, ("M", "Y"))
    led, act, channels = _prepare(tx, spend, channel_col, as_of, freq=period)
    names = dict(spend_name="retention_spend", count_name="retained_customers", cost_name="cost_per_retained",
                 zero_note=NOTE_NO_RETAINED, zero_zero_note=NOTE_NO_RETAINED, free_note="")
    if period == "M":
        months, sp = _ledger_grid(led, "retention", channels)
        counts, where = _counts_for(months, act, act.retained(retained), mark_first=retained != "active")
        sp, counts, cols = _with_all(sp, counts, channels)
        return _cost_table(months, sp, counts, where, cols, **names)
    years, sp, nmon = _year_grid(led, channels)
    counts, where = _counts_for(years, act, act.retained(retained), mark_first=retained != "active")
    # a year is fully observed when the data starts on or before 1 January and the year is complete
    first_year = pd.Period(pd.Timestamp(act.first_day), freq="Y")
    starts_late = (years == first_year) & (pd.Timestamp(act.first_day) > first_year.start_time)
    where = np.where((where == 0) & starts_late, 2, where)
    sp, counts, cols = _with_all(sp, counts, channels)
    if cols != channels:
        nmon = np.column_stack([nmon, nmon.min(1)])
    table = _cost_table(years, sp, counts, where, cols, **names).rename(columns={"month": "year"})
    positional = table["note"].isin([NOTE_BEFORE, NOTE_AFTER, NOTE_PARTIAL, NOTE_FIRST]).to_numpy()
    table.loc[positional, "note"] = table.loc[positional, "note"].str.replace("month", "year", regex=False)
    short = (nmon.ravel() < 12) & ~positional
    table.loc[short, "note"] = [f"partial year: {k} of 12 ledger months; left out of totals"
                                for k in nmon.ravel()[short]]
    table.loc[short, "in_totals"] = False
    return table


def cost_ratios(tx: pd.DataFrame, spend: pd.DataFrame, *, retained: str = "existing",
                channel_col: str | None = "channel", as_of: Any = None) -> pd.DataFrame:
    """Acquisition-to-retention cost ratio per channel, per month and per year of retention.

    ``ratio_month = CAC / retention cost per retained customer-month`` and
    ``ratio_year = CAC / retention cost per retained customer-year``: the cost
    of winning one customer against the cost of keeping one for a month, or for
    a year. CAC is :func:`cac_by_channel`; the retention costs pool the
    in-total rows of :func:`retention_costs` (``period="M"`` and ``"Y"``).

    **Which one to hold against the folk "5x" (or "6-7x")?** The claim compares
    winning a customer with keeping one, and its sources (Reichheld & Sasser
    1990) measure retention per **year**: ``ratio_year`` is the comparable
    figure (``comparable_to_folk_claim``). ``ratio_month`` divides the one-off
    CAC by a single month of retention cost and so comes out several times
    larger (up to 12x, less when customers are not active every month); quoting
    it against "5x" flatters retention.

    Parameters
    ----------
    tx, spend, channel_col, as_of
        As in :func:`cac_by_month`.
    retained : {"existing", "returning", "active"}
        As in :func:`retention_costs`.

    Returns
    -------
    DataFrame
        One row per channel, ``"all"`` last: ``channel``, ``cac``,
        ``retention_cost_month``, ``retention_cost_year``, ``ratio_month``,
        ``ratio_year``, ``comparable_to_folk_claim`` ("ratio_year"),
        ``retained`` (the basis), ``note`` and ``basis`` ("measured").

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-02-03", "2024-02-09"]), "amount": [20.0, 30.0, 40.0]})
    >>> spend = pd.DataFrame({"month": ["2024-01", "2024-02", "2024-01", "2024-02"], "channel": "all",
    ...     "kind": ["acquisition", "acquisition", "retention", "retention"], "spend": [60.0, 40.0, 5.0, 8.0]})
    >>> r = cost_ratios(tx, spend, retained="active", as_of="2024-02-29")
    >>> r[["cac", "retention_cost_month", "ratio_month"]].round(2).iloc[0].tolist()
    [50.0, 4.33, 11.54]
    """
    retained = check_choice("retained", retained, RETAINED_BASES)
    kw = dict(retained=retained, channel_col=channel_col, as_of=as_of)
    return _ratios(cac_by_channel(tx, spend, channel_col=channel_col, as_of=as_of),
                   retention_costs(tx, spend, period="M", **kw), retention_costs(tx, spend, period="Y", **kw),
                   retained)


def _ratios(cac_channels: pd.DataFrame, month_costs: pd.DataFrame, year_costs: pd.DataFrame,
            retained: str) -> pd.DataFrame:
    """The cost-ratio table from :func:`cac_by_channel` and the monthly and yearly :func:`retention_costs`."""
    cac = cac_channels.set_index("channel")
    month = _pool(month_costs, "retention_spend", "retained_customers", "cost_per_retained").set_index("channel")
    year = _pool(year_costs, "retention_spend", "retained_customers", "cost_per_retained",
                 period="year").set_index("channel")
    out = pd.DataFrame({"cac": cac["cac"], "retention_cost_month": month["cost_per_retained"],
                        "retention_cost_year": year["cost_per_retained"]})
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ratio_month"] = out["cac"] / out["retention_cost_month"].where(out["retention_cost_month"] > 0)
        out["ratio_year"] = out["cac"] / out["retention_cost_year"].where(out["retention_cost_year"] > 0)
    out["comparable_to_folk_claim"] = "ratio_year"
    out["retained"] = retained
    notes = []
    for ch, row in out.iterrows():
        parts = []
        if np.isnan(row["cac"]):
            parts.append("CAC undefined")
        if np.isnan(row["retention_cost_month"]):
            parts.append("no monthly retention cost")
        if np.isnan(row["retention_cost_year"]):
            parts.append("no complete year with retained customers in both ledger and data: yearly cost undefined")
        notes.append("; ".join(parts))
    out["note"] = notes
    out["basis"] = "measured"
    out.index.name = "channel"
    return out.reset_index()
