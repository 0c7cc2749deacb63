"""The transaction data contract: load anything, return the canonical frame or a clear error.

:func:`load_transactions` is the one door through which transaction data enters
the kit. It validates once, at the edge, so that every analysis can trust its
input. It returns the canonical frame and a :class:`RowLedger` that accounts for
every input row, used or dropped, with the reason.

The canonical frame has **one row per order**:

==============  ===================================================================
column          meaning
==============  ===================================================================
customer_id     string
order_date      ``datetime64[ns]``, tz-naive, normalised to midnight (a calendar day)
amount          float64, the order's net value (refunds netted, see below)
order_id        string; where the data has no order ids, one order is one
                (customer, day) pair and the id is ``"<customer>|<YYYY-MM-DD>"``
...             any other input column, first value seen for the order
==============  ===================================================================

Policies (all explicit parameters, all counted in the ledger, none silent):

* **Line items**: rows sharing an order id are summed into one order, dated by
  the earliest row.
* **Refunds** (negative amounts), ``refunds=``:
  ``"net"`` (default) subtracts them from their order; an order whose net value
  is zero or less was fully refunded and is dropped. A refund row without an
  order id cannot be matched and is dropped. ``"drop"`` ignores all negative
  rows (gross revenue). ``"error"`` raises.
* **Exact duplicate rows** (every column equal), ``duplicates=``: ``"auto"``
  (default) drops repeats when the data has order ids (a repeated line with the
  same order id is a double export) and keeps them when it has none (two equal
  rows may be two equal purchases on one day; they sum into that customer-day
  order). ``"drop"`` keeps the first, ``"keep"`` keeps all, ``"error"`` raises.
* **Zero amounts** are kept: a free order (sample, voucher) is still a purchase.
* **Invalid rows** (missing customer id, unparseable date, non-numeric
  amount), ``on_invalid=``: ``"error"`` (default) raises naming the rows,
  ``"drop"`` drops them into the ledger.
* **Rows after** ``as_of``, ``after_as_of=``: ``"error"`` (default; usually a
  typo such as 2052) or ``"drop"`` (analysing a past month on a longer log).
* **Time zones**: naive timestamps are taken as local days. Timestamps that
  all carry the same UTC offset are read as local wall time in that offset.
  Different offsets in one column raise unless ``timezone=`` names the zone
  whose local calendar day to use. A mix of naive and zoned values raises.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ._arrays import factorize_ids
from ._dates import _parse_dates
from ._messages import (_MAX_SHOWN, _describe, _opt, _show_rows, invalid_fixes, msg_duplicates, msg_invalid,
                        msg_late, msg_missing_order_id, msg_most_dates_bad, msg_no_orders, msg_refunds,
                        msg_shared_orders)
from ._read import _read_raw, read_table, resolve_column
from .errors import DataValidationError, ParameterError

__all__ = [
    "RowLedger", "LoadedTransactions", "load_transactions", "load_spend", "load_subscriptions",
    "read_table", "resolve_column", "save_canonical", "is_canonical", "open_transactions",
]

CANONICAL_COLUMNS = ("customer_id", "order_date", "amount", "order_id")
#: Parquet schema-metadata key that marks a file written by :func:`save_canonical`.
CANONICAL_KEY = b"relmkt.canonical"
_CANONICAL_VERSION = 1
#: Arrow-backed strings: vectorised string and regex kernels (the "python" storage loops per element).
_STR = pd.StringDtype("pyarrow")


@dataclass
class RowLedger:
    """Accounts for every input row: used, or dropped with a reason.

    Attributes
    ----------
    source : str
        What was read (a path, or ``"<DataFrame>"``).
    rows_read : int
        Data rows in the input (a CSV header is not a row).
    rows_used : int
        Input rows that contributed to an order in the canonical frame.
    dropped : dict
        Reason -> number of input rows dropped for it.
    policies : dict
        The policy applied for refunds, duplicates, invalid rows and ``as_of``.
    orders, customers : int
        Size of the canonical frame.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"order_id": ["o1", "o1", "o2"], "customer_id": ["a", "a", "b"],
    ...                     "order_date": ["2024-01-01"] * 3, "amount": [10.0, 10.0, 5.0]})
    >>> tx, ledger = load_transactions(raw)
    >>> ledger.rows_read, ledger.rows_used, ledger.dropped
    (3, 2, {'exact duplicate row': 1})
    """

    source: str
    rows_read: int = 0
    rows_used: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    policies: dict[str, str] = field(default_factory=dict)
    orders: int = 0
    customers: int = 0
    first_date: str | None = None
    last_date: str | None = None
    refund_rows_netted: int = 0

    def drop(self, reason: str, n: int) -> None:
        """Record ``n`` rows dropped for ``reason`` (no-op for zero)."""
        if n:
            self.dropped[reason] = self.dropped.get(reason, 0) + int(n)

    @property
    def rows_dropped(self) -> int:
        """Total rows dropped, all reasons."""
        return sum(self.dropped.values())

    def check_balanced(self) -> None:
        """Raise if any row is unaccounted for (an internal consistency check)."""
        if self.rows_used + self.rows_dropped != self.rows_read:
            raise AssertionError(
                f"row ledger does not balance: {self.rows_read} read != {self.rows_used} used "
                f"+ {self.rows_dropped} dropped"
            )

    def to_frame(self) -> pd.DataFrame:
        """The ledger as a table: one row for used rows and one per drop reason."""
        rows = [("used", self.rows_used)] + [(f"dropped: {k}", v) for k, v in self.dropped.items()]
        out = pd.DataFrame(rows, columns=["rows", "count"])
        out["share"] = out["count"] / max(self.rows_read, 1)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (used by ``metrics.json`` and ``relmkt validate --json``)."""
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_dropped": self.rows_dropped,
            "dropped": dict(self.dropped),
            "policies": dict(self.policies),
            "orders": self.orders,
            "customers": self.customers,
            "first_date": self.first_date,
            "last_date": self.last_date,
            "refund_rows_netted": self.refund_rows_netted,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any], **policies: str) -> "RowLedger":
        """The ledger :meth:`to_dict` described, with ``policies`` added (e.g. where it was loaded from).

        Examples
        --------
        >>> led = RowLedger(source="a.csv", rows_read=3, rows_used=2, dropped={"bad": 1})
        >>> RowLedger.from_dict(led.to_dict(), loaded_from="canonical file").policies
        {'loaded_from': 'canonical file'}
        """
        return cls(source=d["source"], rows_read=d["rows_read"], rows_used=d["rows_used"], dropped=dict(d["dropped"]),
                   policies={**d["policies"], **policies}, orders=d["orders"], customers=d["customers"],
                   first_date=d["first_date"], last_date=d["last_date"], refund_rows_netted=d["refund_rows_netted"])

    def __str__(self) -> str:
        lines = [
            f"source      {self.source}",
            f"rows read   {self.rows_read:>12,}",
            f"rows used   {self.rows_used:>12,}",
        ]
        for reason, n in self.dropped.items():
            lines.append(f"  dropped   {n:>12,}  {reason}")
        lines += [
            f"orders      {self.orders:>12,}",
            f"customers   {self.customers:>12,}",
            f"dates       {self.first_date} .. {self.last_date}",
        ] + ([f"refunds     {self.refund_rows_netted:>12,}  rows netted into their orders"]
             if self.refund_rows_netted else []) + [
            "policies    " + ", ".join(f"{k}={v}" for k, v in self.policies.items()),
        ]
        return "\n".join(lines)


