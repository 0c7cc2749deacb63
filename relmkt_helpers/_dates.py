"""Date parsing for :func:`relmkt_helpers.io.load_transactions`: the format is decided from the whole column.

Exports write dates in a handful of shapes. The column's values are classified (on its unique values,
vectorised) into families, and the family holding most rows decides the format:

* ISO ``2024-12-31`` (with or without a time after a space or ``T``): read as ISO 8601;
* year first ``2024/12/31``, ``2024.12.31``;
* compact ``20241231``;
* day or month first ``31/12/2024``, ``12/31/24``, ``31.12.2024``, ``31-12-2024``, optionally with a
  time (``31/12/2024 13:45``, ``12/31/2024 1:05 PM``). Day-first vs month-first is decided by scanning
  every value: a first field above 12 means day first, a second field above 12 means month first;
  both means the column mixes the two (an error naming lines of each); neither is ambiguous (an error
  asking for ``date_format`` or ``dayfirst``, unless one was given);
* anything else (month names, ...): pandas' own inference.

Values that do not fit the decided format are NaT, reported by the loader as unparseable rows with
their lines. Dates outside pandas' nanosecond range (before 1677-09-22 or after 2262-04-11) come back
as NaT with a separate mask. Time zones: see :mod:`relmkt_helpers.io`.

Examples
--------
>>> import pandas as pd
>>> d, oor, fmt = _parse_dates(pd.Series(["31/12/2024", "01/02/2024"]), source="x", col="d", is_file=False,
...                            date_format=None, dayfirst=None, timezone=None, frame=None)
>>> fmt, [str(x.date()) for x in d]
('%d/%m/%Y', ['2024-12-31', '2024-02-01'])
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from ._messages import _opt, _show_rows
from .errors import DataValidationError, ParameterError

_STR = pd.StringDtype("pyarrow")
# applied to stripped text; a time must precede the offset (so 31-12-2024 is no offset of -2024)
_TZ_SUFFIX = re.compile(r":[0-9]{2}(?:\.[0-9]+)?\s*(?:Z|[+-][0-9]{2}:?[0-9]{2})$")
_TZ_GROUP = re.compile(r"(Z|[+-]\d{2}:?\d{2})\s*$")
_TIME = r"(?:(?:[ T]+|\s*,\s*)(?:[01]?\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:[.,]\d{1,9})?)?(?:\s*[AaPp]\.?[Mm]\.?)?)?"
_ISO = r"\d{4}-\d{2}-\d{2}(?:[ T](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?)?"
_NUMERIC = rf"(\d{{1,4}})([/.-])(\d{{1,2}})[/.-](\d{{1,4}}){_TIME}"
_NS_MIN, _NS_MAX = pd.Timestamp.min, pd.Timestamp.max


def _normalise_offset(s: pd.Series) -> pd.Series:
    off = s.str.extract(_TZ_GROUP, expand=False).str.replace("Z", "+00:00", regex=False)
    return off.str.replace(r"^([+-]\d{2})(\d{2})$", r"\1:\2", regex=True)


def _to_ns(parsed: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Normalise to tz-naive days in ``datetime64[ns]``; out-of-range dates become NaT (second value)."""
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    if not pd.api.types.is_datetime64_dtype(parsed):
        parsed = pd.to_datetime(parsed, errors="coerce")
    oor = parsed.notna() & ((parsed < _NS_MIN) | (parsed > _NS_MAX))
    if oor.any():
        parsed = parsed.mask(oor)
    return parsed.dt.normalize().astype("datetime64[ns]"), oor


def _from_parts(year: pd.Series, month: pd.Series, day: pd.Series) -> pd.Series:
    parts = pd.DataFrame({"year": year, "month": month, "day": day}).astype("float64")
    bad = parts.isna().any(axis=1) | ~parts["month"].between(1, 12) | ~parts["day"].between(1, 31)
    if bad.any():
        parts.loc[bad.to_numpy(), :] = [2000.0, 1.0, 1.0]
    out = pd.to_datetime(parts.astype("int64"), errors="coerce")
    return out.mask(bad)


def _b(s: pd.Series) -> np.ndarray:
    return s.fillna(False).to_numpy(dtype=bool)


def _year(text: pd.Series) -> pd.Series:
    y = pd.to_numeric(text, errors="coerce").astype("float64").to_numpy()
    n = text.str.len().astype("float64").to_numpy()
    y = np.where(n == 2, np.where(y < 69, 2000 + y, 1900 + y), np.where(n == 4, y, np.nan))
    return pd.Series(y, index=text.index)


