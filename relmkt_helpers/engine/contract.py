"""The transaction data contract applied by the engine: the same policies, ledger and messages.

:func:`engine_orders` is :func:`relmkt_helpers.io.load_transactions` for data the engine reads
(Parquet files, folders and globs, DuckDB relations, DataFrames). It applies every policy of the
contract (see :mod:`relmkt_helpers.io`) as one Ibis expression over the rows, counts every
reason in one pass, and returns the canonical orders as an Ibis table that stays in the engine,
with a :class:`~relmkt_helpers.io.RowLedger` that balances. Errors are worded by the same
functions as the pandas path's (:mod:`relmkt_helpers._messages`), and ``tests/test_engine.py``
checks on generated logs that both paths give the same orders, ledger and messages.

What the engine does not do: decide the format of text dates. A date column must be a date or a
timestamp, or text in ISO 8601 (``2024-12-31``, ``2024-12-31 10:00:00``); other text dates are
the pandas contract's job (``engine="pandas"``), which decides the format from the whole column.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import pandas as pd

from .._messages import (_MAX_SHOWN, _opt, _shown, invalid_fixes, msg_duplicates, msg_invalid, msg_late,
                         msg_missing_order_id, msg_most_dates_bad, msg_no_orders, msg_refunds, msg_shared_orders)
from ..errors import DataValidationError, ParameterError
from ..io import CANONICAL_COLUMNS, RowLedger, _check_choice
from .reductions import first_by
from .sources import FILE, ROW, Source

_MIN_DAY, _MAX_DAY = "1677-09-22", "2262-04-11"  # the days pandas' datetime64[ns] can hold


class EngineOrders(NamedTuple):
    """The canonical orders as an engine table (one row per order), and the row ledger."""

    table: Any
    ledger: RowLedger
    session: Any

    @property
    def columns(self) -> list[str]:
        """The canonical frame's columns (as ``DataFrame.columns``: ``"channel" in orders.columns``)."""
        return [c for c in self.table.columns if c not in (ROW, FILE)]

    def to_pandas(self) -> pd.DataFrame:
        """The canonical frame, as :func:`~relmkt_helpers.io.load_transactions` returns it."""
        t = self.table
        df = self.session.execute(t.order_by([t.order_date, t[FILE], t[ROW]]), "transactions")
        df = df.drop(columns=[ROW, FILE]).reset_index(drop=True)
        for col in ("customer_id", "order_id"):
            df[col] = df[col].astype(pd.StringDtype("pyarrow"))
        df["order_date"] = df["order_date"].astype("datetime64[ns]")
        df["amount"] = df["amount"].astype("float64")
        return df


def _resolve(columns: list[str], name: str, role: str, src: str, param: str) -> str:
    from .._read import resolve_column

    return resolve_column(pd.DataFrame(columns=columns), name, role=role, source=src, param=param, cli=True)


def _dates(col, dtype, src: str, name: str, timezone: str | None):
    """(day as a timestamp at midnight, out of pandas' range, the format recorded in the ledger)."""
    import ibis

    if dtype.is_timestamp():
        if dtype.timezone is not None:
            if timezone is None:
                raise DataValidationError(
                    f"{src}: column {name!r} holds instants (timestamps with a time zone); their calendar day "
                    f"depends on the zone. Pass {_opt('timezone', 'Europe/London')} (your business's zone).")
            raise ParameterError(
                f"{src}: converting zoned timestamps in {name!r} to {timezone}'s calendar day is done by the "
                "pandas contract; pass engine='pandas' (command line: --engine pandas).")
        ts = col
    elif dtype.is_date():
        ts = col.cast("timestamp")
    elif dtype.is_string():
        ts = col.strip().nullif("").try_cast("timestamp")
    else:
        raise DataValidationError(
            f"{src}: column {name!r} has type {dtype}, not a date. Pass the order date column "
            f"({_opt('date_col', '<your column>')}).")
    day = ts.truncate("D")
    oor = day.notnull() & ((day < ibis.timestamp(_MIN_DAY)) | (day > ibis.timestamp(_MAX_DAY)))
    return day, oor, "datetime" if not dtype.is_string() else "ISO 8601"


