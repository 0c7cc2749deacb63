"""One DuckDB connection with a memory limit and a spill folder that is removed afterwards.

DuckDB runs embedded, in this process. It reads files where they lie and spills what does not fit
its memory limit to a temporary folder (``relmkt-duckdb-<pid>-*`` in the system's temporary
directory). :class:`DuckDBSession` owns both: :meth:`DuckDBSession.close` (or leaving the
``with`` block, on success, error or interrupt) removes the folder, and a folder left by a killed
process is removed by the next report run (:func:`relmkt_helpers.report._fs.remove_stale`).

Examples
--------
>>> import os
>>> with DuckDBSession(memory_limit="512MB") as s:
...     spill = s.temp_dir
...     int(s.con.raw_sql("select 41 + 1").fetchone()[0])
42
>>> os.path.exists(spill)
False
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import Any

from ..errors import ParameterError, RelmktError

#: Prefix of the spill folder; report/_fs.remove_stale removes those of dead processes.
SPILL_PREFIX = "relmkt-duckdb-"
#: Default share of the machine's memory DuckDB may use (the kernels of a report need the rest).
DEFAULT_SHARE = 0.5
_SIZE = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[kmgt]i?b?|b|%)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "k": 1e3, "kb": 1e3, "kib": 2**10, "m": 1e6, "mb": 1e6, "mib": 2**20, "g": 1e9, "gb": 1e9,
          "gib": 2**30, "t": 1e12, "tb": 1e12, "tib": 2**40}


class EngineError(RelmktError, RuntimeError):
    """The engine could not finish (out of memory, a failed read); the message says what to change."""


def machine_memory() -> int:
    """Physical memory of this machine in bytes (cgroup limit if lower)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        limit = int(Path("/sys/fs/cgroup/memory.max").read_text().strip())
        return min(total, limit)
    except (OSError, ValueError):
        return total


def parse_memory_limit(value: Any) -> int:
    """Bytes from ``"4GB"``, ``"512MiB"``, ``"60%"`` (of this machine) or a number of bytes.

    ``None`` gives the default: the environment variable ``RELMKT_MEMORY_LIMIT`` if set (a batch
    job's setting), else half of the machine.

    Examples
    --------
    >>> parse_memory_limit("2GB"), parse_memory_limit("1GiB"), parse_memory_limit(2**30)
    (2000000000, 1073741824, 1073741824)
    """
    if value is None:
        value = os.environ.get("RELMKT_MEMORY_LIMIT") or None
    if value is None:
        return int(machine_memory() * DEFAULT_SHARE)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        num, unit = float(value), "b"
    else:
        m = _SIZE.match(str(value))
        if not m:
            raise ParameterError(
                f"memory_limit {value!r} is not a size: write it like '4GB', '512MB' or '50%' of this machine "
                "(command line: --memory-limit 4GB)."
            )
        num, unit = float(m["num"]), (m["unit"] or "b").lower()
    size = machine_memory() * num / 100 if unit == "%" else num * _UNITS[unit]
    if size < 64 * 2**20:
        raise ParameterError(
            f"memory_limit {value!r} is below 64 MB, too little for the engine to read anything; "
            "pass at least '256MB' (command line: --memory-limit 256MB)."
        )
    return int(size)


def _mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MiB" if n < 10 * 2**30 else f"{n / 2**30:,.1f} GiB"


class DuckDBSession:
    """An Ibis DuckDB backend with a memory limit, a thread count and its own spill folder.

    Parameters
    ----------
    memory_limit : str or int, optional
        ``"4GB"``, ``"50%"``, or bytes. Default: half of this machine.
    threads : int, optional
        Default: every core.
    temp_root : path, optional
        Where the spill folder is created. Default: the system's temporary directory.
    """

    def __init__(self, *, memory_limit: Any = None, threads: int | None = None, temp_root: str | Path | None = None):
        import ibis

        self.memory_limit = parse_memory_limit(memory_limit)
        self.temp_dir = tempfile.mkdtemp(prefix=f"{SPILL_PREFIX}{os.getpid()}-", dir=temp_root)
        try:
            self.con = ibis.duckdb.connect(
                memory_limit=f"{self.memory_limit // 2**20}MiB", temp_directory=self.temp_dir,
                threads=threads or os.cpu_count() or 1, preserve_insertion_order=False)
        except BaseException:
            shutil.rmtree(self.temp_dir, ignore_errors=True)
            raise
        self._closed = False
        # the spill folder goes when the session does, and at the latest when the process exits
        # (a notebook's session lives as long as its kernel)
        self._remove_spill = weakref.finalize(self, shutil.rmtree, self.temp_dir, True)

    @property
    def raw(self):
        """The underlying ``duckdb.DuckDBPyConnection``."""
        return self.con.con

    def execute(self, expr, what: str):
        """``expr.to_pandas()``, with DuckDB's failures turned into errors that say what to do."""
        return self._guard(expr.to_pandas, what)

    def _guard(self, run, what: str):
        import duckdb

        try:
            return run()
        except duckdb.OutOfMemoryException as exc:
            raise EngineError(
                f"{what}: DuckDB ran out of its memory limit of {_mb(self.memory_limit)} even after spilling to "
                f"disk ({str(exc).splitlines()[0][:200]}). Raise it, e.g. memory_limit='{_suggest(self.memory_limit)}' "
                f"(command line: --memory-limit {_suggest(self.memory_limit)}); this machine has "
                f"{_mb(machine_memory())}."
            ) from None
        except duckdb.IOException as exc:
            if "No space left" in str(exc):
                raise EngineError(
                    f"{what}: the disk holding DuckDB's spill folder {self.temp_dir} is full. Free space there, "
                    "or set TMPDIR to a larger disk."
                ) from None
            raise

    def materialize(self, expr, what: str):
        """Compute ``expr`` once into a temporary table of this session (DuckDB spills it if needed)."""
        import uuid

        nulls = {c: expr[c].cast("string") for c, t in expr.schema().items() if t.is_null()}
        if nulls:  # an all-missing column (e.g. from a DataFrame of None) has no type of its own
            expr = expr.mutate(**nulls)
        return self._guard(lambda: self.con.create_table(f"relmkt_{uuid.uuid4().hex[:12]}", obj=expr, temp=True), what)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.con.disconnect()
        finally:
            self._remove_spill()

    def __enter__(self) -> "DuckDBSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):  # a session dropped without close() still removes its folder
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


def _suggest(limit: int) -> str:
    return f"{max(1, round(2 * limit / 1e9))}GB"
