"""Reading a table from disk (or a DataFrame) for the loaders in :mod:`relmkt_helpers.io`.

The CSV reader decides everything from the file's first 64 KB, deterministically:

* **compression** from the extension (``.gz``, ``.bz2``, ``.xz``, ``.zip``); a truncated or damaged
  archive is one clear error;
* **encoding**: UTF-8 (with or without BOM); a file that is not valid UTF-8 is read as Windows-1252
  (``ledger.policies["encoding"]``); NUL bytes mean a binary file (an error);
* **delimiter**: ``.tsv``/``.tab`` are tab separated; otherwise, of ``,`` ``;`` tab ``|``, the one
  that splits the header line into the most fields (ties: that order);
* **header**: read with the csv module; names are stripped; two columns with one name are an error
  naming both positions; trailing empty names (a header ending in a delimiter) are ignored.

Rows are indexed by their physical line number (header = line 1) so messages can name lines.
Lines with no value at all (blank, or only delimiters) are not data rows. A row with one more field
than the header whose extra field is empty is a trailing delimiter (accepted); a row with more
non-empty fields than the header is an error naming its lines.
"""
from __future__ import annotations

import bz2
import codecs
import csv
import difflib
import gzip
import io
import lzma
import re
import zipfile
import zlib
from pathlib import Path

import pandas as pd

from ._messages import _MAX_SHOWN, _describe
from .errors import DataValidationError, ParameterError

_HEAD_BYTES = 1 << 16
_DELIMITERS = (",", ";", "\t", "|")
_EXTRA = "\x00relmkt-extra-field-{}"
#: what a damaged compressed file raises (zlib.error: bad data; EOFError: truncated stream)
_ARCHIVE_ERRORS = (EOFError, zlib.error, gzip.BadGzipFile, zipfile.BadZipFile, lzma.LZMAError, OSError)
_MAGIC = ((b"\x1f\x8b", "gzip-compressed", ".csv.gz"), (b"PK\x03\x04", "a zip archive", ".zip"),
          (b"BZh", "bzip2-compressed", ".csv.bz2"), (b"\xfd7zXZ", "xz-compressed", ".csv.xz"),
          (b"PAR1", "a Parquet file", ".parquet"))
_NAN_ROW = object()


def _fail(what: str, path: Path, why: str) -> DataValidationError:
    return DataValidationError(f"{what} file {path} could not be read as CSV: {why}")


def _open_binary(path: Path, suffixes: list[str]):
    last = suffixes[-1] if suffixes else ""
    if last == ".gz":
        return gzip.open(path, "rb")
    if last == ".bz2":
        return bz2.open(path, "rb")
    if last == ".xz":
        return lzma.open(path, "rb")
    if last == ".zip":
        zf = zipfile.ZipFile(path)
        names = [n for n in zf.namelist() if not n.endswith("/")]
        if len(names) != 1:
            raise ValueError(f"the zip archive holds {len(names)} files ({', '.join(names[:5])}); "
                             "it must hold exactly one CSV file")
        return zf.open(names[0])
    return open(path, "rb")


def _read_head(path: Path, suffixes: list[str], what: str) -> bytes:
    try:
        with _open_binary(path, suffixes) as fh:
            return fh.read(_HEAD_BYTES)
    except _ARCHIVE_ERRORS as exc:
        raise _damaged(what, path, exc) from None
    except ValueError as exc:
        raise _fail(what, path, f"{exc}.") from None


def _damaged(what: str, path: Path, exc: BaseException) -> DataValidationError:
    return DataValidationError(
        f"{what} file {path} is a damaged or truncated compressed file ({type(exc).__name__}: {exc}). "
        "It was probably cut off while downloading or copying: download or export it again "
        "(check its size against the original)."
    )


def _decode_head(head: bytes, complete: bool) -> tuple[str, str]:
    """(text, encoding) of the first bytes: UTF-8 (BOM stripped) when valid, else Windows-1252."""
    try:
        dec = codecs.getincrementaldecoder("utf-8-sig")()
        return dec.decode(head, final=complete), "utf-8-sig"
    except UnicodeDecodeError:
        return head.decode("cp1252", errors="replace"), "cp1252"