def _amounts(col, dtype):
    if dtype.is_numeric() and not dtype.is_boolean():
        a = col.cast("float64")
    else:
        a = col.cast("string").strip().try_cast("float64")
    return a, a.isnull() | a.isnan() | a.isinf()


_WHITESPACE_EDGES = r"^[\s\p{Z}\x85]+|[\s\p{Z}\x85]+$"  # Unicode white space, as pandas' str.strip()


def _maybe_padded(s):
    """Empty, or not starting and ending with a printable ASCII character other than space: a
    superset of the ids that stripping would change, found with two cheap pattern tests."""
    return (s == "") | ~s.re_search(r"^[!-~]") | ~s.re_search(r"[!-~]$")


def _ids(col, trim: bool = True):
    """Ids as text, stripped of white space, empty = missing (as ``load_transactions``); the strip is
    skipped when the first pass found no id that may need it."""
    s = col.cast("string")
    return s.re_replace(_WHITESPACE_EDGES, "").nullif("") if trim else s


def engine_orders(
    source: Source,
    session,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    amount_col: str = "amount",
    order_col: str | None = None,
    as_of: Any = None,
    date_format: str | None = None,
    timezone: str | None = None,
    refunds: str = "net",
    duplicates: str = "auto",
    on_invalid: str = "error",
    after_as_of: str = "error",
    keep_cols: list[str] | None = None,
) -> EngineOrders:
    """Apply the data contract to an opened source; see :func:`relmkt_helpers.io.load_transactions`.

    Examples
    --------
    >>> import pandas as pd
    >>> from relmkt_helpers.engine import DuckDBSession, open_source
    >>> raw = pd.DataFrame({"customer_id": ["a", "a", None], "amount": [10.0, -4.0, 3.0],
    ...                     "order_id": ["o1", "o1", "o2"],
    ...                     "order_date": pd.to_datetime(["2024-01-05", "2024-01-07", "2024-01-08"])})
    >>> with DuckDBSession(memory_limit="256MB") as session:
    ...     orders = engine_orders(open_source(session, raw), session, on_invalid="drop")
    ...     frame = orders.to_pandas()
    >>> frame[["order_id", "amount"]].values.tolist(), orders.ledger.dropped, orders.ledger.refund_rows_netted
    ([['o1', 6.0]], {'missing customer id': 1}, 1)
    """
    import ibis

    _check_choice("refunds", refunds, ("net", "drop", "error"))
    _check_choice("duplicates", duplicates, ("auto", "drop", "keep", "error"))
    _check_choice("on_invalid", on_invalid, ("error", "drop"))
    _check_choice("after_as_of", after_as_of, ("error", "drop"))
    if date_format is not None:
        raise ParameterError(
            f"{source.name}: date_format is applied by the pandas contract; pass engine='pandas' (command line: "
            "--engine pandas), or store the dates as a date or timestamp column.")
    src = source.name
    raw = source.table
    if FILE not in raw.columns:
        raw = raw.mutate(**{FILE: ibis.literal("")})
    data_cols = [c for c in raw.columns if c not in (ROW, FILE)]
    schema = raw.schema()
    ccol = _resolve(data_cols, customer_col, "customer id", src, "customer_col")
    dcol = _resolve(data_cols, date_col, "order date", src, "date_col")
    acol = _resolve(data_cols, amount_col, "amount", src, "amount_col")
    if order_col is None and "order_id" in data_cols and "order_id" not in (ccol, dcol, acol):
        order_col = "order_id"
    ocol = _resolve(data_cols, order_col, "order id", src, "order_col") if order_col else None
    roles = [c for c in (ccol, dcol, acol, ocol) if c]
    if len(set(roles)) < len(roles):
        raise ParameterError(f"{src}: the same column is used for two roles ({ccol}, {dcol}, {acol}, {ocol}).")
    if duplicates == "auto":
        duplicates = "drop" if ocol else "keep"

    extra = [c for c in data_cols if c not in roles] if keep_cols is None else list(keep_cols)
    for c in extra:
        _resolve(data_cols, c, "extra", src, "keep_cols")
    extra = [c for c in extra if c not in CANONICAL_COLUMNS]

    day, oor, fmt = _dates(raw[dcol], schema[dcol], src, dcol, timezone)
    amount, bad_amount = _amounts(raw[acol], schema[acol])
    many = source.many_files
    # First pass: can there be exact duplicates? With order ids that are all present and distinct no
    # two rows are equal; otherwise one aggregate over every column counts the repeats (usually
    # none), and only then does a window mark them.
    # The same pass asks whether any id may need stripping (it rarely does, and stripping every id
    # costs more than looking at two characters of each).
    ids = [c for c in (ccol, ocol) if c]
    first = session.execute(raw.aggregate(
        n=raw.count(), **({"distinct_oid": raw[ocol].nunique()} if ocol else {}),
        **{f"pad_{i}": _maybe_padded(raw[c].cast("string")).sum() for i, c in enumerate(ids)}), src).iloc[0]
    unique_oids = bool(ocol) and int(first["distinct_oid"]) == int(first["n"])
    trim = {c: bool(first[f"pad_{i}"]) for i, c in enumerate(ids)}
    if unique_oids:
        n_dup = 0
    else:
        groups = raw.group_by(data_cols).agg(k=raw.count())
        n_dup = int(session.execute(groups.aggregate(n=(groups.k - 1).sum()), src).iloc[0, 0] or 0)
    dup = (ibis.row_number().over(group_by=data_cols, order_by=[raw[FILE], raw[ROW]]) > 0) if n_dup else \
        ibis.literal(False)
    # Rows of files and DataFrames are found again by their number; other sources keep their raw values
    shown_as = {} if source.stable_rows else {c: f"r_{i}" for i, c in enumerate(roles)}
    # one pass over the input, kept in the engine: every later step reads this table, not the source
    base = session.materialize(raw.select(
        ROW, *([FILE] if many else []), *extra, **{v: raw[c] for c, v in shown_as.items()},
        customer_id=_ids(raw[ccol], trim[ccol]), order_date=day, amount=amount,
        **({"oid": _ids(raw[ocol], trim[ocol])} if ocol else {}), oor=oor, bad_amount=bad_amount, dup=dup), src)
    file_of = base[FILE] if many else ibis.literal("")
    cust, day, amount, oor, bad_amount, dup = (base.customer_id, base.order_date, base.amount, base.oor,
                                               base.bad_amount, base.dup)
    false = ibis.literal(False)
    keep = ~dup if duplicates == "drop" else ibis.literal(True)
    inv_c = keep & cust.isnull()
    inv_r = keep & ~inv_c & oor
    inv_d = keep & ~inv_c & ~oor & day.isnull()
    inv_a = keep & ~inv_c & ~oor & day.notnull() & bad_amount
    invalid = inv_c | inv_r | inv_d | inv_a
    keep = keep & ~invalid
    as_of_day = pd.Timestamp(as_of).normalize() if as_of is not None else None
    late = (keep & (day > ibis.timestamp(as_of_day))) if as_of_day is not None else false
    keep = keep & ~late
    neg = keep & (amount < 0)
    if ocol:
        oid = base.oid
        missing = keep & oid.isnull()
        pos_missing = missing & ~neg
        keep = keep & ~pos_missing
        unmatched = (missing & neg) if refunds == "net" else false
    else:
        oid = cust.concat("|", day.strftime("%Y-%m-%d"))
        pos_missing = false
        unmatched = neg if refunds == "net" else false
    keep = keep & ~unmatched
    refund_ignored = (neg & keep) if refunds == "drop" else false
    keep = keep & ~refund_ignored

    flags = base.select(
        ROW, *extra, *shown_as.values(), customer_id=cust, order_date=day, amount=amount,
        order_id=oid, f_dup=dup, f_c=inv_c, f_r=inv_r, f_d=inv_d, f_a=inv_a, f_late=late, f_neg=neg,
        f_pos_missing=pos_missing, f_unmatched=unmatched, f_refund_ignored=refund_ignored, f_keep=keep,
        **{FILE: file_of})
    counts = session.execute(flags.aggregate(
        n=flags.count(),
        distinct_orders=flags.f_keep.sum() if unique_oids else flags.order_id.nunique(where=flags.f_keep),
        **{k: flags[k].sum() for k in flags.columns if k.startswith("f_")}), src).iloc[0]
    n = {k: int(v) if pd.notna(v) else 0 for k, v in counts.items()}

    ledger = RowLedger(source=src, rows_read=n["n"])
    if n["n"] == 0:
        raise DataValidationError(
            f"{src}: the transactions have a header but no rows. Export the data again, or check the filter that "
            "produced it.")

    def shown(flag: str, col: str) -> str:
        """The first flagged rows, named as in the input, with the input's own value of ``col``."""
        picked = flags.filter(flags[flag]).order_by([flags[FILE], flags[ROW]]).limit(_MAX_SHOWN)
        if shown_as:
            rows = session.execute(picked.select(ROW, FILE, v=picked[shown_as[col]]), src)
        else:
            rows = session.execute(picked.select(ROW, FILE), src)
            cond = raw[ROW].isin([int(r) for r in rows[ROW]])
            if many:
                cond &= raw[FILE].isin(sorted(set(rows[FILE])))
            found = session.execute(raw.filter(cond).select(ROW, FILE, v=raw[col]), src)
            value = {(int(r), f if many else ""): v for r, f, v in zip(found[ROW], found[FILE], found["v"])}
            rows["v"] = [value[(int(r), f)] for r, f in zip(rows[ROW], rows[FILE])]
        word = source.row_word
        labels = [(f"{f} {word} {r}" if many else f"{word} {r}") for r, f in zip(rows[ROW], rows[FILE])]
        values = list(rows["v"])
        if schema[col].is_string():  # a missing text value reads <NA>, as in the pandas path
            values = [pd.NA if v is None or v != v else v for v in values]
        return _shown(list(zip(labels, values)), n[flag])

    if n["f_dup"]:
        if duplicates == "error":
            raise DataValidationError(msg_duplicates(src, n["f_dup"], shown("f_dup", ccol)))
        if duplicates == "drop":
            ledger.drop("exact duplicate row", n["f_dup"])
    ledger.policies = {"refunds": refunds, "duplicates": duplicates, "on_invalid": on_invalid,
                       "after_as_of": after_as_of, "orders": "order id" if ocol else "customer-day"}
    if timezone:
        ledger.policies["timezone"] = timezone
    ledger.policies["date_format"] = fmt
    fixes = invalid_fixes(ccol, fmt)
    for flag, reason, col in (("f_c", "missing customer id", ccol), ("f_r", "date out of range", dcol),
                              ("f_d", "unparseable date", dcol), ("f_a", "non-numeric amount", acol)):
        if not n[flag]:
            continue
        if reason == "unparseable date" and on_invalid == "drop" and 2 * n[flag] > n["n"]:
            raise DataValidationError(msg_most_dates_bad(src, col, n[flag], n["n"], fmt, shown(flag, col)))
        if on_invalid == "error":
            raise DataValidationError(msg_invalid(src, col, n[flag], reason, shown(flag, col), fixes[reason]))
        ledger.drop(reason, n[flag])
    if n["f_late"]:
        if after_as_of == "error":
            raise DataValidationError(msg_late(src, dcol, n["f_late"], as_of_day.date(), shown("f_late", dcol)))
        ledger.drop(f"dated after as_of {as_of_day.date()}", n["f_late"])
    if n["f_neg"] and refunds == "error":
        raise DataValidationError(msg_refunds(src, acol, n["f_neg"], shown("f_neg", acol)))
    if n["f_pos_missing"]:
        if on_invalid == "error":
            raise DataValidationError(msg_missing_order_id(src, ocol, n["f_pos_missing"],
                                                           shown("f_pos_missing", ccol)))
        ledger.drop("missing order id", n["f_pos_missing"])
    ledger.drop("refund without order id (cannot be matched)", n["f_unmatched"])
    ledger.drop("refund (negative amount) ignored", n["f_refund_ignored"])

    kept = flags.filter(flags.f_keep)
    if n["distinct_orders"] == n["f_keep"]:  # no line items: every kept row is an order (no group-by)
        orders = _single_rows(kept, extra, ledger, session, src)
    else:
        orders = _collapse(kept, extra, ledger, session, src, ocol)
    if ledger.orders == 0:
        raise DataValidationError(msg_no_orders(src, ledger.dropped, as_of))
    ledger.check_balanced()
    return EngineOrders(orders, ledger, session)


