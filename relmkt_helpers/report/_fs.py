"""The report folder's file-system safety: early checks, atomic publish, clean-up of stale runs, signals.

A report run writes into a hidden ``<out>/.<month>.partial-<pid>/`` folder and a temporary
``relmkt-report-<pid>-*`` folder (the validated data), and publishes by swapping the partial
folder with ``<out>/<month>/``. What this module guarantees:

* the output folder is checked (exists or can be created, is a folder, is writable) before the
  data is read, so a typo in ``--out`` fails in a second, not after minutes of validation;
* the swap is one ``renameat2(RENAME_EXCHANGE)`` on Linux: there is never a moment without a
  report, and two runs finishing at once both succeed (the later one wins);
* SIGTERM (a scheduler's timeout) and SIGINT stop a run through the same clean-up as a failure:
  no partial folder, no temporary copy of the data, no kernel left running;
* a run killed outright (SIGKILL, power loss) leaves its folders behind, and the next run removes
  every partial folder and temporary copy whose process is gone.
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Iterator

from ..errors import ParameterError

__all__ = ["Interrupted", "check_output_dir", "remove_stale", "publish", "keep_failed", "interrupts_raise",
           "work_dir", "partial_dir"]

WORK_PREFIX = "relmkt-report-"
_STALE = re.compile(r"^\.(?P<month>\d{4}-\d{2})\.(?:partial|old)-(?P<pid>\d+)$")
#: the runner's data copies, DuckDB's spill folders (engine/session.py: relmkt-duckdb-<pid>-) and a local
#: Spark's spark.local.dir (engine/spark.py: relmkt-spark-<pid>-)
_STALE_WORK = re.compile(r"^relmkt-(?:report|duckdb|spark)-(?P<pid>\d+)-")
_RENAME_NOREPLACE = 1
_RENAME_EXCHANGE = 2


class Interrupted(BaseException):
    """A report run was stopped by a signal (SIGTERM, SIGINT); clean-up has run.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that no ``except Exception`` in an
    analysis swallows it.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


@contextlib.contextmanager
def interrupts_raise() -> Iterator[None]:
    """Turn SIGTERM (and SIGINT) into :class:`Interrupted` while a run is in progress.

    Only in the main thread (signal handlers can only be set there); elsewhere the process's
    own handling is left as it is. The previous handlers are restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def check_output_dir(out_dir: str | Path) -> Path:
    """Check that reports can be written under ``out_dir`` (creating it), before any work is done.

    Examples
    --------
    >>> import tempfile
    >>> check_output_dir(tempfile.mkdtemp() + "/reports").name  # created only when a report is written
    'reports'
    """
    if str(out_dir).strip() == "":
        raise ParameterError("--out is empty: pass the folder the reports go in (default: reports).")
    out = Path(out_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise ParameterError(f"--out {out} is a file, not a folder. Pass a folder for the reports "
                             f"(e.g. --out {out.parent / 'reports'}).")
    # Probe the folder itself, or (if it does not exist yet) the nearest ancestor that does: the
    # report folder is only created when a report is written, so a failed check leaves nothing.
    probe_in = out
    while not probe_in.exists() and probe_in != probe_in.parent:
        probe_in = probe_in.parent
    try:
        if not probe_in.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, f"{probe_in} is a file")
        os.rmdir(tempfile.mkdtemp(dir=probe_in, prefix=".relmkt-write-check-"))
    except OSError as exc:
        raise ParameterError(
            f"--out {out} cannot be written ({exc.strerror or exc}). Pass a folder you can write to, "
            "or fix its permissions.") from None
    return out.resolve()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale(out_dir: Path, scratch: str | Path | None = None) -> list[Path]:
    """Remove partial report folders and temporary data copies left by runs whose process is gone.

    Returns what was removed. A live run's folders (its process still exists) are left alone.

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp())
    >>> (out / f".2025-12.partial-{os.getpid()}").mkdir()  # this (live) process's: kept
    >>> remove_stale(out, scratch=out)
    []
    """
    removed: list[Path] = []
    candidates: list[tuple[Path, int]] = []
    if out_dir.is_dir():
        candidates += [(p, int(m["pid"])) for p in out_dir.iterdir() if (m := _STALE.match(p.name))]
    scratch = Path(scratch or tempfile.gettempdir())
    if scratch.is_dir():
        candidates += [(p, int(m["pid"])) for p in scratch.iterdir() if (m := _STALE_WORK.match(p.name))]
    for path, pid in candidates:
        if not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
    return removed


def partial_dir(out_dir: Path, month: str) -> Path:
    """The hidden folder a run builds its report in."""
    return out_dir / f".{month}.partial-{os.getpid()}"


def work_dir() -> Path:
    """A new temporary folder for the validated data, named so a later run can tell it is stale."""
    return Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-"))


def _renameat2(src: Path, dst: Path, flags: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fn = libc.renameat2  # AttributeError where libc has none (not glibc >= 2.28)
    at_fdcwd = -100
    if fn(at_fdcwd, os.fsencode(str(src)), at_fdcwd, os.fsencode(str(dst)), ctypes.c_uint(flags)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err), str(src), None, str(dst))


def _unsupported(exc: BaseException) -> bool:
    return isinstance(exc, AttributeError) or (
        isinstance(exc, OSError) and exc.errno in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP))


def publish(tmp: Path, final: Path, *, attempts: int = 20) -> None:
    """Put the finished folder ``tmp`` in place of ``final``, atomically and race-free.

    With an existing ``final`` the two folders are exchanged in one system call and the old
    report (now at ``tmp``) is deleted; without one, ``tmp`` is renamed without replacing
    anything. A concurrent run that publishes the same month in between makes the next attempt
    exchange instead. Where ``renameat2`` is missing (not Linux), two renames are used.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for name in ("old", "new"):
    ...     (root / name).mkdir(); _ = (root / name / "index.html").write_text(name)
    >>> publish(root / "old", root / "2025-12"); publish(root / "new", root / "2025-12")
    >>> (root / "2025-12" / "index.html").read_text(), sorted(p.name for p in root.iterdir())
    ('new', ['2025-12'])
    """
    for _ in range(attempts):
        try:
            if final.exists():
                _renameat2(tmp, final, _RENAME_EXCHANGE)
                shutil.rmtree(tmp, ignore_errors=True)  # the previous report
            else:
                _renameat2(tmp, final, _RENAME_NOREPLACE)
            return
        except FileNotFoundError:  # final vanished between the check and the exchange
            continue
        except FileExistsError:  # another run published first: exchange with its folder
            continue
        except (OSError, AttributeError) as exc:
            if not _unsupported(exc):
                raise
            if _publish_by_rename(tmp, final):
                return
    raise OSError(f"could not move {tmp} to {final} after {attempts} attempts (other runs keep replacing it)")


def _publish_by_rename(tmp: Path, final: Path) -> bool:
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    try:
        if final.exists():
            os.rename(final, old)
        os.rename(tmp, final)
    except OSError as exc:
        if exc.errno in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
            return False
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
    return True


def keep_failed(tmp: Path, failed: Path) -> Path:
    """Move a failed run's folder to ``<month>.failed`` (replacing an older failure)."""
    if not tmp.exists():
        return failed
    publish(tmp, failed)
    return failed