def _decide_order(first: pd.Series, second: pd.Series, uniq: pd.Series, codes: np.ndarray, *, source: str,
                  col: str, is_file: bool, frame, raw: pd.Series, dayfirst: bool | None, fmt_of) -> bool:
    """Day first (True) or month first (False), from every value of the column."""
    day_hint, month_hint = _b(first > 12), _b(second > 12)
    if dayfirst is not None:
        return bool(dayfirst)
    if day_hint.any() and month_hint.any():
        def rows(hint):
            keep = np.zeros(len(uniq), dtype=bool)
            keep[hint] = True
            return pd.Series(keep[codes] & (codes >= 0), index=raw.index)
        shown = (lambda m: _show_rows(frame, m, col, is_file)) if frame is not None else (lambda m: "")
        raise DataValidationError(
            f"{source}: column {col!r} mixes day-first and month-first dates: day first (day above 12) in "
            f"{shown(rows(day_hint))}; month first in {shown(rows(month_hint))}. One of the two is wrong for "
            f"every ambiguous date. Export the dates in one format (ISO 2024-12-31 is safest), then pass "
            f"{_opt('date_format', fmt_of(True))} or {_opt('date_format', fmt_of(False))}."
        )
    if day_hint.any():
        return True
    if month_hint.any():
        return False
    raise ParameterError(
        f"{source}: column {col!r} holds dates such as {uniq.iloc[0]!r} in which day and month are both 12 or "
        f"less in every row, so they could be day first or month first. Say which: pass "
        f"{_opt('date_format', fmt_of(True))} or {_opt('date_format', fmt_of(False))}, or "
        f"{_opt('dayfirst', True)} / {_opt('dayfirst', False)}."
    )


def _infer(uniq: pd.Series, codes: np.ndarray, *, source: str, col: str, is_file: bool, frame, raw: pd.Series,
           dayfirst: bool | None) -> tuple[pd.Series, str]:
    """Parse the unique values ``uniq`` with the format decided from all of them; (parsed uniques, format)."""
    weights = np.bincount(codes[codes >= 0], minlength=len(uniq))
    iso = _b(uniq.str.fullmatch(_ISO))
    if iso.all():
        return pd.to_datetime(uniq, format="ISO8601", errors="coerce"), "ISO 8601"
    compact = _b(uniq.str.fullmatch(r"\d{8}"))
    g = uniq.str.extract(f"^{_NUMERIC}$")
    numeric = g[0].notna().to_numpy()
    ymd = numeric & _b(g[0].str.len() == 4) & _b(g[3].str.len() <= 2) & ~iso
    xy = numeric & _b(g[0].str.len() <= 2) & _b(g[3].str.len().isin([2, 4]))
    share = {"iso": weights[iso].sum(), "compact": weights[compact].sum(), "ymd": weights[ymd].sum(),
             "xy": weights[xy].sum()}
    family = max(share, key=lambda k: (share[k], k == "iso"))
    if share[family] == 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "could not infer format": we report NaT rows
            parsed = pd.to_datetime(uniq.astype(object), errors="coerce", dayfirst=bool(dayfirst))
        return parsed, "inferred"
    nat = pd.Series(pd.NaT, index=uniq.index, dtype="datetime64[us]")
    if family == "iso":
        out = pd.to_datetime(uniq.where(iso), format="ISO8601", errors="coerce")
        return out, "ISO 8601"
    if family == "compact":
        s = uniq.where(compact)
        return _from_parts(pd.to_numeric(s.str[:4]), pd.to_numeric(s.str[4:6]), pd.to_numeric(s.str[6:8])), "%Y%m%d"
    sep = g[1][ymd | xy].mode().iloc[0]
    if family == "ymd":
        keep = pd.Series(ymd & _b(g[1] == sep), index=uniq.index)
        out = _from_parts(pd.to_numeric(g[0]).where(keep), pd.to_numeric(g[2]), pd.to_numeric(g[3]))
        return out.where(keep, nat), f"%Y{sep}%m{sep}%d"
    keep = pd.Series(xy & _b(g[1] == sep), index=uniq.index)
    first = pd.to_numeric(g[0]).astype("float64").where(keep)
    second = pd.to_numeric(g[2]).astype("float64").where(keep)
    four = _b(g[3].str.len() == 4) & keep.to_numpy()
    yfmt = "%Y" if weights[four].sum() >= weights[keep.to_numpy() & ~four].sum() else "%y"
    keep &= _b(g[3].str.len() == (4 if yfmt == "%Y" else 2))

    def fmt_of(day_first: bool) -> str:
        return f"%d{sep}%m{sep}{yfmt}" if day_first else f"%m{sep}%d{sep}{yfmt}"
    day_first = _decide_order(first.where(keep), second.where(keep), uniq, codes, source=source, col=col,
                              is_file=is_file, frame=frame, raw=raw, dayfirst=dayfirst, fmt_of=fmt_of)
    day, month = (first, second) if day_first else (second, first)
    out = _from_parts(_year(g[3].where(keep)), month, day)
    return out.where(keep, nat), fmt_of(day_first)


