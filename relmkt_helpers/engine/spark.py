"""Apache Spark behind the engine's definitions (issue 14): the same Ibis expressions, run by a ``SparkSession``.

:class:`SparkEngine` is the Spark counterpart of :class:`~relmkt_helpers.engine.session.DuckDBSession`:
the contract (:mod:`.contract`) and every reduction (:mod:`.reductions`, :mod:`.analyses`) talk to
either through ``execute`` (an Ibis expression to a small pandas frame) and ``materialize`` (an
intermediate table kept by the engine: a cached Spark DataFrame here). Nothing in this module
defines a reduction.

The session is the user's own when one is active (Databricks, EMR, ``spark-submit``), otherwise a
local one (``local[*]``) that lives until the process ends: starting a JVM costs 10-60 s, so one
session serves every call in a process. :func:`spark_source` opens what Spark reads: a Spark
DataFrame, a table or view name, or Parquet/CSV files, folders and globs, with each row's file and
row number so that a contract error names them as the other engines do.

Examples
--------
>>> import pandas as pd
>>> from relmkt_helpers.engine import open_orders, rfm_summary
>>> tx = pd.DataFrame({"customer_id": ["a", "a", "b"], "amount": [10.0, 5.0, 7.0],
...                    "order_date": pd.to_datetime(["2024-01-05", "2024-02-01", "2024-02-03"])})
>>> with open_orders(tx, engine="spark") as orders:
...     rfm_summary(orders, observation_end="2024-02-29", freq="D")["recency"].tolist()
[27.0, 0.0]
"""
from __future__ import annotations

import atexit
import os
import re
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from ..errors import DataValidationError, ParameterError
from .session import EngineError, _mb, parse_memory_limit
from .sources import FILE, ROW, Source

#: Prefix of the folder a local session spills to (spark.local.dir); removed when the process ends.
SPARK_PREFIX = "relmkt-spark-"
_TABLE_NAME = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*){0,2}$")
_LOCAL: dict[str, Any] = {}


def java_problem() -> str | None:
    """Why a local Spark cannot start on this machine (no Java), with the fix; ``None`` when Java is there.

    Examples
    --------
    >>> java_problem() is None or java_problem().startswith("Spark needs Java")
    True
    """
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return None
    if shutil.which("java"):
        return None
    return ("Spark needs Java 17 or 21 and none was found (no java on PATH, JAVA_HOME unset). Install it "
            "(Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless; macOS: brew install openjdk@17) or set "
            "JAVA_HOME, or use engine='duckdb' (command line: --engine duckdb).")