def _header(text: str, path: Path, what: str, forced_sep: str | None) -> tuple[str, list[str], int, int]:
    """(delimiter, names, header line number, fields of the first data row) from the decoded head."""
    lines = text.splitlines()
    skip = 0
    while skip < len(lines) and not lines[skip].strip(" \t,;|"):
        skip += 1
    if skip == len(lines):
        raise DataValidationError(f"{what} file {path} has no header and no rows. Export the data again.")
    first = lines[skip]
    if forced_sep:
        sep = forced_sep
    else:
        counts = {d: len(next(csv.reader([first], delimiter=d), [])) for d in _DELIMITERS}
        sep = max(_DELIMITERS, key=lambda d: (counts[d], -_DELIMITERS.index(d)))
    reader = csv.reader(io.StringIO("\n".join(lines[skip:]) + "\n"), delimiter=sep, strict=False)
    try:
        names = [n.strip() for n in next(reader)]
        header_line = skip + reader.line_num
        first_fields = 0
        for row in reader:
            if any(v.strip() for v in row):
                first_fields = len(row)
                break
    except csv.Error as exc:
        raise _fail(what, path, f"{exc}. Check that it is a delimited text file with one header row.") from None
    return sep, names, header_line, first_fields


def _check_duplicate_names(names: list, source: str, where: str) -> None:
    """Raise naming both positions when two columns share a name (pandas would rename one silently)."""
    seen: dict[str, int] = {}
    for pos, name in enumerate(names, start=1):
        key = str(name)
        if key in seen and key != "":
            raise DataValidationError(
                f"{source}: the {where} has two columns named {key!r} (columns {seen[key]} and {pos}); "
                f"only one could be used and the other would be ignored without a word. Rename one of "
                f"them (e.g. {key + '_2'!r}) or delete the one you do not need, and load the file again."
            )
        seen.setdefault(key, pos)


def _lines_with_extra_fields(path: Path, suffixes: list[str], encoding: str, sep: str, n: int,
                             header_line: int) -> list[int]:
    """Physical line numbers (up to 5) whose rows have more non-empty fields than the header (error path only)."""
    found = []
    with _open_binary(path, suffixes) as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace",
                                                                   newline="") as fh:
        reader = csv.reader(fh, delimiter=sep, strict=False)
        for row in reader:
            if reader.line_num <= header_line:
                continue
            if len(row) > n and any(v.strip() for v in row[n:]):
                found.append(reader.line_num)
                if len(found) >= _MAX_SHOWN:
                    break
    return found


def _extra_fields_error(what: str, path: Path, lines: list[int], sep: str, n: int) -> DataValidationError:
    shown = ", ".join(map(str, lines)) if lines else "(see the parser's line)"
    name = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}[sep]
    hint = (" The amounts probably contain a thousands separator (1,234.50): quote the field or export "
            "without separators." if sep == "," else "")
    return DataValidationError(
        f"{what} file {path}: line(s) {shown} have more fields than the header's {n} ({name} separated), so "
        f"the values cannot be matched to their columns.{hint} A single empty field at the end of every "
        "row (a trailing delimiter) is fine."
    )


