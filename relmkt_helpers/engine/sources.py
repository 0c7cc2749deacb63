"""Open transaction data where it lies, as an Ibis table the engine reduces: never first into pandas.

Accepted sources (:func:`open_source`):

* a Parquet file (``.parquet``/``.pq``), a folder of Parquet files (read recursively; ``key=value``
  folders are hive partitions and become columns), or a glob such as ``lake/orders/*.parquet``;
* a pandas DataFrame (registered with the engine, not copied row by row);
* a DuckDB relation (``duckdb.sql(...)``; re-planned on the session's connection when it reads
  files, else fetched once as Arrow) or an Ibis table.

CSV and other text files are not read here: their quirks (delimiters, encodings, the date format
decided from the whole column) are the pandas contract's job (``engine="pandas"``).

Every row carries where it came from (``_rn``, its row number from 0, and ``_file`` for files) so
that a contract error names the file and the rows, as the pandas path does.
"""
from __future__ import annotations

import glob as _glob
from pathlib import Path
from typing import Any, NamedTuple

from .._messages import _describe
from ..errors import DataValidationError, ParameterError

PARQUET_SUFFIXES = (".parquet", ".pq")
ROW, FILE = "_rn", "_file"


class Source(NamedTuple):
    """An opened source: the table, how messages name it, and whether its rows come from several files."""

    table: Any  # ibis.Table with the input's columns + _rn (+ _file)
    name: str
    many_files: bool
    stable_rows: bool = True  # _rn names the same row in every query (files, DataFrames)
    row_word: str = "row"  # "line" where _rn is a text file's line number (as the pandas CSV reader says)


def is_engine_source(source: Any) -> bool:
    """True for inputs only the engine reads: Parquet folders and globs, DuckDB relations, Ibis tables.

    Examples
    --------
    >>> is_engine_source("lake/orders/*.parquet"), is_engine_source("sales.csv"), is_engine_source("")
    (True, False, False)
    """
    if isinstance(source, (str, Path)):
        text = str(source)
        if not text.strip():  # Path("") is the current folder: an empty path is an error, not a folder
            return False
        return any(ch in text for ch in "*?[") or Path(text).is_dir()
    mod = type(source).__module__
    return mod.lstrip("_").startswith(("duckdb", "ibis"))


def parquet_files(source: str | Path) -> tuple[str, list[str], bool]:
    """The glob DuckDB reads, the files it matches and whether the paths carry hive partitions."""
    text = str(source)
    path = Path(text)
    if path.is_dir():
        pattern = str(path / "**" / "*.parquet")
        files = sorted(_glob.glob(pattern, recursive=True)) + sorted(_glob.glob(str(path / "**" / "*.pq"), recursive=True))
        if files and not any(f.endswith(".parquet") for f in files):
            pattern = str(path / "**" / "*.pq")
        if not files:
            raise DataValidationError(
                f"transactions folder {text} holds no Parquet files (looked for *.parquet and *.pq in it and its "
                "sub-folders). Point --data at the folder that holds them, or at one file."
            )
    elif any(ch in text for ch in "*?["):
        pattern, files = text, sorted(_glob.glob(text, recursive=True))
        if not files:
            raise DataValidationError(
                f"transactions: the pattern {text!r} matches no file (looked from {Path.cwd()}). Check the folder "
                "and the pattern, e.g. 'lake/orders/**/*.parquet'; quote it on the command line so that the shell "
                "does not expand it."
            )
        if not all(f.lower().endswith(PARQUET_SUFFIXES) for f in files):
            others = [f for f in files if not f.lower().endswith(PARQUET_SUFFIXES)][:3]
            raise DataValidationError(
                f"transactions: the pattern {text!r} matches files that are not Parquet ({', '.join(others)}). "
                "The engine reads Parquet files by pattern; narrow it to '*.parquet', or pass one CSV file."
            )
    else:
        pattern, files = text, [text]
    hive = any("=" in part for f in files for part in Path(f).parent.parts)
    return pattern, files, hive


