"""Benchmark: the full monthly report (every notebook) on a large generated shop.

Issue 7's target: 10M transactions (about 1M customers) in at most 120 s of wall time and at most
4 GB of peak memory on this 2-core machine. The report runs in a subprocess (as `relmkt report`
does); peak memory is the largest ``ru_maxrss`` among the runner and the notebook kernels it
started (each notebook runs in its own kernel process).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_report.py --write

Data: ``benchmarks/generate_large.py benchmarks/data/report --customers 1000000 --seed 2024
--rate-scale 4.6 --loyalty-scale 5 --parquet`` (about 10.1M orders; generated on first use, cached,
git-ignored). ``--write`` stores the table in ``benchmarks/results/report.md``.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data" / "report"

CHILD = r"""
import json, resource, sys, time
from relmkt_helpers.report import build_report
data, spend, subs, out = sys.argv[1:5]
t0 = time.perf_counter()
result = build_report(data, spend_path=spend, subscriptions_path=subs, out_dir=out, progress=False)
seconds = time.perf_counter() - t0
import nbformat
cells = {}
for nb_path in sorted(result.path.glob("*.ipynb")):
    nb = nbformat.read(nb_path, as_version=4)
    timed = [(c.metadata.get("papermill", {}).get("duration") or 0.0, i, c.source.strip().splitlines()[0][:70])
             for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    cells[nb_path.stem] = sorted(timed, reverse=True)[:4]
print(json.dumps({"seconds": seconds, "timings": result.timings, "month": result.month, "cells": cells,
                  "rows": result.metrics["rows_read"],
                  "peak_self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "peak_children_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def sample_tree_rss(proc: subprocess.Popen, every: float = 0.05) -> float:
    """Wait for ``proc``; return the peak of the summed RSS (MiB) of it and all its descendants.

    The runner and the notebook kernels it starts are separate processes, so the memory the machine
    needs is their sum at each moment, not the largest single process. Sampled every ``every`` s.
    """
    import psutil

    root = psutil.Process(proc.pid)
    peak = 0
    per_pid: dict[int, int] = {}
    while proc.poll() is None:
        total = 0
        try:
            procs = [root] + root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for p in procs:
            try:
                rss = p.memory_info().rss
            except psutil.NoSuchProcess:
                continue
            total += rss
            per_pid[p.pid] = max(per_pid.get(p.pid, 0), rss)
        peak = max(peak, total)
        time.sleep(every)
    PER_PROCESS.extend(v / 2**20 for v in per_pid.values())  # runner first, then kernels in start order
    return peak / 2**20


PER_PROCESS: list[float] = []


def ensure_data(customers: int) -> Path:
    shop = DATA / f"shop_{customers}"
    if not (shop / "transactions.parquet").exists():
        subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate_large.py"), str(DATA), "--customers",
                        str(customers), "--seed", "2024", "--rate-scale", "4.6", "--loyalty-scale", "5", "--parquet"],
                       check=True, cwd=ROOT)
    return shop


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--write", action="store_true", help="write benchmarks/results/report.md")
    args = ap.parse_args()
    shop = ensure_data(args.customers)
    with tempfile.TemporaryDirectory() as out, tempfile.TemporaryFile("w+") as so, \
            tempfile.TemporaryFile("w+") as se:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(shop / "transactions.parquet"),
                                 str(shop / "marketing_spend.parquet"), str(shop / "subscriptions.parquet"), out],
                                stdout=so, stderr=se, text=True, cwd=ROOT)
        peak_sum = sample_tree_rss(proc)
        wall = time.perf_counter() - t0
        so.seek(0)
        se.seek(0)
        stdout, stderr = so.read(), se.read()
    if proc.returncode != 0:
        print(stderr[-3000:])
        return proc.returncode
    r = json.loads(stdout.strip().splitlines()[-1])
    peak_single = max(r["peak_self_mib"], r["peak_children_mib"])
    peak = max(peak_sum, peak_single)
    print(json.dumps(r, indent=2))
    print(f"wall {wall:.1f} s (target 120), peak {peak:,.0f} MiB summed over processes (target 4,096); "
          f"largest single process {peak_single:,.0f} MiB")
    print("peak RSS per process (MiB, runner first, then kernels in start order):",
          ", ".join(f"{v:,.0f}" for v in PER_PROCESS))
    if args.write:
        import pandas as pd

        lines = [
            "# Benchmark: the full monthly report on a large shop",
            "",
            f"Command: `.venv/bin/python benchmarks/bench_report.py --customers {args.customers} --write`",
            "",
            f"Machine: {platform.machine()}, 2 cores, Python {platform.python_version()}, pandas {pd.__version__}.",
            f"Data: {r['rows']:,} orders of {args.customers:,} customers (see the script), month {r['month']}, "
            "with the spend ledger and the subscription table.",
            "",
            "| notebook | seconds |",
            "|---|---|",
        ]
        lines += [f"| {k} | {v:.1f} |" for k, v in r["timings"].items()]
        lines += ["", "Slowest cells (papermill's per-cell durations):", "", "| notebook | cell | first line | seconds |",
                  "|---|---|---|---|"]
        lines += [f"| {nb} | {i} | `{src}` | {d:.1f} |" for nb, rows in r["cells"].items() for d, i, src in rows]
        lines += [
            "",
            f"Wall time of the whole run (subprocess, including imports): **{wall:.1f} s** (target at most 120 s).",
            f"Peak memory: **{peak:,.0f} MiB** (the runner and its notebook kernels together: their resident "
            f"memory summed, sampled every 50 ms; target at most 4,096 MiB). Largest single process: "
            f"{peak_single:,.0f} MiB (ru_maxrss). Peak of each process (MiB, runner first, then the kernels in "
            "start order): " + ", ".join(f"{v:,.0f}" for v in PER_PROCESS) + ".",
            "",
        ]
        (ROOT / "benchmarks" / "results" / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