def _read_csv(path: Path, suffixes: list[str], what: str, str_cols: tuple[str, ...]) -> pd.DataFrame:
    head = _read_head(path, suffixes, what)
    complete = len(head) < _HEAD_BYTES
    if b"\x00" in head:
        kind = next((f"; it looks like {k} (rename it to end in {ext})" for magic, k, ext in _MAGIC
                     if head.startswith(magic)), "")
        raise _fail(what, path, f"it is a binary file (it contains NUL bytes{kind}). If it is UTF-16 text "
                                "(Excel's 'Unicode text'), save it as 'CSV UTF-8' instead.")
    text, encoding = _decode_head(head, complete)
    forced = "\t" if any(s in (".tsv", ".tab") for s in suffixes) else None
    sep, names, header_line, first_fields = _header(text, path, what, forced)
    while names and names[-1] == "":
        names.pop()  # a header ending in a delimiter
    names = [n if n else f"Unnamed: {i}" for i, n in enumerate(names)]
    _check_duplicate_names(names, str(path), "header")
    n = len(names)
    extra = [_EXTRA.format(i) for i in range(max(1, first_fields - n))]
    str_set = set(str_cols)
    dtype = {c: "str" for c in names if c in str_set} | {c: "str" for c in extra}
    kw = dict(sep=sep, header=None, skiprows=header_line, names=names + extra, index_col=False,
              skip_blank_lines=False, dtype=dtype, quotechar='"', on_bad_lines="error")
    df = None
    for enc in ([encoding, "cp1252", "latin-1"] if encoding != "cp1252" else ["cp1252", "latin-1"]):
        try:
            df = pd.read_csv(path, encoding=enc, **kw)
            encoding = enc
            break
        except UnicodeDecodeError:
            continue
        except pd.errors.EmptyDataError:
            df = pd.DataFrame({c: pd.Series(dtype="str" if c in dtype else "float64") for c in names + extra})
            break
        except pd.errors.ParserError as exc:
            if "Expected" in str(exc) and "fields" in str(exc):
                try:
                    lines = _lines_with_extra_fields(path, suffixes, enc, sep, n, header_line)
                except (UnicodeDecodeError, csv.Error, *_ARCHIVE_ERRORS):
                    lines = [int(m) for m in re.findall(r"line (\d+)", str(exc))[:1]]
                raise _extra_fields_error(what, path, lines, sep, n) from None
            raise _fail(what, path, f"{exc}. Check the quoting of the fields near that line.") from None
        except _ARCHIVE_ERRORS as exc:
            raise _damaged(what, path, exc) from None
        except (ValueError, csv.Error) as exc:
            raise _fail(what, path, f"{exc}. Check that it is a delimited UTF-8 text file with one header "
                                    "row.") from None
    df.index = pd.RangeIndex(header_line + 1, header_line + 1 + len(df))
    present = df[extra].notna()
    if present.to_numpy().any():
        present &= df[extra].apply(lambda c: c.str.strip() != "").fillna(False)
    if present.to_numpy().any():
        bad = present.any(axis=1)
        raise _extra_fields_error(what, path, [int(i) for i in bad[bad].index[:_MAX_SHOWN]], sep, n)
    df = df.drop(columns=extra)
    if len(df.columns):
        df = df[df.notna().any(axis=1)]  # blank lines and lines of delimiters only
    df.attrs["relmkt"] = {"delimiter": sep, "encoding": encoding.replace("utf-8-sig", "utf-8")}
    return df


def _read_raw(source, *, what: str = "data", str_cols: tuple[str, ...] = ()) -> pd.DataFrame:
    """Like :func:`read_table`, but a file's rows are indexed by their line number."""
    if isinstance(source, pd.DataFrame):
        _check_duplicate_names(list(source.columns), "<DataFrame>", "DataFrame")
        return source.copy()
    if source is None or (isinstance(source, str) and not source.strip()):
        raise ParameterError(
            f"{what}: no file was given (the path is {'empty' if source is not None else 'None'}). Pass the path "
            "of a CSV or Parquet file (command line: --data PATH), or 'sample' / 'cdnow' for the bundled data."
        )
    if not isinstance(source, (str, Path)):
        raise ParameterError(
            f"{what}: expected a file path or a pandas DataFrame, got {type(source).__name__}."
        )
    path = Path(source)
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except (OSError, ValueError) as exc:  # name too long, NUL in the name
        raise DataValidationError(f"{what} file {str(path)[:200]!r} cannot be opened: {exc}.") from None
    if not exists:
        hint = ""
        if path.parent.exists():
            near = difflib.get_close_matches(path.name, [p.name for p in path.parent.iterdir()], n=1)
            if near:
                hint = f" Did you mean {path.parent / near[0]}?"
        raise DataValidationError(
            f"{what} file not found: {path} (looked from {Path.cwd()}).{hint} "
            "Check the path, or try the bundled sample shop: data/sample_shop/transactions.csv.gz."
        )
    if is_dir:
        raise DataValidationError(f"{what}: {path} is a folder; pass the path of a CSV or Parquet file.")
    if path.stat().st_size == 0:
        raise DataValidationError(f"{what} file {path} is empty (0 bytes). Export the data again.")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".parquet", ".pq"):
        return _read_parquet(path, what)
    return _read_csv(path, suffixes, what, str_cols)