def local_spark(memory_limit: Any = None, master: str | None = None):
    """The process's local ``SparkSession`` (made once, stopped and its spill folder removed at exit).

    ``memory_limit`` sets the driver's JVM heap (``spark.driver.memory``), which in local mode holds
    the executors too; it applies only when this call starts the JVM.
    """
    if "spark" in _LOCAL:
        return _LOCAL["spark"]
    problem = java_problem()
    if problem:
        raise EngineError(problem)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError("engine='spark' needs the pyspark package: pip install 'pyspark>=4.0,<4.1' (Java 17 or 21 "
                          "too), or use engine='duckdb' (command line: --engine duckdb).") from None
    # Python workers (pyspark's own helpers) must run this interpreter, which has the kit's packages
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    heap = parse_memory_limit(memory_limit)
    local_dir = tempfile.mkdtemp(prefix=f"{SPARK_PREFIX}{os.getpid()}-")
    cores = os.cpu_count() or 1
    builder = (SparkSession.builder.master(master or os.environ.get("RELMKT_SPARK_MASTER") or f"local[{cores}]")
               .appName("relmkt")
               .config("spark.driver.memory", f"{max(heap // 2**20, 512)}m")
               .config("spark.local.dir", local_dir)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.shuffle.partitions", str(max(4, 2 * cores)))
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.driver.extraJavaOptions", "-Dlog4j2.level=ERROR"))
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 - the JVM did not start: say so in one line
        shutil.rmtree(local_dir, ignore_errors=True)
        first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise EngineError(f"a local Spark session could not start ({first}). Check that Java 17 or 21 works "
                          "(java -version), or use engine='duckdb' (command line: --engine duckdb).") from None
    spark.sparkContext.setLogLevel("ERROR")
    _LOCAL.update(spark=spark, local_dir=local_dir)

    def _stop() -> None:
        try:
            spark.stop()
        finally:
            shutil.rmtree(local_dir, ignore_errors=True)

    atexit.register(_stop)
    return spark


class SparkEngine:
    """Ibis on a ``SparkSession``: the session interface the contract and the reductions use.

    Parameters
    ----------
    spark : SparkSession, optional
        The session to run on. Default: the active one (a cluster's), else the process's local one.
    memory_limit : str or int, optional
        JVM heap of a local session that this call starts (``"4GB"``, ``"50%"``).
    """

    kind = "spark"

    def __init__(self, spark: Any = None, *, memory_limit: Any = None):
        import ibis

        if spark is None:
            try:
                from pyspark.sql import SparkSession

                spark = SparkSession.getActiveSession()
            except ImportError:
                spark = None
        self.spark = spark or local_spark(memory_limit)
        self.memory_limit = parse_memory_limit(memory_limit)
        self.con = ibis.pyspark.connect(self.spark)
        self.temp_dir = f"spark-{uuid.uuid4().hex}"  # names this session's cached tables (no folder of its own)
        self._cached: list[Any] = []
        self._closed = False

    def execute(self, expr, what: str):
        """``expr`` computed by Spark, as a pandas frame (it must be small: it crosses to the driver)."""
        return self._guard(lambda: self.con.execute(expr), what)

    def materialize(self, expr, what: str):
        """``expr`` computed once and cached by Spark (memory, then disk), as an Ibis table."""
        nulls = {c: expr[c].cast("string") for c, t in expr.schema().items() if t.is_null()}
        if nulls:
            expr = expr.mutate(**nulls)
        table = self._guard(lambda: self.con._cached_table(expr), what)  # on this session, not Ibis' default
        self._cached.append(table)
        return table

    def register(self, frame: Any, name: str | None = None):
        """A Spark DataFrame as an Ibis table of this session (a temporary view)."""
        name = name or f"relmkt_{uuid.uuid4().hex[:12]}"
        frame.createOrReplaceTempView(name)
        return self.con.table(name)

    def _guard(self, run, what: str):
        try:
            return run()
        except Exception as exc:  # noqa: BLE001 - Spark's errors: out of memory, unreadable files
            text = str(exc)
            if "OutOfMemoryError" in text or "Java heap space" in text:
                raise EngineError(
                    f"{what}: Spark ran out of memory (driver heap {_mb(self.memory_limit)}). Raise it, e.g. "
                    f"memory_limit='{max(1, round(2 * self.memory_limit / 1e9))}GB' (command line: --memory-limit), "
                    "or run on a cluster.") from None
            raise

    def close(self) -> None:
        """Release this session's cached tables; the Spark session itself stays (it is shared)."""
        if self._closed:
            return
        self._closed = True
        for table in self._cached:
            try:
                table.release()
            except Exception:  # noqa: BLE001 - the session may be stopping already
                pass
        self._cached.clear()

    def __enter__(self) -> "SparkEngine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def is_spark_frame(source: Any) -> bool:
    """True for a pyspark DataFrame (classic or Spark Connect).

    Examples
    --------
    >>> import pandas as pd
    >>> is_spark_frame(pd.DataFrame()), is_spark_frame(local_spark().range(1))
    (False, True)
    """
    mod = type(source).__module__
    return mod.startswith("pyspark.") and type(source).__name__ == "DataFrame"


def spark_source(session: SparkEngine, source: Any, *, what: str = "transactions") -> Source:
    """``source`` opened by Spark: a DataFrame, a table or view name, or Parquet/CSV files, folders and globs.

    Files carry their path and each row's number in its file (``_metadata.row_index`` for Parquet;
    for CSV its line, the header being line 1), so that contract errors name ``file row N`` as
    DuckDB's do and ``line N`` as the pandas CSV reader does.
    """
    import pandas as pd
    from pyspark.sql import functions as F

    from .._messages import _describe

    spark = session.spark
    if isinstance(source, pd.DataFrame):
        return Source(session.register(_from_pandas(spark, source, what)), "<DataFrame>", False)
    if is_spark_frame(source):
        return Source(session.register(_numbered(source)), "<Spark DataFrame>", False, False)
    if not isinstance(source, (str, Path)) or not str(source).strip():
        raise ParameterError(
            f"{what}: the Spark engine reads a Spark DataFrame, a table name, or Parquet/CSV files, folders and "
            f"globs; got {type(source).__name__} {str(source)[:80]!r}.")
    text = str(source)
    path = Path(text)
    is_glob = any(ch in text for ch in "*?[")
    if not is_glob and not path.exists() and "://" not in text:
        if _TABLE_NAME.match(text) and spark.catalog.tableExists(text):
            return Source(session.register(_numbered(spark.table(text))), f"table {text}", False, False)
        raise DataValidationError(
            f"{what}: {text} is neither a file or folder (looked from {Path.cwd()}) nor a table Spark knows. Check "
            "the path, or the table's name (database.table).")
    csv = text.lower().endswith((".csv", ".csv.gz", ".txt")) or (
        path.is_dir() and not any(path.rglob("*.parquet")) and any(path.rglob("*.csv")))
    nanos = _check_local_parquet(text) if not csv and "://" not in text else set()
    if nanos:  # pandas' default; Spark refuses them unless it reads them as numbers, made timestamps below
        spark.conf.set("spark.sql.legacy.parquet.nanosAsLong", "true")
    try:
        if csv:
            frame = spark.read.csv(text, header=True, inferSchema=False, recursiveFileLookup=path.is_dir())
        else:
            frame = spark.read.parquet(text)
        local_path = F.regexp_replace(F.col("_metadata.file_path"), "^file:(//)?", "")
        frame = frame.select("*", local_path.alias(FILE),
                             *([] if csv else [F.col("_metadata.row_index").alias(ROW)]),
                             *([F.col("_metadata.file_block_start").alias("_blk")] if csv else []))
    except Exception as exc:  # noqa: BLE001 - AnalysisException: path, type or format problems
        first = str(exc).strip().splitlines()[0][:300]
        if "PATH_NOT_FOUND" in first or "Path does not exist" in first:
            raise DataValidationError(f"{what}: {text} matches no file ({first}). Check the path and the pattern.") \
                from None
        if "TIMESTAMP(NANOS" in first:
            raise DataValidationError(
                f"{what} {text}: Spark cannot read timestamps stored in nanoseconds ({first[:160]}). Write them in "
                "microseconds (pandas: df.to_parquet(path, coerce_timestamps='us', allow_truncated_timestamps=True)), "
                "or read the files with engine='duckdb' (command line: --engine duckdb).") from None
        raise DataValidationError(f"{what} {text} could not be read by Spark: {first}. Export it again.") from None
    if csv:
        frame = _csv_rows(frame)
    for col in nanos:
        # floor division in integers (a double rounds away the last digits; div truncates before 1970)
        frame = frame.withColumn(col, F.expr(f"timestamp_micros((`{col}` - pmod(`{col}`, 1000)) div 1000)"))
    many = not (path.is_file() and not is_glob)
    if not many:
        frame = frame.drop(FILE)
    # a CSV row is named by its line in the file (the header is line 1), as the pandas reader names it
    return Source(session.register(frame), _describe(source), many, True, "line" if csv else "row")


def _from_pandas(spark, frame, what: str):
    """A pandas frame as a Spark DataFrame through Arrow (missing values stay missing: pandas' ``NA`` and
    ``NaT`` become nulls, ``NaN`` amounts stay ``NaN``), each row numbered by its position."""
    import pyarrow as pa

    if ROW in frame.columns:
        raise ParameterError(f"{what}: the column name {ROW!r} is reserved by the kit's engine; rename it.")
    df = frame.reset_index(drop=True)
    table = pa.Table.from_pandas(df.assign(**{ROW: range(len(df))}), preserve_index=False)
    fields = []
    for f in table.schema:
        if pa.types.is_null(f.type) or pa.types.is_large_string(f.type):
            f = f.with_type(pa.string())  # an all-missing column has no type of its own
        elif pa.types.is_timestamp(f.type) and (f.type.unit == "ns" or f.type.tz is not None):
            f = f.with_type(pa.timestamp("us", f.type.tz))  # Spark holds microseconds
        fields.append(f)
    table = table.cast(pa.schema(fields), safe=False)
    return spark.createDataFrame(table)


def _check_local_parquet(text: str) -> set[str]:
    """Files on this machine: fail clearly when they disagree on a column's type (Spark reads one file's schema
    and fails mid-job on the others), reading only their footers. Other file systems are left to Spark.

    Returns the columns holding timestamps in nanoseconds (what pandas writes by default)."""
    import pyarrow.parquet as pq

    from .sources import msg_types_disagree, parquet_files

    _, files, _ = parquet_files(text)
    seen: dict[str, tuple[str, str]] = {}
    for f in files:
        for field in pq.read_schema(f):
            typ = str(field.type)
            if field.name in seen and seen[field.name][1] != typ:
                raise DataValidationError(msg_types_disagree(field.name, *seen[field.name], f, typ))
            seen.setdefault(field.name, (f, typ))
    return {name for name, (_, typ) in seen.items() if typ.startswith("timestamp[ns")}


def _numbered(frame):
    """A DataFrame with ``_rn``: 0, 1, ... in the frame's partition order, computed on the executors."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if ROW in frame.columns:
        raise ParameterError(f"the column name {ROW!r} is reserved by the kit's engine; rename it.")
    part = frame.select("*", F.spark_partition_id().alias("_pid"), F.monotonically_increasing_id().alias("_mid"))
    sizes = part.groupBy("_pid").agg(F.count(F.lit(1)).alias("_n"), F.min("_mid").alias("_m0"))
    sizes = sizes.select("_pid", "_m0", (F.sum("_n").over(Window.orderBy("_pid")) - F.col("_n")).alias("_off"))
    out = part.join(F.broadcast(sizes), "_pid").select(
        *frame.columns, (F.col("_off") + F.col("_mid") - F.col("_m0")).alias(ROW))
    return out


def _csv_rows(frame):
    """Each CSV row's line in its file (2 = the first row under the header), from the split it was read in.

    Spark reads a file in splits (``_metadata.file_block_start``), each within one task, where
    ``monotonically_increasing_id`` counts rows consecutively: a row's line is the rows of the
    file's earlier splits plus its place in its own. (A quoted field spanning lines shifts the
    count, as it does for any reader that numbers records.)"""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    part = frame.select("*", F.monotonically_increasing_id().alias("_mid"))
    blocks = part.groupBy(FILE, "_blk").agg(F.count(F.lit(1)).alias("_n"), F.min("_mid").alias("_m0"))
    blocks = blocks.select(FILE, "_blk", "_m0", (F.sum("_n").over(
        Window.partitionBy(FILE).orderBy("_blk")) - F.col("_n")).alias("_off"))
    cols = [c for c in frame.columns if c not in ("_blk",)]
    return part.join(F.broadcast(blocks), [FILE, "_blk"]).select(
        *cols, (F.col("_off") + F.col("_mid") - F.col("_m0") + 2).alias(ROW))


def write_parquet_file(session: SparkEngine, expr, path: str | Path, metadata: dict[bytes, bytes]) -> Path:
    """``expr`` written by Spark as one Parquet file at ``path``, in its order, with ``metadata`` in the footer.

    Spark writes a folder of part files; the rows are written by one task (``coalesce(1)`` keeps a
    sorted result's order), then streamed batch by batch into ``path`` with the footer's key added.
    Timestamps are written as microseconds (Spark's default INT96 and pandas' nanoseconds are both
    unreadable somewhere) and come back as the naive calendar timestamps they are. ``path`` must be
    on a file system the driver can read (a local folder, or a mounted volume on a cluster).
    """
    import glob as _glob

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    staging = path.parent / f".{path.name}.spark-{uuid.uuid4().hex[:8]}"
    spark = session.spark
    frame = spark.sql(session.con.compile(expr))
    old = spark.conf.get("spark.sql.parquet.outputTimestampType", None)
    spark.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
    try:
        session._guard(lambda: frame.coalesce(1).write.mode("overwrite").parquet(str(staging)), f"writing {path.name}")
        parts = sorted(_glob.glob(str(staging / "part-*.parquet")))
        files = [pq.ParquetFile(p) for p in parts]
        schema = files[0].schema_arrow
        naive = pa.schema([f.with_type(pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) else f
                           for f in schema])
        with pq.ParquetWriter(path, naive.with_metadata({**(schema.metadata or {}), **metadata})) as writer:
            for pf in files:
                for batch in pf.iter_batches(batch_size=1 << 20):
                    writer.write_batch(batch.cast(naive.remove_metadata()) if naive != schema else batch)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if old is None:
            spark.conf.unset("spark.sql.parquet.outputTimestampType")
        else:
            spark.conf.set("spark.sql.parquet.outputTimestampType", old)
    return path