class LoadedTransactions(NamedTuple):
    """What :func:`load_transactions` returns: unpack as ``tx, ledger = ...``."""

    transactions: pd.DataFrame
    ledger: RowLedger


def _names_lines(source: Any) -> bool:
    """A text file's rows are named by line number; a Parquet file's and a DataFrame's by row (from 0)."""
    return isinstance(source, (str, Path)) and Path(source).suffix.lower() not in (".parquet", ".pq")


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ParameterError(f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}.")


def _exact_duplicates(raw: pd.DataFrame, key_codes: np.ndarray | None, ccol: str, dcol: str) -> pd.Series:
    """``raw.duplicated(keep="first")`` (rows equal in every column), computed on candidates only.

    Two equal rows have equal order ids (``key_codes``: the order-id codes, -1 for a
    missing id) or, without order ids, equal customer and date; so only rows whose key
    repeats can be duplicates. Hashing one or two columns instead of all of them saves
    seconds on 10M rows.
    """
    if key_codes is not None:
        counts = np.bincount(key_codes[key_codes >= 0]) if (key_codes >= 0).any() else np.zeros(1, np.int64)
        cand = (key_codes < 0) | (counts[np.maximum(key_codes, 0)] > 1)
    else:
        cand = raw.duplicated(subset=[ccol, dcol], keep=False).to_numpy()
    dup = np.zeros(len(raw), dtype=bool)
    if cand.any():
        dup[cand] = raw.loc[cand].duplicated(keep="first").to_numpy()
    return pd.Series(dup, index=raw.index)


