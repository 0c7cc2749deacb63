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
    vals = raw.loc[idx, col].tolist()
    shown = "; ".join(f"{lab}: {v!r}" for lab, v in zip(labels, vals))
    more = int(mask.sum()) - len(idx)
    return shown + (f"; and {more:,} more" if more > 0 else "")