def _parse_dates(raw: pd.Series, *, source: str, col: str, is_file: bool, date_format: str | None,
                 dayfirst: bool | None, timezone: str | None, frame: pd.DataFrame | None
                 ) -> tuple[pd.Series, pd.Series, str]:
    """Parse a date column to tz-naive days.

    Returns ``(dates, out_of_range, decided_format)``: NaT in ``dates`` marks an unparseable value or,
    where ``out_of_range`` is True, a date pandas cannot hold (after 2262-04-11, before 1677-09-22).
    """
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        out = raw.dt.tz_convert(timezone) if timezone else raw
        return (*_to_ns(out), "datetime")
    if pd.api.types.is_datetime64_dtype(raw):
        return (*_to_ns(raw), "datetime")
    if raw.dtype == object and len(raw) and raw.map(lambda v: isinstance(v, pd.Timestamp) or hasattr(v, "tzinfo")).all():
        raw = raw.map(lambda v: v.isoformat() if v is not None else None)
    text = raw.astype(_STR).str.strip()
    text = text.mask(text == "")
    # pattern strings (not compiled objects) keep pandas on pyarrow's vectorised regex engine
    has_tz = text.str.contains(_TZ_SUFFIX.pattern, regex=True, na=False) & ~text.str.fullmatch(r"[0-9]{8}", na=False)
    if has_tz.any():
        nonnull = text.notna()
        if not has_tz[nonnull].all():
            naive = nonnull & ~has_tz
            raise DataValidationError(
                f"{source}: column {col!r} mixes dates with a time zone and dates without one "
                f"(without: {_show_rows(frame, naive, col, is_file)}). The day of a naive time is ambiguous. "
                "Export all timestamps in one form (all UTC, or all local without offset)."
            )
        offsets = _normalise_offset(text[has_tz])
        if offsets.nunique() > 1 and timezone is None:
            first = offsets.iloc[0]
            other = has_tz & (_normalise_offset(text) != first)
            raise DataValidationError(
                f"{source}: column {col!r} mixes time zones ({', '.join(sorted(offsets.unique())[:5])}); "
                f"first rows differing from {first}: {_show_rows(frame, other, col, is_file)}. "
                f"Pass {_opt('timezone', 'Europe/London')} (your business's zone) so every timestamp is "
                "converted to that zone's calendar day."
            )
        try:
            if timezone is not None:
                parsed = pd.to_datetime(text, utc=True, errors="coerce", format=date_format or "ISO8601")
                parsed = parsed.dt.tz_convert(timezone).dt.tz_localize(None)
            else:
                parsed = pd.to_datetime(text, errors="coerce", format=date_format or "ISO8601")
        except (ValueError, TypeError, KeyError) as exc:  # an unknown zone name
            raise ParameterError(f"timezone={timezone!r} is not a time zone name ({exc}); pass an IANA name "
                                 f"such as {_opt('timezone', 'Europe/Berlin')}.") from None
        return (*_to_ns(parsed), date_format or "ISO 8601 with UTC offset")
    if date_format is not None:
        try:
            parsed = pd.to_datetime(text, errors="coerce", format=date_format)
        except (ValueError, TypeError) as exc:
            raise ParameterError(
                f"{source}: date_format={date_format!r} is not a usable strftime format ({exc}). "
                f"Pass e.g. {_opt('date_format', '%Y-%m-%d')}."
            ) from None
        return (*_to_ns(parsed), date_format)
    codes, uniq = pd.factorize(text)
    uniq = pd.Series(pd.array(uniq, dtype=_STR))
    if len(uniq) == 0:
        return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]"), pd.Series(False, index=raw.index), "none"
    parsed_u, fmt = _infer(uniq, codes, source=source, col=col, is_file=is_file, frame=frame, raw=raw,
                           dayfirst=dayfirst)
    parsed_u, oor_u = _to_ns(parsed_u.reset_index(drop=True))
    taken = np.where(codes >= 0, codes, 0)
    values = parsed_u.to_numpy()[taken]
    values[codes < 0] = np.datetime64("NaT")
    oor = oor_u.to_numpy()[taken] & (codes >= 0)
    return pd.Series(values, index=raw.index), pd.Series(oor, index=raw.index), fmt