def load_transactions(
    source: str | Path | pd.DataFrame,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
    order_col: str | None = None,
    as_of: str | pd.Timestamp | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    timezone: str | None = None,
    refunds: str = "net",
    duplicates: str = "auto",
    on_invalid: str = "error",
    after_as_of: str = "error",
    keep_cols: list[str] | None = None,
    prepared_path: str | Path | None = None,
    engine: str = "auto",
    memory_limit: str | int | None = None,
) -> LoadedTransactions:
    """Load a transaction log into the canonical one-row-per-order frame, with a row ledger.

    Parameters
    ----------
    source : str, Path or DataFrame
        CSV (optionally gzip/zip compressed), TSV or Parquet path, or a DataFrame.
    customer_col, date_col, amount_col : str
        Names of the customer id, order date and order amount columns in ``source``.
    order_col : str, optional
        Name of the order id column. Without it, one order is one (customer, day)
        pair: several rows for a customer on one day are summed into one order.
        If ``source`` has a column named ``order_id``, it is used automatically.
    as_of : date-like, optional
        The analysis date (inclusive: an order on ``as_of`` counts). Rows after it
        are handled by ``after_as_of``.
    date_format : str, optional
        ``strftime`` format of the date column. By default it is decided from the
        whole column (ISO, ``YYYYMMDD``, ``2024/12/31``, ``31/12/2024`` or ``12/31/2024``
        with optional time; see :mod:`relmkt_helpers._dates`) and recorded in
        ``ledger.policies["date_format"]``.
    dayfirst : bool, optional
        ``None`` (default): decide day-first vs month-first from the data (an error if
        every value is ambiguous). ``True``/``False`` forces it.
    timezone : str, optional
        IANA zone (``"Europe/Berlin"``) whose calendar day zoned timestamps are
        converted to. Required when the column mixes UTC offsets.
    refunds : {"net", "drop", "error"}
        Policy for negative amounts (see module docstring).
    duplicates : {"auto", "drop", "keep", "error"}
        Policy for rows equal in every column (``"auto"``: drop with order ids, keep without).
    on_invalid : {"error", "drop"}
        Policy for rows with a missing customer id, unparseable date or non-numeric amount.
    after_as_of : {"error", "drop"}
        Policy for rows dated after ``as_of``.
    keep_cols : list of str, optional
        Extra columns to carry (first value per order). Default: every other column.
    engine : {"auto", "pandas", "duckdb"}
        Who reads and validates ``source``. ``"duckdb"`` reads Parquet files, folders of Parquet
        files (hive partitions too) and globs where they lie, and DuckDB relations, and applies
        this same contract there (:mod:`relmkt_helpers.engine`); ``"auto"`` (default) uses it for
        folders, globs and relations and pandas for everything else.
    memory_limit : str or int, optional
        DuckDB's memory limit (``"4GB"``, ``"50%"``); default half of the machine. DuckDB spills
        beyond it to a temporary folder, removed afterwards.
    prepared_path : path, optional
        A canonical copy of ``source`` already validated with these options (``relmkt report``
        writes one per report and passes it to every notebook). Read instead of ``source``
        when the file exists; when it is gone (an executed notebook re-run later), ``source``
        is read with the options given, which gives the same frame.

    Returns
    -------
    LoadedTransactions
        ``(transactions, ledger)``: the canonical frame sorted by order date (input
        order kept within a day) and the :class:`RowLedger`.

    Raises
    ------
    DataValidationError
        Missing/empty/unreadable file, missing column (with the closest name), invalid
        rows (named, with line numbers), mixed time zones, rows after ``as_of``,
        refunds when ``refunds="error"``, an order id shared by two customers.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({
    ...     "customer_id": ["c1", "c1", "c2"],
    ...     "order_date": ["2024-01-05", "2024-01-05", "2024-02-01"],
    ...     "amount": [10.0, 5.0, 20.0],
    ... })
    >>> tx, ledger = load_transactions(raw)
    >>> tx[["customer_id", "order_date", "amount", "order_id"]].to_dict("list")["amount"]
    [15.0, 20.0]
    >>> ledger.rows_read, ledger.rows_used, ledger.orders
    (3, 3, 2)
    """
    _check_choice("refunds", refunds, ("net", "drop", "error"))
    _check_choice("duplicates", duplicates, ("auto", "drop", "keep", "error"))
    _check_choice("on_invalid", on_invalid, ("error", "drop"))
    _check_choice("after_as_of", after_as_of, ("error", "drop"))
    if prepared_path and Path(prepared_path).is_file() and is_canonical(prepared_path):
        source, customer_col, date_col, amount_col, order_col = Path(prepared_path), *CANONICAL_COLUMNS
        engine = "pandas"
    from .engine.api import resolve_engine

    if resolve_engine(source, engine) in ("duckdb", "spark"):
        from .engine.api import load_with_engine

        if dayfirst is not None:
            raise ParameterError(
                "dayfirst is applied by the pandas contract to text dates; pass engine='pandas' (command line: "
                "--engine pandas), or store the dates as a date or timestamp column.")
        return load_with_engine(source, engine=engine, memory_limit=memory_limit, customer_col=customer_col, date_col=date_col,
                                amount_col=amount_col, order_col=order_col, as_of=as_of, date_format=date_format,
                                timezone=timezone, refunds=refunds, duplicates=duplicates, on_invalid=on_invalid,
                                after_as_of=after_as_of, keep_cols=keep_cols)
    if isinstance(source, (str, Path)) and str(source).strip() and is_canonical(source):
        return _load_canonical(Path(source), customer_col=customer_col, date_col=date_col, amount_col=amount_col,
                               order_col=order_col, as_of=as_of, after_as_of=after_as_of, keep_cols=keep_cols)
    src = _describe(source)
    is_file = _names_lines(source)
    str_cols = tuple(c for c in (customer_col, order_col or "order_id") if c)
    raw = _read_raw(source, what="transactions", str_cols=str_cols)
    if isinstance(source, pd.DataFrame):
        raw = raw.reset_index(drop=True)
    ledger = RowLedger(source=src, rows_read=len(raw))
    if len(raw) == 0:
        raise DataValidationError(
            f"{src}: the transactions have a header but no rows. Export the data again, or check the filter that produced it."
        )
    ccol = resolve_column(raw, customer_col, role="customer id", source=src, param="customer_col", cli=True)
    dcol = resolve_column(raw, date_col, role="order date", source=src, param="date_col", cli=True)
    acol = resolve_column(raw, amount_col, role="amount", source=src, param="amount_col", cli=True)
    if order_col is None and "order_id" in raw.columns and "order_id" not in (ccol, dcol, acol):
        order_col = "order_id"
    ocol = resolve_column(raw, order_col, role="order id", source=src, param="order_col",
                          cli=True) if order_col else None
    if len({ccol, dcol, acol, ocol} - {None}) < len([c for c in (ccol, dcol, acol, ocol) if c]):
        raise ParameterError(f"{src}: the same column is used for two roles ({ccol}, {dcol}, {acol}, {ocol}).")

    # --- exact duplicates ------------------------------------------------
    if duplicates == "auto":
        # With order ids, a repeated row is a double export. Without them, two identical rows may be
        # two identical purchases on one day: keep them (they sum into that customer-day's order).
        duplicates = "drop" if ocol else "keep"
    oid = oid_codes = None
    if ocol:
        # one hash pass over the order ids serves the duplicate check and the line-item check below
        oid = raw[ocol].astype(_STR).str.strip()
        oid = oid.mask(oid == "")
        oid_codes = pd.factorize(oid)[0]
    dup = _exact_duplicates(raw, oid_codes, ccol, dcol)
    if dup.any():
        if duplicates == "error":
            raise DataValidationError(msg_duplicates(src, int(dup.sum()), _show_rows(raw, dup, ccol, is_file)))
        if duplicates == "drop":
            ledger.drop("exact duplicate row", int(dup.sum()))
    keep = ~dup if duplicates == "drop" else pd.Series(True, index=raw.index)
    ledger.policies = {"refunds": refunds, "duplicates": duplicates, "on_invalid": on_invalid,
                       "after_as_of": after_as_of, "orders": "order id" if ocol else "customer-day"}
    if timezone:
        ledger.policies["timezone"] = timezone
    read_info = raw.attrs.get("relmkt", {})
    for key, usual in (("delimiter", ","), ("encoding", "utf-8")):
        if read_info.get(key, usual) != usual:
            ledger.policies[key] = read_info[key]

    # --- parse the three (four) contract columns ---------------------------
    cust = raw[ccol].astype(_STR).str.strip()
    cust = cust.mask(cust == "")
    dates, out_of_range, ledger.policies["date_format"] = _parse_dates(
        raw[dcol], source=src, col=dcol, is_file=is_file, date_format=date_format, dayfirst=dayfirst,
        timezone=timezone, frame=raw)
    if pd.api.types.is_numeric_dtype(raw[acol]) and not pd.api.types.is_bool_dtype(raw[acol]):
        amount = raw[acol].astype("float64")
    else:
        amount = pd.to_numeric(raw[acol].astype(_STR).str.strip(), errors="coerce").astype("float64")
    fixes = invalid_fixes(ccol, ledger.policies["date_format"])
    problems = [
        ("missing customer id", cust.isna(), ccol),
        ("date out of range", out_of_range, dcol),
        ("unparseable date", dates.isna(), dcol),
        ("non-numeric amount", amount.isna() | ~np.isfinite(amount.to_numpy(dtype="float64", na_value=np.nan)), acol),
    ]
    invalid = pd.Series(False, index=raw.index)
    for reason, bad, col in problems:
        bad = bad & keep & ~invalid
        if bad.any():
            if reason == "unparseable date" and on_invalid == "drop" and 2 * int(bad.sum()) > len(raw):
                raise DataValidationError(msg_most_dates_bad(
                    src, col, int(bad.sum()), len(raw), ledger.policies["date_format"], _show_rows(raw, bad, col, is_file)))
            if on_invalid == "error":
                raise DataValidationError(
                    msg_invalid(src, col, int(bad.sum()), reason, _show_rows(raw, bad, col, is_file), fixes[reason]))
            ledger.drop(reason, int(bad.sum()))
            invalid |= bad
    keep &= ~invalid

    if as_of is not None:
        as_of_ts = pd.Timestamp(as_of).normalize()
        late = keep & (dates > as_of_ts)
        if late.any():
            if after_as_of == "error":
                raise DataValidationError(
                    msg_late(src, dcol, int(late.sum()), as_of_ts.date(), _show_rows(raw, late, dcol, is_file)))
            ledger.drop(f"dated after as_of {as_of_ts.date()}", int(late.sum()))
            keep &= ~late

    # --- refunds ---------------------------------------------------------------
    neg = keep & (amount < 0)
    if neg.any():
        if refunds == "error":
            raise DataValidationError(msg_refunds(src, acol, int(neg.sum()), _show_rows(raw, neg, acol, is_file)))
    frame = pd.DataFrame({"customer_id": cust, "order_date": dates, "amount": amount})
    extra = [c for c in raw.columns if c not in (ccol, dcol, acol, ocol)] if keep_cols is None else list(keep_cols)
    for c in extra:
        resolve_column(raw, c, role="extra", source=src, param="keep_cols")
        if c in CANONICAL_COLUMNS:
            continue
        frame[c] = raw[c]
    if ocol:
        missing_oid = keep & oid.isna()
        neg_missing = missing_oid & neg
        pos_missing = missing_oid & ~neg
        if pos_missing.any():
            if on_invalid == "error":
                raise DataValidationError(msg_missing_order_id(
                    src, ocol, int(pos_missing.sum()), _show_rows(raw, pos_missing, ccol, is_file)))
            ledger.drop("missing order id", int(pos_missing.sum()))
            keep &= ~pos_missing
        if refunds == "net" and neg_missing.any():
            ledger.drop("refund without order id (cannot be matched)", int(neg_missing.sum()))
            keep &= ~neg_missing
        frame["order_id"] = oid
    else:
        frame["order_id"] = cust + "|" + dates.dt.strftime("%Y-%m-%d")
        if refunds == "net" and neg.any():
            # Without order ids a refund cannot be matched to its purchase.
            ledger.drop("refund without order id (cannot be matched)", int(neg.sum()))
            keep &= ~neg
    if refunds == "drop" and neg.any():
        ledger.drop("refund (negative amount) ignored", int((neg & keep).sum()))
        keep &= ~neg

    if oid_codes is not None:
        kept = oid_codes[keep.to_numpy()]
        line_items = kept.size > 0 and bool(np.bincount(kept).max() > 1)  # kept rows all have an id
    frame = frame[keep]
    if oid_codes is None:
        line_items = bool(frame["order_id"].duplicated().any())
    # --- collapse to one row per order ----------------------------------------
    if line_items:
        owners = frame.groupby("order_id", sort=False)["customer_id"].nunique()
        shared = owners[owners > 1]
        if len(shared):
            raise DataValidationError(msg_shared_orders(src, len(shared), list(shared.index[:_MAX_SHOWN]), ocol))
        is_refund_row = frame["amount"] < 0
        g = frame.groupby("order_id", sort=False)
        agg = {"customer_id": "first", "amount": "sum"}
        agg.update({c: "first" for c in frame.columns if c not in ("customer_id", "order_date", "amount", "order_id")})
        # An order is dated by its earliest purchase row (a refund never moves it).
        purchase_date = frame["order_date"].where(~is_refund_row)
        out = g.agg(agg)
        out["order_date"] = purchase_date.groupby(frame["order_id"], sort=False).min()
        netted = int(is_refund_row.sum())
        refund_only = out["order_date"].isna()
        if refund_only.any():
            # refund rows whose order has no purchase row in this extract
            n_rows = int(frame["order_id"].isin(out.index[refund_only]).sum())
            ledger.drop("refund whose order is not in the data", n_rows)
            netted -= n_rows
            out = out[~refund_only]
        rows_per_order = frame.groupby("order_id", sort=False).size()
        had_refund = is_refund_row.groupby(frame["order_id"], sort=False).any().reindex(out.index)
        full = (out["amount"] <= 0) & had_refund  # a $0 order without refunds is a free order, kept
        if full.any():
            n_rows = int(rows_per_order[out.index[full]].sum())
            ledger.drop("order fully refunded (net amount <= 0)", n_rows)
            netted -= int(is_refund_row[frame["order_id"].isin(out.index[full])].sum())
            out = out[~full]
        ledger.refund_rows_netted = max(netted, 0)
        out = out.reset_index()
        ledger.rows_used = int(rows_per_order[out["order_id"]].sum())
    else:
        out = frame.reset_index(drop=True)
        if refunds == "net" and (out["amount"] < 0).any():
            # A negative row that is its own order (unique id): a refund of an order not in the data.
            orphan = out["amount"] < 0
            ledger.drop("refund whose order is not in the data", int(orphan.sum()))
            out = out[~orphan].reset_index(drop=True)
        ledger.rows_used = len(out)
    cols = list(CANONICAL_COLUMNS) + [c for c in out.columns if c not in CANONICAL_COLUMNS]
    out = out[cols].sort_values("order_date", kind="stable").reset_index(drop=True)
    out["customer_id"] = out["customer_id"].astype(_STR)
    out["order_id"] = out["order_id"].astype(_STR)
    out["amount"] = out["amount"].astype("float64")
    out["order_date"] = out["order_date"].astype("datetime64[ns]")
    if len(out) == 0:
        raise DataValidationError(msg_no_orders(src, ledger.dropped, as_of))
    ledger.orders = len(out)
    ledger.customers = len(factorize_ids(out["customer_id"])[1])  # remembered for the analyses
    ledger.first_date = str(out["order_date"].iloc[0].date())
    ledger.last_date = str(out["order_date"].iloc[-1].date())
    ledger.check_balanced()
    return LoadedTransactions(out, ledger)