def _read_parquet(path: Path, what: str) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        _check_duplicate_names(pq.read_schema(path).names, str(path), "Parquet schema")
        df = pd.read_parquet(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise DataValidationError(
            f"{what} file {path} could not be read as Parquet: {exc}. Export it again, or as CSV."
        ) from None
    df.index = pd.RangeIndex(len(df))
    return df


def read_table(source: str | Path | pd.DataFrame, *, what: str = "data", str_cols: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read a CSV (optionally compressed) or Parquet file, or copy a DataFrame.

    Parameters
    ----------
    source : path or DataFrame
        ``.csv``, ``.csv.gz``/``.zip``/``.bz2``/``.xz``, ``.txt``/``.tsv`` (tab separated)
        or ``.parquet``/``.pq``. The delimiter (``,`` ``;`` tab ``|``) is decided from the header
        line and the encoding from the first 64 KB (UTF-8, else Windows-1252).
    what : str
        Name of the kind of data, used in error messages ("transactions", "spend ledger").
    str_cols : tuple of str
        Columns to read as text so that identifiers keep leading zeros.

    Returns
    -------
    DataFrame
        The raw table (index 0..n-1; blank lines skipped). Raises :class:`DataValidationError`
        for a missing, empty, damaged or unreadable file, rows with more fields than the header,
        or two columns with one name.

    Examples
    --------
    >>> import pandas as pd
    >>> read_table(pd.DataFrame({"a": [1]})).shape
    (1, 1)
    """
    return _read_raw(source, what=what, str_cols=str_cols).reset_index(drop=True)


def resolve_column(df: pd.DataFrame, name: str, *, role: str, source: str, param: str, cli: bool = False) -> str:
    """Return ``name`` if it is a column of ``df``, else raise naming the closest match.

    Parameters
    ----------
    df : DataFrame
    name : str
        The column the caller asked for.
    role : str
        What the column is for ("customer id", "order date", ...).
    source : str
        The file, for the message.
    param : str
        The keyword argument that sets this column (for the fix in the message).
    cli : bool
        Also name the command-line flag that sets ``param`` (for :func:`load_transactions`).

    Examples
    --------
    >>> import pandas as pd
    >>> resolve_column(pd.DataFrame({"amount": [1]}), "amount", role="amount", source="x.csv", param="amount_col")
    'amount'
    """
    from ._messages import _opt

    if name in df.columns:
        return name
    cols = [str(c) for c in df.columns]
    lowered = {c.lower().strip(): c for c in cols}
    guess = lowered.get(str(name).lower().strip())
    if guess is None:
        close = difflib.get_close_matches(str(name).lower(), list(lowered), n=1, cutoff=0.6)
        guess = lowered[close[0]] if close else None
    fix = (lambda v: _opt(param, v)) if cli else (lambda v: f"{param}={v!r}")
    hint = f" Did you mean {guess!r}? Pass {fix(guess)}." if guess else f" Pass {fix('<your column>')}."
    shown = ", ".join(repr(c) for c in cols[:20]) + (" ..." if len(cols) > 20 else "")
    raise DataValidationError(
        f"{source}: the {role} column {name!r} is missing.{hint} Columns found: {shown}."
    )
