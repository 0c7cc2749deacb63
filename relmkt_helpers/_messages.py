"""How the loaders name things in their messages: sources, rows and the options that fix a problem.

Every option a message recommends is written by :func:`_opt`, in both its Python form and its
command-line form, from one table (:data:`OPTION_FLAGS`), so that a test can check that each
recommended flag exists in ``relmkt validate`` / ``relmkt report``.

Examples
--------
>>> _opt("date_format", "%d/%m/%Y")
"date_format='%d/%m/%Y' (command line: --date-format '%d/%m/%Y')"
>>> _opt("after_as_of", "drop")
"after_as_of='drop' (command line: --drop-after-as-of)"
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd

_MAX_SHOWN = 5

#: Python keyword of load_transactions -> command-line flag of ``relmkt validate`` and ``relmkt report``.
OPTION_FLAGS = {
    "customer_col": "--customer-col",
    "date_col": "--date-col",
    "amount_col": "--amount-col",
    "order_col": "--order-col",
    "as_of": "--as-of",
    "on_invalid": "--on-invalid",
    "refunds": "--refunds",
    "duplicates": "--duplicates",
    "date_format": "--date-format",
    "timezone": "--timezone",
    "engine": "--engine",
    "memory_limit": "--memory-limit",
}
#: options whose flag carries no value: (python name, value) -> flag
SWITCH_FLAGS = {("after_as_of", "drop"): "--drop-after-as-of", ("dayfirst", True): "--dayfirst",
                ("dayfirst", False): "--monthfirst"}


def _opt(name: str, value: Any) -> str:
    """``name=value`` as a Python keyword and as the command-line flag that sets it."""
    py = f"{name}={value!r}"
    if (name, value) in SWITCH_FLAGS:
        return f"{py} (command line: {SWITCH_FLAGS[name, value]})"
    if name in OPTION_FLAGS:
        text = str(value)
        shown = text if re.fullmatch(r"[\w./:+-]+", text) else "'" + text.replace("'", "'\"'\"'") + "'"
        return f"{py} (command line: {OPTION_FLAGS[name]} {shown})"
    return py


def _describe(source: Any) -> str:
    """How a source is named in messages and ledgers: bundled files relative to the repository."""
    if not isinstance(source, (str, Path)):
        return "<DataFrame>"
    from .config import REPO_ROOT

    try:
        return str(Path(source).resolve().relative_to(REPO_ROOT))
    except (ValueError, OSError):
        return str(source)


def _row_labels(index: pd.Index, is_file: bool) -> list[str]:
    # files are read with the physical line number as the index (header = line 1)
    return [f"line {int(i)}" if is_file else f"row {i}" for i in index]


def _show_rows(raw: pd.DataFrame, mask: pd.Series, col: str, is_file: bool) -> str:
    idx = mask[mask].index[:_MAX_SHOWN]
    labels = _row_labels(idx, is_file)
    return _shown(list(zip(labels, raw.loc[idx, col].tolist())), int(mask.sum()))


def _shown(pairs: list[tuple[str, Any]], total: int) -> str:
    """``line 3: 'x'; line 9: 'y'; and 12 more`` from the first (label, value) pairs."""
    shown = "; ".join(f"{lab}: {v!r}" for lab, v in pairs[:_MAX_SHOWN])
    more = total - min(len(pairs), _MAX_SHOWN)
    return shown + (f"; and {more:,} more" if more > 0 else "")


# ----------------------------------------------------------------------------------------------
# The data contract's messages, written once for every engine that applies the contract
# (io.load_transactions on pandas, engine.contract on DuckDB): the same input gets the same words.
# ``shown`` is the text of _show_rows / _shown.
# ----------------------------------------------------------------------------------------------

def invalid_fixes(ccol: str, date_format: str) -> dict[str, str]:
    """Reason of an invalid row -> the fix its message proposes."""
    return {
        "missing customer id": f"Fill in {ccol!r} for these rows, or pass {_opt('on_invalid', 'drop')} to drop them.",
        "date out of range": "Dates must lie between 1677-09-22 and 2262-04-11 (a typo such as 20224 or 3024?); "
                             f"fix these values, or pass {_opt('on_invalid', 'drop')}.",
        "unparseable date": f"The date format was decided as {date_format!r} from the whole column. Fix these "
                            f"values, pass {_opt('date_format', '%d/%m/%Y')} (your format), or "
                            f"{_opt('on_invalid', 'drop')}.",
        "non-numeric amount": "Amounts must be plain numbers such as 12.5 (no currency symbols or thousands "
                              f"separators); clean them, or pass {_opt('on_invalid', 'drop')}.",
    }


def msg_duplicates(src: str, n: int, shown: str) -> str:
    return (f"{src}: {n:,} rows repeat an earlier row exactly ({shown}). Remove them at the source, or pass "
            f"{_opt('duplicates', 'drop')} (keep the first) or {_opt('duplicates', 'keep')}.")


def msg_invalid(src: str, col: str, n: int, reason: str, shown: str, fix: str) -> str:
    return f"{src}: column {col!r} has {n:,} rows with a {reason} ({shown}). {fix}"


def msg_most_dates_bad(src: str, col: str, n: int, total: int, date_format: str, shown: str) -> str:
    return (f"{src}: {n:,} of {total:,} rows have a date in {col!r} that does not fit the format decided from the "
            f"column ({date_format!r}; {shown}). Dropping more than half of the rows would hide a wrong format, "
            f"so nothing was dropped: pass {_opt('date_format', '%d/%m/%Y')} (your format).")


def msg_late(src: str, col: str, n: int, as_of_day: Any, shown: str) -> str:
    return (f"{src}: {n:,} rows in {col!r} are dated after as_of {as_of_day} ({shown}). If they are typos, fix "
            f"the source; to analyse a past date on a longer log pass {_opt('after_as_of', 'drop')}.")


def msg_refunds(src: str, col: str, n: int, shown: str) -> str:
    return (f"{src}: column {col!r} has {n:,} negative amounts (refunds or returns) ({shown}). Pass "
            f"{_opt('refunds', 'net')} to subtract them from their order, or {_opt('refunds', 'drop')} to ignore "
            "them.")


def msg_missing_order_id(src: str, col: str, n: int, shown: str) -> str:
    return (f"{src}: column {col!r} is empty for {n:,} purchase rows ({shown}). Fill them in, or pass "
            f"{_opt('on_invalid', 'drop')}.")


def msg_shared_orders(src: str, n: int, examples: list, ocol: str | None) -> str:
    ex = ", ".join(repr(o) for o in examples[:_MAX_SHOWN])
    return (f"{src}: {n:,} order ids belong to more than one customer (e.g. {ex}) in "
            f"{ocol or 'the synthesised order id'!r}. Check the order id column "
            f"({_opt('order_col', ocol) if ocol else 'order_col'}).")


def msg_no_orders(src: str, dropped: dict[str, int], as_of: Any) -> str:
    return (f"{src}: no orders remain after applying the policies "
            f"({', '.join(f'{k}: {v:,}' for k, v in dropped.items())}). Check "
            f"{_opt('as_of', str(pd.Timestamp(as_of).date()) if as_of is not None else 'YYYY-MM-DD')} "
            "and the refund/invalid-row policies.")