def check_same_types(con, pattern: str, files: list[str], columns: list[str] | None = None) -> None:
    """Fail if the files disagree on a column's type (DuckDB would fail mid-read, or cast silently)."""
    if len(files) < 2:
        return
    schema = con.raw_sql(
        "select file_name, name, coalesce(cast(logical_type as varchar), converted_type, type) as t "
        "from parquet_schema(?) where type is not null", parameters=[pattern]).fetchall()
    seen: dict[str, tuple[str, str]] = {}
    for file_name, name, typ in schema:
        if columns is not None and name not in columns:
            continue
        if name in seen and seen[name][1] != typ:
            raise DataValidationError(msg_types_disagree(name, *seen[name], file_name, typ))
        seen.setdefault(name, (file_name, typ))


def msg_types_disagree(column: str, file_a: str, type_a: str, file_b: str, type_b: str) -> str:
    """The error for Parquet files that disagree on a column's type (every engine words it so).

    Examples
    --------
    >>> msg_types_disagree("amount", "a.parquet", "DOUBLE", "b.parquet", "VARCHAR")[:71]
    "transactions: the Parquet files disagree on the type of column 'amount'"
    """
    return (f"transactions: the Parquet files disagree on the type of column {column!r}: {file_a} has {type_a}, "
            f"{file_b} has {type_b}. Write every file with one schema (cast {column!r} to one type when "
            "exporting), or read the files that agree.")


def open_source(session, source: Any, *, what: str = "transactions") -> Source:
    """Open ``source`` on ``session`` (a :class:`~relmkt_helpers.engine.session.DuckDBSession`).

    Examples
    --------
    >>> import pandas as pd
    >>> from relmkt_helpers.engine import DuckDBSession
    >>> with DuckDBSession(memory_limit="256MB") as s:
    ...     src = open_source(s, pd.DataFrame({"customer_id": ["a"], "amount": [1.0]}))
    ...     src.name, list(src.table.columns)
    ('<DataFrame>', ['customer_id', 'amount', '_rn'])
    """
    import ibis
    import pandas as pd

    if getattr(session, "kind", "duckdb") == "spark":
        from .spark import spark_source

        return spark_source(session, source, what=what)
    con = session.con
    if isinstance(source, pd.DataFrame):
        df = source.reset_index(drop=True)
        if ROW in df.columns:
            raise ParameterError(f"{what}: the column name {ROW!r} is reserved by the kit's engine; rename it.")
        df = df.assign(**{ROW: range(len(df))})
        return Source(ibis.memtable(df), "<DataFrame>", False)
    mod = type(source).__module__
    if mod.startswith("ibis"):
        return Source(source.mutate(**{ROW: ibis.row_number()}), "<Ibis table>", False, False)
    if mod.lstrip("_").startswith("duckdb"):
        try:
            table = con.sql(source.sql_query())
        except Exception:  # noqa: BLE001 - the relation reads tables of its own connection: fetch it once
            table = ibis.memtable(source.to_arrow_table())
        return Source(table.mutate(**{ROW: ibis.row_number()}), "<DuckDB relation>", False, False)
    if not isinstance(source, (str, Path)) or not str(source).strip():
        raise ParameterError(
            f"{what}: the engine reads a Parquet file, folder or glob, a DataFrame, a DuckDB relation or an Ibis "
            f"table; got {type(source).__name__} {str(source)[:80]!r}."
        )
    path = Path(source)
    if not is_engine_source(source):
        if not path.exists():
            raise DataValidationError(f"{what} file not found: {path} (looked from {Path.cwd()}). Check the path.")
        if path.suffix.lower() not in PARQUET_SUFFIXES:
            raise ParameterError(
                f"{what}: {path} is not Parquet. The engine reads Parquet files, folders and globs; a CSV file is "
                "read by the kit's CSV reader: pass engine='pandas' (command line: --engine pandas)."
            )
    pattern, files, hive = parquet_files(source)
    check_same_types(con, pattern, files)
    try:
        many = len(files) > 1  # a single file's rows are named by number alone: no file name per row
        table = con.read_parquet(pattern, filename=many, file_row_number=True, hive_partitioning=hive,
                                 union_by_name=many)
    except Exception as exc:  # noqa: BLE001 - DuckDB's IO/Invalid input errors: a damaged or non-Parquet file
        first = str(exc).splitlines()[0][:300]
        raise DataValidationError(
            f"{what} {_describe(source)} could not be read as Parquet: {first}. Export it again."
        ) from None
    table = table.rename({ROW: "file_row_number", **({FILE: "filename"} if many else {})})
    return Source(table, _describe(source), many)