# ----------------------------------------------------------------------------
# the canonical file: validate once, re-load in half a second
# ----------------------------------------------------------------------------

def open_transactions(source: Any, *, engine: str = "auto", prepared_path: str | Path | None = None,
                      memory_limit: Any = None, **contract: Any):
    """The transactions for an analysis that can run in the engine: a canonical frame, or orders kept in DuckDB.

    See :func:`relmkt_helpers.engine.api.open_transactions` (imported on first use, so that
    ``import relmkt_helpers`` does not load DuckDB).

    Examples
    --------
    >>> from relmkt_helpers import config
    >>> tx, ledger = open_transactions(config.SAMPLE_TRANSACTIONS)  # one CSV: a pandas frame, as load_transactions
    >>> type(tx).__name__, ledger.customers
    ('DataFrame', 20000)
    """
    from .engine.api import open_transactions as _open

    return _open(source, engine=engine, prepared_path=prepared_path, memory_limit=memory_limit, **contract)


def save_canonical(tx: pd.DataFrame, ledger: RowLedger, path: str | Path) -> Path:
    """Write a canonical frame and its row ledger to one Parquet file, for fast re-loading.

    :func:`load_transactions` recognises the file (by a key in its Parquet
    metadata) and returns the frame and the ledger as they were saved, without
    validating the rows again: on 10M orders that is about 0.5 s instead of 15 s.
    ``relmkt report`` uses it to load and validate the data once and hand every
    notebook the same canonical frame; an analyst can use it to cache a large log.

    The policies (refunds, duplicates, invalid rows, ``as_of``) are those applied
    when ``tx`` was loaded, and they travel in the ledger. The file cannot be cut
    at an earlier ``as_of`` (its refunds are already netted into their orders):
    save one file per analysis date instead.

    Parameters
    ----------
    tx, ledger
        What :func:`load_transactions` returned.
    path : path
        Where to write (``.parquet``); the parent folder must exist.

    Returns
    -------
    Path
        ``path``.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> raw = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [5.0, -2.0, 4.0],
    ...                     "order_date": ["2024-01-02", "2024-01-02", "2024-01-03"]})
    >>> tx, ledger = load_transactions(raw, order_col=None, refunds="drop")
    >>> path = save_canonical(tx, ledger, tempfile.mkdtemp() + "/tx.parquet")
    >>> tx2, ledger2 = load_transactions(path)
    >>> tx2.equals(tx), ledger2.dropped == ledger.dropped, is_canonical(path)
    (True, True, True)
    """
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    missing = [c for c in CANONICAL_COLUMNS if c not in tx.columns]
    if missing or not isinstance(ledger, RowLedger):
        raise ParameterError("save_canonical needs the (transactions, ledger) pair returned by load_transactions"
                             + (f"; the frame lacks {missing}" if missing else "") + ".")
    table = pa.Table.from_pandas(tx, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[CANONICAL_KEY] = json.dumps({"version": _CANONICAL_VERSION, "ledger": ledger.to_dict()}).encode()
    path = Path(path)
    # microseconds: Spark refuses nanosecond timestamps (PARQUET_TYPE_ILLEGAL), and dates need no more
    pq.write_table(table.replace_schema_metadata(meta), path, coerce_timestamps="us", allow_truncated_timestamps=True)
    return path


def is_canonical(path: str | Path) -> bool:
    """Whether ``path`` is a Parquet file written by :func:`save_canonical` (reads only the footer).

    Examples
    --------
    >>> from relmkt_helpers import config
    >>> is_canonical(config.SAMPLE_TRANSACTIONS)  # the bundled CSV: validated on every load
    False
    """
    path = Path(path)
    if path.suffix.lower() not in (".parquet", ".pq") or not path.is_file() or path.stat().st_size == 0:
        return False
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception:  # unreadable: let read_table report it
        return False
    return CANONICAL_KEY in meta


def _load_canonical(path: Path, *, customer_col: str, date_col: str, amount_col: str, order_col: str | None,
                    as_of: Any, after_as_of: str, keep_cols: list[str] | None) -> LoadedTransactions:
    import json

    import pyarrow.parquet as pq

    src = _describe(path)
    given = {"customer_col": (customer_col, "customer_id"), "date_col": (date_col, "order_date"),
             "amount_col": (amount_col, "amount"), "order_col": (order_col or "order_id", "order_id")}
    renamed = [f"{k}={v!r}" for k, (v, want) in given.items() if v != want]
    if renamed:
        raise ParameterError(
            f"{src} is a canonical relmkt file (written by save_canonical): its columns are already "
            f"customer_id, order_date, amount and order_id, but {', '.join(renamed)} was passed. "
            "Leave the column names at their defaults.")
    info = json.loads(pq.read_schema(path).metadata[CANONICAL_KEY])
    if info.get("version") != _CANONICAL_VERSION:
        raise DataValidationError(f"{src} was written by another relmkt version (canonical format "
                                  f"{info.get('version')}, this one reads {_CANONICAL_VERSION}). Load the source "
                                  "file again and save_canonical it with this version.")
    columns = None if keep_cols is None else list(CANONICAL_COLUMNS) + [c for c in keep_cols
                                                                         if c not in CANONICAL_COLUMNS]
    try:
        table = pq.read_table(path, columns=columns)
    except (OSError, ValueError, KeyError) as exc:
        raise DataValidationError(f"transactions file {path} could not be read as Parquet: {exc}.") from None
    tx = table.to_pandas(self_destruct=True, split_blocks=True)
    del table
    # one set of types whoever wrote the file (pandas here, or the engine's write_canonical)
    for col in ("customer_id", "order_id"):
        if tx[col].dtype != pd.StringDtype("pyarrow"):
            tx[col] = tx[col].astype(pd.StringDtype("pyarrow"))
    if tx["order_date"].dtype != "datetime64[ns]":
        tx["order_date"] = tx["order_date"].astype("datetime64[ns]")
    _release_arrow_memory()
    d = info["ledger"]
    ledger = RowLedger.from_dict(d, loaded_from="canonical file")
    if as_of is not None and ledger.last_date is not None:
        as_of_ts = pd.Timestamp(as_of).normalize()
        if pd.Timestamp(ledger.last_date) > as_of_ts:
            late = int((tx["order_date"] > as_of_ts).sum())
            raise DataValidationError(
                f"{src} is a canonical relmkt file whose orders run to {ledger.last_date}; {late:,} are dated after "
                f"as_of {as_of_ts.date()}. A canonical file cannot be cut at an earlier date (its refunds are "
                "already netted): load the source file with this as_of, or save one canonical file per date.")
    return LoadedTransactions(tx, ledger)


def _release_arrow_memory() -> None:
    """Hand Arrow's freed buffers back to the system (about 300 MB at 10M orders)."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()


# ----------------------------------------------------------------------------
# the two optional inputs: marketing-spend ledger and subscription table
# ----------------------------------------------------------------------------

SPEND_KINDS = ("acquisition", "retention")


def load_spend(
    source: str | Path | pd.DataFrame,
    *,
    month_col: str = "month",
    channel_col: str = "channel",
    kind_col: str = "kind",
    spend_col: str = "spend",
) -> pd.DataFrame:
    """Load a monthly marketing-spend ledger.

    One row per (month, channel, kind). ``kind`` is ``"acquisition"`` (spend to win
    new customers) or ``"retention"`` (spend on existing customers: CRM, loyalty,
    win-back). ``month`` is ``YYYY-MM`` or any date inside the month.

    Parameters
    ----------
    source : path or DataFrame
    month_col, channel_col, kind_col, spend_col : str
        Column names in ``source``.

    Returns
    -------
    DataFrame
        Columns ``month`` (``Period[M]``), ``channel`` (string), ``kind`` (string),
        ``spend`` (float64, >= 0), in input order; rows for the same
        (month, channel, kind) are summed.

    Raises
    ------
    DataValidationError
        Missing file or column, unparseable month, unknown kind, negative or
        non-numeric spend (rows named).

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"month": ["2024-01", "2024-01"], "channel": ["search", "search"],
    ...                     "kind": ["acquisition", "retention"], "spend": [1000, 200.5]})
    >>> load_spend(raw)["spend"].sum()
    np.float64(1200.5)
    """
    src = _describe(source)
    is_file = _names_lines(source)
    raw = _read_raw(source, what="spend ledger", str_cols=(month_col, channel_col, kind_col))
    if isinstance(source, pd.DataFrame):
        raw = raw.reset_index(drop=True)
    if len(raw) == 0:
        raise DataValidationError(f"{src}: the spend ledger has a header but no rows.")
    cols = {role: resolve_column(raw, name, role=role, source=src, param=param) for role, name, param in (
        ("month", month_col, "month_col"), ("channel", channel_col, "channel_col"),
        ("kind", kind_col, "kind_col"), ("spend", spend_col, "spend_col"))}
    month_text = raw[cols["month"]].astype(_STR).str.strip()
    parsed = pd.to_datetime(month_text, format="%Y-%m", errors="coerce")
    parsed = parsed.fillna(pd.to_datetime(month_text, errors="coerce", format="ISO8601"))
    bad = parsed.isna()
    if bad.any():
        raise DataValidationError(
            f"{src}: column {cols['month']!r} has {int(bad.sum()):,} values that are not months "
            f"({_show_rows(raw, bad, cols['month'], is_file)}). Use YYYY-MM, e.g. 2024-03."
        )
    kind = raw[cols["kind"]].astype(_STR).str.strip().str.lower()
    bad = ~kind.isin(SPEND_KINDS)
    if bad.any():
        raise DataValidationError(
            f"{src}: column {cols['kind']!r} must be 'acquisition' or 'retention'; found "
            f"{_show_rows(raw, bad, cols['kind'], is_file)}. Label each spend line with what it paid for."
        )
    spend = pd.to_numeric(raw[cols["spend"]], errors="coerce")
    bad = spend.isna() | (spend < 0)
    if bad.any():
        raise DataValidationError(
            f"{src}: column {cols['spend']!r} needs non-negative numbers; found "
            f"{_show_rows(raw, bad, cols['spend'], is_file)}. Record refunds from a vendor as lower spend in the month."
        )
    channel = raw[cols["channel"]].astype(_STR).str.strip()
    bad = channel.isna() | (channel == "")
    if bad.any():
        raise DataValidationError(
            f"{src}: column {cols['channel']!r} is empty in {_show_rows(raw, bad, cols['channel'], is_file)}. "
            "Use a channel name such as 'search', or 'all' for spend not split by channel."
        )
    out = pd.DataFrame({"month": parsed.dt.to_period("M"), "channel": channel, "kind": kind,
                        "spend": spend.astype("float64")})
    return out.groupby(["month", "channel", "kind"], sort=True, as_index=False)["spend"].sum()


def load_subscriptions(
    source: str | Path | pd.DataFrame,
    *,
    subscription_col: str = "subscription_id",
    customer_col: str = "customer_id",
    plan_col: str = "plan",
    start_col: str = "start_date",
    end_col: str = "end_date",
) -> pd.DataFrame:
    """Load a subscription table: one row per subscription, with start and (optional) end.

    An empty ``end_date`` means the subscription was still active when the data was
    extracted (right-censored). Tenure conventions are left to the analysis.

    Returns
    -------
    DataFrame
        ``subscription_id``, ``customer_id``, ``plan`` (strings), ``start_date``,
        ``end_date`` (``datetime64[ns]`` days, NaT if active), then other columns.

    Raises
    ------
    DataValidationError
        Missing file or column, unparseable dates, missing ids, an end before its start.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"subscription_id": ["s1", "s2"], "customer_id": ["a", "b"],
    ...     "plan": ["basic", "plus"], "start_date": ["2024-01-05", "2024-02-01"],
    ...     "end_date": ["2024-04-05", None]})
    >>> load_subscriptions(raw)["end_date"].isna().tolist()
    [False, True]
    """
    src = _describe(source)
    is_file = _names_lines(source)
    raw = _read_raw(source, what="subscriptions", str_cols=(subscription_col, customer_col))
    if isinstance(source, pd.DataFrame):
        raw = raw.reset_index(drop=True)
    if len(raw) == 0:
        raise DataValidationError(f"{src}: the subscription table has a header but no rows.")
    names = {}
    for role, name, param in (("subscription_id", subscription_col, "subscription_col"),
                              ("customer_id", customer_col, "customer_col"), ("plan", plan_col, "plan_col"),
                              ("start_date", start_col, "start_col"), ("end_date", end_col, "end_col")):
        names[role] = resolve_column(raw, name, role=role.replace("_", " "), source=src, param=param)
    out = pd.DataFrame(index=raw.index)
    for role in ("subscription_id", "customer_id", "plan"):
        v = raw[names[role]].astype(_STR).str.strip()
        bad = v.isna() | (v == "")
        if bad.any():
            raise DataValidationError(
                f"{src}: column {names[role]!r} is empty in {_show_rows(raw, bad, names[role], is_file)}. Fill it in."
            )
        out[role] = v
    for role in ("start_date", "end_date"):
        text = raw[names[role]].astype(_STR).str.strip()
        text = text.mask(text == "")
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601").dt.normalize()
        bad = parsed.isna() & (text.notna() if role == "end_date" else True)
        if bad.any():
            raise DataValidationError(
                f"{src}: column {names[role]!r} has values that are not dates "
                f"({_show_rows(raw, bad, names[role], is_file)}). Use YYYY-MM-DD"
                + ("; leave the end empty for an active subscription." if role == "end_date" else ".")
            )
        out[role] = parsed.astype("datetime64[ns]")
    bad = out["end_date"].notna() & (out["end_date"] < out["start_date"])
    if bad.any():
        raise DataValidationError(
            f"{src}: {int(bad.sum()):,} subscriptions end before they start "
            f"({_show_rows(raw, bad, names['subscription_id'], is_file)}). Check {names['start_date']!r} and "
            f"{names['end_date']!r} for swapped columns."
        )
    for c in raw.columns:
        if c not in names.values():
            out[c] = raw[c]
    return out.reset_index(drop=True)