def _collapse(rows, extra: list[str], ledger: RowLedger, session, src: str, ocol: str | None):
    """One row per order id: amounts summed, dated by the earliest purchase row; the ledger's last reasons."""
    is_refund = rows.amount < 0
    order = [rows[FILE], rows[ROW]]
    orders = session.materialize(rows.group_by("order_id").agg(
        customer_id=rows.customer_id.first(),
        owners=rows.customer_id.nunique(),
        amount=rows.amount.sum(),
        order_date=rows.order_date.min(where=~is_refund),
        n_rows=rows.count(),
        n_refunds=is_refund.sum(),
        **{c: first_by(rows[c], *order, skip_missing=True) for c in extra},
        **{FILE: rows[FILE].min(), ROW: rows[ROW].min()},
    ), src)
    shared = orders.filter(orders.owners > 1)
    n_shared = int(session.execute(shared.aggregate(n=shared.count()), src).iloc[0, 0])
    if n_shared:
        ex = session.execute(shared.order_by("order_id").limit(_MAX_SHOWN), src)["order_id"].tolist()
        raise DataValidationError(msg_shared_orders(src, n_shared, ex, ocol))
    refund_only = orders.order_date.isnull()
    full = orders.order_date.notnull() & (orders.amount <= 0) & (orders.n_refunds > 0)
    kept = ~refund_only & ~full
    stats = session.execute(orders.aggregate(
        refund_only_rows=refund_only.ifelse(orders.n_rows, 0).sum(),
        full_rows=full.ifelse(orders.n_rows, 0).sum(),
        refunds_all=orders.n_refunds.sum(),
        refunds_full=full.ifelse(orders.n_refunds, 0).sum(),
        refunds_only=refund_only.ifelse(orders.n_refunds, 0).sum(),
        used=kept.ifelse(orders.n_rows, 0).sum(),
        n_orders=kept.ifelse(1, 0).sum(),
        customers=orders.customer_id.nunique(where=kept),
        first=orders.order_date.min(where=kept),
        last=orders.order_date.max(where=kept),
    ), src).iloc[0]
    val = {k: (int(v) if pd.notna(v) and not isinstance(v, pd.Timestamp) else v) for k, v in stats.items()}
    ledger.drop("refund whose order is not in the data", val["refund_only_rows"] or 0)
    ledger.drop("order fully refunded (net amount <= 0)", val["full_rows"] or 0)
    netted = (val["refunds_all"] or 0) - (val["refunds_only"] or 0) - (val["refunds_full"] or 0)
    ledger.refund_rows_netted = max(netted, 0)
    ledger.rows_used = val["used"] or 0
    ledger.orders = val["n_orders"] or 0
    ledger.customers = val["customers"] or 0
    if ledger.orders:
        ledger.first_date = str(pd.Timestamp(val["first"]).date())
        ledger.last_date = str(pd.Timestamp(val["last"]).date())
    return orders.filter(kept).select(*CANONICAL_COLUMNS, *extra, ROW, FILE)


def _single_rows(rows, extra: list[str], ledger: RowLedger, session, src: str):
    """Every row its own order: a negative one is a refund of an order not in the data (as in the pandas path)."""
    orphan = rows.amount < 0
    stats = session.execute(rows.aggregate(
        orphans=orphan.sum(), n_orders=(~orphan).sum(), customers=rows.customer_id.nunique(where=~orphan),
        first=rows.order_date.min(where=~orphan), last=rows.order_date.max(where=~orphan)), src).iloc[0]
    ledger.drop("refund whose order is not in the data", int(stats["orphans"] or 0))
    ledger.rows_used = ledger.orders = int(stats["n_orders"] or 0)
    ledger.customers = int(stats["customers"] or 0)
    if ledger.orders:
        ledger.first_date = str(pd.Timestamp(stats["first"]).date())
        ledger.last_date = str(pd.Timestamp(stats["last"]).date())
    return rows.filter(~orphan).select(*CANONICAL_COLUMNS, *extra, ROW, FILE)
