"""Warm kernels for the report runner: start the next notebook's kernel while the current one runs.

Every notebook runs in a fresh kernel (papermill's model: no state leaks from one analysis into
the next). Starting a kernel and importing pandas, matplotlib, scikit-learn, lifetimes and the kit
takes about 3 s, five times per report, and the machine's second core is idle meanwhile. So the
runner starts kernel *k + 1*, and runs the imports in it (silently: nothing appears in the
notebook and the execution count is untouched), while notebook *k* executes; papermill is then
handed the ready kernel (``execute_notebook(..., km=...)``). The first kernel warms up while the
runner validates the data. Any failure to warm a kernel falls back to papermill starting its own.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

__all__ = ["WarmKernels", "WARM_UP_CODE", "shutdown_kernel"]

#: Imports run in a kernel before it is handed to papermill (the notebooks import the same).
WARM_UP_CODE = """\
import matplotlib.pyplot
import numpy
import pandas
import relmkt_helpers
import relmkt_helpers.plots
"""


class _Warming:
    """One kernel being started and warmed in a background thread.

    The kernel manager is an ``AsyncKernelManager``, as nbclient expects: handed a blocking one,
    nbclient waits on the kernel's output channel with a blocking call inside its event loop,
    which stops its cell-timeout clock (a hung cell then waits forever, whatever
    ``execution_timeout`` says). Starting and warming run in this thread's own event loop.
    """

    def __init__(self, kernel_name: str, cwd: Path, code: str, timeout: float) -> None:
        from jupyter_client.manager import AsyncKernelManager

        self.km = AsyncKernelManager(kernel_name=kernel_name)
        self.ok = False
        self.error: str | None = None
        self._thread = threading.Thread(target=self._run, args=(cwd, code, timeout), daemon=True)
        self._thread.start()

    def _run(self, cwd: Path, code: str, timeout: float) -> None:
        import asyncio

        try:
            asyncio.run(self._warm(cwd, code, timeout))
        except Exception as exc:  # noqa: BLE001 - reported through .ok/.error, papermill falls back
            self.error = f"{type(exc).__name__}: {exc}"

    async def _warm(self, cwd: Path, code: str, timeout: float) -> None:
        import asyncio

        await asyncio.wait_for(self.km.start_kernel(cwd=str(cwd)), timeout)
        kc = self.km.client()
        try:
            kc.start_channels()
            await kc.wait_for_ready(timeout=timeout)
            msg_id = kc.execute(code, silent=True, store_history=False)
            while True:
                msg = await kc.get_shell_msg(timeout=timeout)
                if msg["parent_header"].get("msg_id") == msg_id:
                    self.ok = msg["content"]["status"] == "ok"
                    if not self.ok:
                        self.error = f"{msg['content'].get('ename')}: {msg['content'].get('evalue')}"
                    return
        finally:
            kc.stop_channels()

    def ready(self) -> bool:
        self._thread.join()
        return self.ok

    def shutdown(self) -> None:
        self._thread.join()
        shutdown_kernel(self.km)


def shutdown_kernel(km: Any) -> None:
    """Stop a kernel the runner started (an ``AsyncKernelManager``), quietly if it is already gone."""
    from jupyter_core.utils import run_sync

    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # noqa: BLE001 - already gone
        pass


class WarmKernels:
    """Hand out warmed kernels in notebook order, keeping the next one warming.

    Parameters
    ----------
    kernel_name : str
        Jupyter kernel spec name.
    cwds : list of Path
        Working folder of each notebook, in run order (papermill runs a notebook in its folder).
    enabled : bool
        ``False`` hands out nothing (papermill starts each kernel itself).

    Use as a context manager; :meth:`take` returns a started, warmed ``KernelManager`` for the next
    notebook, or ``None`` (warming failed: let papermill start one). The caller shuts the returned
    kernel down after the notebook (papermill does not own it).

    Examples
    --------
    >>> from pathlib import Path
    >>> with WarmKernels("python3", [Path(".")], enabled=False) as pool:
    ...     pool.take() is None
    True
    """

    def __init__(self, kernel_name: str, cwds: list[Path], *, enabled: bool = True, code: str = WARM_UP_CODE,
                 timeout: float = 120.0) -> None:
        self.kernel_name = kernel_name
        self.cwds = list(cwds)
        self.enabled = enabled
        self.code = code
        self.timeout = timeout
        self.errors: list[str] = []
        self._i = 0
        self._next: _Warming | None = None

    def __enter__(self) -> "WarmKernels":
        self._start_next()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _start_next(self) -> None:
        self._next = None
        if not self.enabled or self._i >= len(self.cwds):
            return
        try:
            self._next = _Warming(self.kernel_name, self.cwds[self._i], self.code, self.timeout)
        except Exception as exc:  # noqa: BLE001 - no warm kernel: papermill starts its own
            self.errors.append(f"{type(exc).__name__}: {exc}")

    def take(self) -> Any:
        """The warmed kernel manager for the next notebook (or ``None``); starts warming the one after."""
        current, self._next = self._next, None
        self._i += 1
        self._start_next()
        if current is None:
            return None
        if current.ready():
            return current.km
        self.errors.append(current.error or "warm-up failed")
        current.shutdown()
        return None

    def close(self) -> None:
        """Shut down the kernel still warming (if any)."""
        if self._next is not None:
            self._next.shutdown()
            self._next = None
