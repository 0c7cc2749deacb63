"""Benchmark: load_transactions (validation + row ledger + one row per order) against a bare pandas read.

The obvious alternative is ``pd.read_csv`` / ``pd.read_parquet`` with no checks at all; the ratio
says what the data contract costs. Each variant runs in a fresh subprocess, so its peak memory
(``ru_maxrss`` of the child) is its own.

It also times the canonical file (``save_canonical``) that ``relmkt report`` validates once and hands
to every notebook, and re-loading it.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_load.py               # 1M customers, ~9.5M orders
    .venv/bin/python benchmarks/bench_load.py --customers 200000 --write

Data: ``generate_sample_shop`` with every channel's BG/NBD alpha divided by 4 and b multiplied by 5
(as ``benchmarks/generate_large.py --rate-scale 4 --loyalty-scale 5``), cached in
``benchmarks/data/`` (git-ignored). ``--write`` stores the table in ``benchmarks/results/load.md``.
"""
from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"

CHILD = r"""
import json, resource, sys, time
import pandas as pd
from relmkt_helpers import load_transactions, save_canonical
variant, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if variant == "pandas read_csv":
    df = pd.read_csv(path, dtype={"customer_id": "str", "order_id": "str"}, parse_dates=["order_date"])
    rows = len(df)
elif variant == "pandas read_parquet":
    df = pd.read_parquet(path)
    rows = len(df)
elif variant == "save canonical":
    df, ledger = load_transactions(path)
    t0 = time.perf_counter()  # time the write only
    save_canonical(df, ledger, sys.argv[3])
    rows = ledger.orders
else:
    df, ledger = load_transactions(path)
    rows = ledger.rows_read
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "rows": rows,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_data(customers: int) -> tuple[Path, Path]:
    from relmkt_helpers.datasets import generate_sample_shop

    DATA.mkdir(parents=True, exist_ok=True)
    csv, pq = DATA / f"load_{customers}.csv", DATA / f"load_{customers}.parquet"
    if not (csv.exists() and pq.exists()):
        channels = ("search", "social", "affiliate", "referral")
        base = generate_sample_shop(10, seed=1).truth["bgnbd"]
        params = {"bgnbd": {c: {"alpha": base[c]["alpha"] / 4, "b": base[c]["b"] * 5} for c in channels}}
        shop = generate_sample_shop(customers, seed=1, params=params)
        shop.transactions.to_parquet(pq, index=False)
        shop.transactions.to_csv(csv, index=False, date_format="%Y-%m-%d")
    return csv, pq


def run(variant: str, path: Path, *extra: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, variant, str(path), *extra], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--write", action="store_true", help="write benchmarks/results/load.md")
    ap.add_argument("--only-data", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.only_data:
        make_data(args.customers)
        return 0
    # Generate the data in its own process: a child forked from a parent that holds the generated
    # shop would report the parent's memory as its own ru_maxrss.
    subprocess.run([sys.executable, __file__, "--customers", str(args.customers), "--only-data"], check=True,
                   cwd=ROOT)
    csv, pq = make_data(args.customers)  # cached by now: only the paths
    rows = []
    for variant, path in (("pandas read_csv", csv), ("load_transactions (CSV)", csv),
                          ("pandas read_parquet", pq), ("load_transactions (Parquet)", pq)):
        result = run(variant, path)
        rows.append((variant, result))
        print(f"{variant:30s} {result['seconds']:7.2f} s  peak {result['peak_mib']:7.0f} MiB  rows {result['rows']:,}")
    # the canonical file (what relmkt report hands its notebooks): written once, then re-loaded
    canonical = DATA / f"load_{args.customers}.canonical.parquet"
    for variant, path, extra in (("save canonical", pq, (str(canonical),)),
                                 ("load_transactions (canonical Parquet)", canonical, ())):
        result = run(variant, path, *extra)
        rows.append((variant, result))
        print(f"{variant:30s} {result['seconds']:7.2f} s  peak {result['peak_mib']:7.0f} MiB  rows {result['rows']:,}")
    canonical.unlink()
    csv_ratio = rows[1][1]["seconds"] / rows[0][1]["seconds"]
    pq_ratio = rows[3][1]["seconds"] / rows[2][1]["seconds"]
    canon_ratio = rows[3][1]["seconds"] / rows[5][1]["seconds"]
    print(f"contract overhead: CSV x{csv_ratio:.2f}, Parquet x{pq_ratio:.2f}; canonical re-load x{canon_ratio:.1f} "
          "faster than validating the Parquet file")
    if args.write:
        import numpy as np
        import pandas as pd

        lines = [
            "# Benchmark: load_transactions vs a bare pandas read",
            "",
            f"Command: `.venv/bin/python benchmarks/bench_load.py --customers {args.customers} --write`",
            "",
            f"Machine: {platform.processor() or platform.machine()}, 2 cores, Python {platform.python_version()}, "
            f"pandas {pd.__version__}, numpy {np.__version__}. Each variant in a fresh subprocess; peak = ru_maxrss "
            "of that subprocess (includes the interpreter and imports).",
            "",
            f"Data: {rows[0][1]['rows']:,} orders of {args.customers:,} customers (sample-shop generator, see the "
            "script's docstring). load_transactions checks every row (ids, dates, time zones, amounts, "
            "duplicates), writes the row ledger and sorts by date.",
            "",
            "| variant | seconds | peak MiB |",
            "|---|---|---|",
        ]
        lines += [f"| {v} | {r['seconds']:.2f} | {r['peak_mib']:,.0f} |" for v, r in rows]
        lines += ["", f"Cost of the data contract over the bare read: CSV x{csv_ratio:.2f}, Parquet x{pq_ratio:.2f}.",
                  "",
                  f"`save canonical` times only the write of `save_canonical(tx, ledger, path)`, the file `relmkt "
                  f"report` hands its notebooks; `load_transactions` recognises it and re-loads frame and ledger "
                  f"without validating again: x{canon_ratio:.1f} faster than validating the Parquet file.", ""]
        out = ROOT / "benchmarks" / "results" / "load.md"
        out.write_text("\n".join(lines), encoding="utf-8")
        print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
