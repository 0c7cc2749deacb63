"""CAC payback and LTV:CAC from realised revenue curves (or a CLV per customer).

Compute :func:`ltv_curves` once per data set; :func:`cac_payback` and
:func:`ltv_to_cac` then rescale it by margin and CAC in about a millisecond, so
a notebook slider can redraw on every move.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..cohorts import realised_ltv_matrix
from ..errors import DataValidationError, ParameterError
from ._common import ALL, check_choice, check_number, check_tx, customer_channels

__all__ = ["LtvCurves", "ltv_curves", "PaybackResult", "cac_payback", "ltv_to_cac"]


@dataclass(frozen=True, eq=False)
class LtvCurves:
    """Realised cumulative revenue per acquired customer by age, per channel and pooled ("all").

    Attributes
    ----------
    revenue : DataFrame
        Index ``periods_since_acquisition`` (0 = the acquisition month); one
        column per channel and ``"all"`` (columns named ``channel``): the
        cohort-size-weighted mean, over complete cohort cells, of the cumulative
        revenue per acquired customer (:func:`relmkt_helpers.realised_ltv_matrix`).
    customers : DataFrame
        Same shape: the acquired customers behind each point. Late ages rest on
        the oldest cohorts only.
    as_of : Timestamp
        The inclusive as-of date.
    """

    revenue: pd.DataFrame
    customers: pd.DataFrame
    as_of: pd.Timestamp


def _weighted(values: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = ~np.isnan(values)
    w = np.where(ok, sizes[:, None], 0.0)
    wsum = w.sum(0)
    total = (np.where(ok, values, 0.0) * w).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wsum > 0, total / np.where(wsum > 0, wsum, 1.0), np.nan), wsum


def ltv_curves(tx: pd.DataFrame, *, channel_col: str | None = "channel", as_of: Any = None,
               max_months: int | None = None, min_customers: int = 1) -> LtvCurves:
    """Cumulative revenue per acquired customer by month of age, per channel (the input of payback).

    Reuses :func:`relmkt_helpers.realised_ltv_matrix` (monthly cohorts,
    incomplete cells NaN) and pools the cohorts of each channel weighted by
    their size. Compute it once; :func:`cac_payback` and :func:`ltv_to_cac` then
    rescale it by margin and CAC in microseconds (slider-friendly).

    Parameters
    ----------
    tx : DataFrame
        Canonical transactions.
    channel_col : str or None, default "channel"
        Acquisition-channel column (value on the first order); None or a column
        the data lacks gives the pooled curve only.
    as_of : date-like, optional
        Inclusive; default the last order date.
    max_months : int, optional
        Keep ages ``0 .. max_months``.
    min_customers : int, default 1
        Blank (NaN) ages backed by fewer acquired customers than this.

    Returns
    -------
    LtvCurves

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-03-10"]), "amount": [10.0, 20.0, 5.0]})
    >>> ltv_curves(tx, channel_col=None, as_of="2024-03-31").revenue["all"].tolist()
    [15.0, 15.0, 17.5]
    """
    tx = check_tx(tx)
    min_customers = int(check_number(min_customers, "min_customers", lo=0.0))
    seg = channel_col if (channel_col is not None and channel_col in tx.columns) else None
    res = realised_ltv_matrix(tx, period="M", as_of=as_of, segment=seg, max_periods=max_months)
    values = res.matrix.to_numpy(dtype=np.float64)
    sizes = res.sizes.to_numpy(dtype=np.float64)
    cols, counts = {}, {}
    if seg is not None:
        labels = res.matrix.index.get_level_values(0)
        for lab in sorted(pd.unique(labels), key=str):
            mask = np.asarray(labels == lab)
            cols[str(lab)], counts[str(lab)] = _weighted(values[mask], sizes[mask])
    cols[ALL], counts[ALL] = _weighted(values, sizes)
    index = pd.Index(np.asarray(res.matrix.columns, dtype=np.int64), name="periods_since_acquisition")
    revenue = pd.DataFrame(cols, index=index)
    customers = pd.DataFrame(counts, index=index).astype(np.int64)
    revenue = revenue.where(customers >= max(min_customers, 1))
    revenue.columns.name = customers.columns.name = "channel"
    return LtvCurves(revenue=revenue, customers=customers, as_of=res.as_of)


@dataclass(frozen=True, eq=False)
class PaybackResult:
    """Result of :func:`cac_payback`.

    Attributes
    ----------
    curves : DataFrame
        Cumulative **margin** per acquired customer, index ``month_of_life``
        (1 = the acquisition month, 2 = the month after, ...), one column per channel.
    summary : DataFrame
        Per channel: ``cac``, ``payback_months`` (the first ``month_of_life``
        whose cumulative margin reaches the CAC; NaN "not within data"),
        ``months_observed``, ``margin_at_last_month``, ``note``, ``basis``.
    margin_rate : float
        Gross margin as a share of revenue (an assumption).
    cac_basis : str
        "measured" or "assumed".
    """

    curves: pd.DataFrame
    summary: pd.DataFrame
    margin_rate: float
    cac_basis: str

    def _repr_html_(self) -> str:
        return self.summary._repr_html_()


def _cac_map(cac: Any, channels: list[str], cac_basis: str | None) -> tuple[pd.Series, str]:
    if isinstance(cac, pd.DataFrame):
        if not {"channel", "cac"} <= set(cac.columns):
            raise ParameterError("cac as a DataFrame must be the table of cac_by_channel() (columns 'channel', 'cac').")
        values, basis = cac.set_index("channel")["cac"].astype(float), "measured"
    elif isinstance(cac, (Mapping, pd.Series)):
        values, basis = pd.Series(dict(cac), dtype=float), "assumed"
    else:
        v = float(check_number(cac, "cac", lo=0.0, hint=" Pass the acquisition cost per new customer, >= 0."))
        values, basis = pd.Series(v, index=channels, dtype=float), "assumed"
    if cac_basis is not None:
        basis = check_choice("cac_basis", cac_basis, ("measured", "assumed"))
    return values.reindex(channels), basis


def cac_payback(curves: LtvCurves, cac: Any, *, margin_rate: float, cac_basis: str | None = None) -> PaybackResult:
    """CAC payback in months: when the cumulative margin per acquired customer covers the CAC.

    ``payback_months`` is the first month of life ``n`` (1 = the acquisition
    month itself, so ``n`` months of margin) for which ``margin_rate *
    cumulative revenue per acquired customer`` (the realised curve of
    :func:`ltv_curves`, size-weighted across cohorts) is at least the CAC; NaN
    with the note "not within data" when the curve never gets there. It is a
    gross-margin payback: retention spend is not deducted.

    Parameters
    ----------
    curves : LtvCurves
        From :func:`ltv_curves`.
    cac : float, dict, Series or DataFrame
        One CAC for every channel (float), per channel (dict/Series), or the
        :func:`cac_by_channel` table (its ``cac`` column by channel).
    margin_rate : float
        Gross margin as a share of revenue, in (0, 1] (an assumption).
    cac_basis : {"measured", "assumed"}, optional
        Overrides the default label: "measured" for a :func:`cac_by_channel`
        table, "assumed" otherwise.

    Returns
    -------
    PaybackResult

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-03-10"]), "amount": [10.0, 20.0, 5.0]})
    >>> curves = ltv_curves(tx, channel_col=None, as_of="2024-03-31")
    >>> p = cac_payback(curves, 8.5, margin_rate=0.5)
    >>> p.curves["all"].tolist(), p.summary.loc[0, "payback_months"]
    ([7.5, 7.5, 8.75], np.float64(3.0))
    """
    if not isinstance(curves, LtvCurves):
        raise ParameterError(f"curves must be the LtvCurves of ltv_curves(tx), got {type(curves).__name__}.")
    mr = float(check_number(margin_rate, "margin_rate", lo=0.0, hi=1.0, lo_open=True,
                            hint=" Pass the gross margin as a share of revenue (30 % -> 0.3)."))
    channels = [str(c) for c in curves.revenue.columns]
    cacs, basis = _cac_map(cac, channels, cac_basis)
    margin = curves.revenue * mr
    margin.index = pd.Index(margin.index.to_numpy() + 1, name="month_of_life")
    vals = margin.to_numpy()
    c = cacs.to_numpy()
    reached = vals >= c[None, :]
    any_reached = reached.any(0)
    first = np.where(any_reached, reached.argmax(0) + 1, 0)
    observed = (~np.isnan(vals)).sum(0)
    last_idx = np.array([np.flatnonzero(~np.isnan(vals[:, j]))[-1] if observed[j] else -1
                         for j in range(vals.shape[1])])
    last_val = np.array([vals[i, j] if i >= 0 else np.nan for j, i in enumerate(last_idx)])
    notes = []
    for j, ch in enumerate(channels):
        if np.isnan(c[j]):
            notes.append("no CAC for this channel")
        elif not any_reached[j]:
            share = last_val[j] / c[j] if c[j] > 0 else np.nan
            notes.append(f"not within data: cumulative margin reaches {share:.0%} of CAC after "
                         f"{int(last_idx[j] + 1)} months")
        else:
            notes.append("")
    summary = pd.DataFrame({
        "channel": channels, "cac": c, "payback_months": np.where(any_reached, first, np.nan),
        "months_observed": last_idx + 1, "margin_at_last_month": last_val, "note": notes,
        "basis": "assumed: " + ("cac, margin_rate" if basis == "assumed" else "margin_rate"),
    })
    return PaybackResult(curves=margin, summary=summary, margin_rate=mr, cac_basis=basis)


def ltv_to_cac(tx: pd.DataFrame | None, cac: Any, *, margin_rate: float, clv: pd.Series | pd.DataFrame | None = None,
               horizon_months: int = 12, curves: LtvCurves | None = None, channel_col: str | None = "channel",
               as_of: Any = None, clv_is_revenue: bool = False, cac_basis: str | None = None) -> pd.DataFrame:
    """LTV:CAC per channel, with the LTV used named in ``ltv_basis``.

    The LTV is, in order of preference:

    1. **a CLV per customer** (``clv``: a Series indexed by ``customer_id``, or
       the DataFrame of ``relmkt_helpers.clv.customer_value`` with a ``clv``
       column): the mean over the channel's customers. It is used as given (a
       margin, unless ``clv_is_revenue=True``, then times ``margin_rate``).
       For LTV:CAC it should be the value of a **new** customer: a model's
       expected *future* value of existing customers leaves out what they have
       already bought.
    2. otherwise the **realised margin LTV**: ``margin_rate`` times the
       cumulative revenue per acquired customer over the first
       ``horizon_months`` months of life (the acquisition month counted as the
       first), from :func:`ltv_curves`. NaN when the data is shorter.

    Parameters
    ----------
    tx : DataFrame or None
        Canonical transactions (needed for ``clv``, or to build ``curves``).
    cac : float, dict, Series or DataFrame
        As in :func:`cac_payback`.
    margin_rate : float
        Gross margin as a share of revenue, in (0, 1].
    clv : Series or DataFrame, optional
        CLV per customer (above).
    horizon_months : int, default 12
        Months of life summed in the realised LTV.
    curves : LtvCurves, optional
        Precomputed :func:`ltv_curves` (saves recomputing on slider moves).
    channel_col, as_of
        As in :func:`ltv_curves`.
    clv_is_revenue : bool, default False
        The CLV input is revenue: multiply it by ``margin_rate``.
    cac_basis : {"measured", "assumed"}, optional
        As in :func:`cac_payback`.

    Returns
    -------
    DataFrame
        Per channel, ``"all"`` last: ``channel``, ``ltv``, ``ltv_basis``,
        ``customers``, ``cac``, ``ltv_cac``, ``basis`` (what is assumed),
        ``note``.

    Examples
    --------
    >>> import pandas as pd
    >>> tx = pd.DataFrame({"customer_id": ["a", "b", "a"],
    ...     "order_date": pd.to_datetime(["2024-01-05", "2024-01-31", "2024-03-10"]), "amount": [10.0, 20.0, 5.0]})
    >>> t = ltv_to_cac(tx, 5.0, margin_rate=0.5, horizon_months=3, channel_col=None, as_of="2024-03-31")
    >>> t[["ltv", "cac", "ltv_cac"]].iloc[0].tolist()
    [8.75, 5.0, 1.75]
    >>> ltv_to_cac(tx, 5.0, margin_rate=0.5, clv=pd.Series({"a": 40.0, "b": 20.0}), channel_col=None).loc[0, "ltv_cac"]
    np.float64(6.0)
    """
    mr = float(check_number(margin_rate, "margin_rate", lo=0.0, hi=1.0, lo_open=True,
                            hint=" Pass the gross margin as a share of revenue (30 % -> 0.3)."))
    if clv is not None:
        if tx is None:
            raise ParameterError("ltv_to_cac with clv= needs tx, to find each customer's acquisition channel.")
        tx = check_tx(tx)
        if not isinstance(tx, pd.DataFrame):
            raise ParameterError("ltv_to_cac with clv= maps each customer to a channel on the pandas path; pass "
                                 "orders.to_pandas(), or leave clv out (the realised curves run in the engine).")
        if isinstance(clv, pd.DataFrame):
            if "clv" not in clv.columns:
                raise ParameterError("clv as a DataFrame needs a 'clv' column indexed by customer_id "
                                     "(the output of relmkt_helpers.clv.customer_value).")
            clv = clv["clv"]
        if not isinstance(clv, pd.Series):
            raise ParameterError(f"clv must be a Series of CLV indexed by customer_id, got {type(clv).__name__}.")
        if not clv.index.is_unique:
            raise ParameterError("clv: customer ids repeat in the index; pass one CLV per customer.")
        seg = channel_col if (channel_col is not None and channel_col in tx.columns) else None
        if as_of is not None:
            tx = tx[tx["order_date"] <= pd.Timestamp(as_of)]
        cust, first_rows, labels, codes = customer_channels(tx, seg)
        ids = tx["customer_id"].to_numpy()[first_rows].astype(str)
        values = pd.Series(clv.to_numpy(dtype=np.float64), index=clv.index.astype(str)).reindex(ids).to_numpy()
        if clv_is_revenue:
            values = values * mr
        known = ~np.isnan(values)
        if not known.any():
            raise DataValidationError("clv: none of its customer ids is in the transactions. Pass the CLV of the "
                                      "same customers (index = customer_id).")
        chans = labels + ([ALL] if labels != [ALL] else [])
        ltv, n = [], []
        for j, ch in enumerate(chans):
            mask = known & ((codes == j) if ch != ALL or labels == [ALL] else True)
            n.append(int(mask.sum()))
            ltv.append(float(values[mask].mean()) if mask.any() else np.nan)
        ltv_basis = "clv input" + (" x margin_rate" if clv_is_revenue else "") + ": mean over the channel's customers"
        assumed_margin = clv_is_revenue
    else:
        h = check_number(horizon_months, "horizon_months", lo=1.0)
        if not float(h).is_integer():
            raise ParameterError(f"horizon_months={horizon_months!r} must be a whole number of months >= 1.")
        h = int(h)
        if curves is None:
            if tx is None:
                raise ParameterError("ltv_to_cac needs tx or curves= (from ltv_curves) for the realised LTV.")
            curves = ltv_curves(tx, channel_col=channel_col, as_of=as_of)
        chans = [str(c) for c in curves.revenue.columns]
        rev = curves.revenue
        ltv = [float(rev[ch].iloc[h - 1]) * mr if h - 1 < len(rev) else np.nan for ch in chans]
        n = [int(curves.customers[ch].iloc[h - 1]) if h - 1 < len(rev) else 0 for ch in chans]
        ltv_basis = f"realised margin, first {h} months of life"
        assumed_margin = True
    cacs, basis = _cac_map(cac, chans, cac_basis)
    out = pd.DataFrame({"channel": chans, "ltv": ltv, "ltv_basis": ltv_basis, "customers": n,
                        "cac": cacs.to_numpy()})
    with np.errstate(divide="ignore", invalid="ignore"):
        out["ltv_cac"] = out["ltv"] / out["cac"].where(out["cac"] > 0)
    parts = (["cac"] if basis == "assumed" else []) + (["margin_rate"] if assumed_margin else [])
    out["basis"] = "assumed: " + ", ".join(parts) if parts else "measured"
    out["note"] = np.select([out["cac"].isna(), out["ltv"].isna(), out["cac"] == 0],
                            ["no CAC for this channel", "LTV undefined (data shorter than the horizon?)",
                             "CAC is 0: ratio undefined"], "")
    return out
