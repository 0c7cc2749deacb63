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
print(json.dumps({"seconds": time.perf_counter() - t0, "timings": result.timings, "month": result.month,
                  "rows": result.metrics["rows_read"],
                  "peak_self_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "peak_children_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


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
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, str(shop / "transactions.parquet"),
                               str(shop / "marketing_spend.parquet"), str(shop / "subscriptions.parquet"), out],
                              capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stderr[-3000:])
        return proc.returncode
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    peak = max(r["peak_self_mib"], r["peak_children_mib"])
    print(json.dumps(r, indent=2))
    print(f"wall {wall:.1f} s (target 120), peak {peak:,.0f} MiB (target 4,096)")
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
        lines += [
            "",
            f"Wall time of the whole run (subprocess, including imports): **{wall:.1f} s** (target at most 120 s).",
            f"Peak memory: **{peak:,.0f} MiB** (largest ru_maxrss of the runner and its notebook kernels; "
            "target at most 4,096 MiB).",
            "",
        ]
        (ROOT / "benchmarks" / "results" / "report.md").write_text("\n".join(lines), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
