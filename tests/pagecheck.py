"""What a report page must not show its reader: Python reprs, long decimals, cut-off text.

:func:`page_problems` reads the VISIBLE text of a rendered page (``<style>`` and
``<script>`` dropped, tags removed, entities decoded) and returns one line per
problem, each with the offending snippet.
"""
from __future__ import annotations

import html
import re

__all__ = ["page_problems", "visible_text"]

#: Text that only a Python repr (not a reader's page) would contain.
REPRS = ("{'", '{"', "np.float64(", "np.int64(", "Timestamp(", "Period(", "dtype:", "dtype=", "<Figure size",
         "Name: ", "00:00:00", "array(", "DataFrame", "Series(", "<Axes", "<matplotlib", "object at 0x",
         "NaT", "Length: ")

_DROP = re.compile(r"<(style|script|head)\b[^>]*>.*?</\1\s*>", re.S | re.I)
_CELL_END = re.compile(r"</(td|th|p|li|div|pre|h[1-6]|caption|tr)\s*>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")
#: A number with five or more decimals (not part of a longer word, e.g. an id like "c00001").
_LONG_DECIMALS = re.compile(r"(?<![\w.])-?\d[\d,]*\.\d{5,}(?![\d])")
#: Text cut off: an ellipsis right after a word, at the end of a cell or line ("Direct Marketing Asso…").
_TRUNCATED = re.compile(r"\w(…|\.\.\.)[ \t]*(?=\n|$)", re.M)
#: A missing value written as Python writes it, alone in a cell.
_NAN = re.compile(r"^-?(nan|NaN|None|inf)$", re.M)


def visible_text(page: str) -> str:
    """The text a reader sees: styles and scripts dropped, one line per cell or block, entities decoded.

    Examples
    --------
    >>> visible_text("<style>p {x: 1}</style><p>a &amp; b</p><td>1</td><td>2</td>")
    'a & b\\n1\\n2'
    """
    body = _DROP.sub(" ", page)
    body = _CELL_END.sub("\n", body)
    body = html.unescape(_TAG.sub("", body))
    lines = [ln.strip() for ln in body.splitlines()]
    return "\n".join(ln for ln in lines if ln)


def _snippet(text: str, start: int, end: int, width: int = 40) -> str:
    lo, hi = max(0, start - width), min(len(text), end + width)
    return text[lo:hi].replace("\n", " | ")


def page_problems(page: str) -> list[str]:
    """Everything in the visible text of ``page`` that looks like Python rather than a report.

    Looks for Python reprs (``{'``, ``np.float64(``, ``Timestamp(``, ``dtype:``, ``<Figure size``,
    ``Name: ``, ``00:00:00``, ``array(``, ``DataFrame``...), bare ``nan``/``None``, numbers
    with more than four decimals, and text cut off with "…" or "..." at the end of a cell.

    Parameters
    ----------
    page : str
        The HTML of a rendered page (or plain text).

    Returns
    -------
    list of str
        One ``"<kind>: ...snippet..."`` per problem found; empty when the page is clean.

    Examples
    --------
    >>> page_problems("<td>Revenue</td><td>€1,234</td>")
    []
    >>> for p in page_problems("<pre>{'mean_clv': 123.456789}</pre>"):
    ...     print(p)
    Python repr "{'": {'mean_clv': 123.456789}
    more than four decimals: {'mean_clv': 123.456789}
    """
    text = visible_text(page)
    out: list[str] = []
    for token in REPRS:
        start = text.find(token)
        if start >= 0:
            out.append(f"Python repr {token!r}: {_snippet(text, start, start + len(token))}")
    for m in _LONG_DECIMALS.finditer(text):
        out.append(f"more than four decimals: {_snippet(text, m.start(), m.end())}")
    for m in _TRUNCATED.finditer(text):
        out.append(f"truncated text: {_snippet(text, m.start(), m.end())}")
    for m in _NAN.finditer(text):
        out.append(f"missing value shown as {m.group(1)!r}: {_snippet(text, m.start(), m.end())}")
    return out
