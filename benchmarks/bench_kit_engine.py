"""Benchmark: each reduction at 10M orders, the kit's engine next to hand-written DuckDB and to pandas.

Issue 13 asks, per reduction, for "the kit's time next to a hand-written DuckDB query for the same
result, and next to today's pandas path, in one run (ratios, not absolute times)". The variants
(each in its own subprocess, ``bench_engines.child``):

* ``pandas``: the kit's numpy path on the canonical frame already in memory (the reference result);
* ``pandas+load``: the same including ``load_transactions`` of the raw Parquet file (validation);
* ``duckdb-sql``: a hand-written DuckDB query on the file (no validation: the floor);
* ``kit-duckdb``: the kit's engine, ``relmkt_helpers.engine``: DuckDB reads the file, applies the
  whole data contract (duplicates, invalid rows, refunds, order collapse, the ledger) and runs the
  reduction's Ibis expression; only the result comes back.

Every engine result is compared with the pandas result on every row (counts exactly, money to 1e-12).

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_kit_engine.py --write            # 10M orders, ~10 min
    .venv/bin/python benchmarks/bench_kit_engine.py --orders 1000000   # quick
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_engines as be  # noqa: E402
from _common import cpu_name  # noqa: E402

RESULTS = be.HERE / "results" / "kit_engine.md"  # with --memory-limit X: kit_engine_X.md
VARIANTS = ("pandas", "pandas+load", "duckdb-sql", "kit-duckdb")
LABEL = dict(be.LABEL, **{"kit-duckdb": "**kit engine** (DuckDB: contract + Ibis reduction, on the file)"})


def main(argv: list[str] | None = None) -> int:
    import pandas as pd

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=10_000_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--memory-limit", default=None,
                    help="the kit engine's DuckDB memory limit (RELMKT_MEMORY_LIMIT for the children); default: "
                         "the kit's default, half of the machine")
    args = ap.parse_args(argv)
    if args.memory_limit:
        os.environ["RELMKT_MEMORY_LIMIT"] = args.memory_limit
    t0 = time.perf_counter()
    raw, canonical = be.ensure_data(args.orders)
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory(prefix="relmkt-kit-engine-") as tmp:
        for r in be.REDUCTIONS:
            res = {v: be.run_child(r, v, raw, canonical, args.repeats, Path(tmp)) for v in VARIANTS}
            ref = pd.read_parquet(res["pandas"]["out"])
            med = {v: be._median(x["times"]) for v, x in res.items()}
            for v in VARIANTS:
                check = "reference" if v == "pandas" else be._check_text(
                    be.compare(r, ref, pd.read_parquet(res[v]["out"])))
                x = res[v]
                rows.append((r, v, med[v], x["times"], med[v] / med["kit-duckdb"], med[v] / med["duckdb-sql"],
                             x.get("peak_runs_mib"), x["process_peak_mib"], check))
                print(f"{r:7s} {v:12s} {med[v]:7.2f} s  peak {x['process_peak_mib']:7,.0f} MiB  {check}", flush=True)
    load_after = os.getloadavg()
    lines = [
        "# Benchmark: the kit's engine, per reduction (issue 13)", "",
        f"Command: `.venv/bin/python benchmarks/bench_kit_engine.py{' --write' if args.write else ''}"
        f"{f' --memory-limit {args.memory_limit}' if args.memory_limit else ''}"
        f"{f' --orders {args.orders}' if args.orders != 10_000_000 else ''}` (from the repository root).", "",
        f"Machine: {os.cpu_count()} cores ({cpu_name()}), shared and noisy; load average "
        f"{load_before[0]:.2f} before, {load_after[0]:.2f} after; whole run {(time.perf_counter() - t0) / 60:.1f} min. "
        f"Data: `{raw.relative_to(be.ROOT)}` (as in `engines.md`). Median of {args.repeats} runs, each variant in "
        "its own subprocess, all in this one invocation. *kit engine* includes reading the file and the whole "
        "data contract; *DuckDB SQL* is the same reduction hand-written, without validation (the floor); "
        "*pandas + load* is today's path from the file; *pandas* is the numpy reduction on a frame already in "
        "memory. Ratios: the row's median over the kit engine's, and over the hand-written query's. The kit "
        f"engine's DuckDB memory limit: {args.memory_limit or 'the default, half of the machine'}.", "",
    ]
    for r in be.REDUCTIONS:
        lines += [f"## {be.TITLE[r]}", "", "| variant | median (s) | runs (s) | ÷ kit engine | ÷ DuckDB SQL | "
                  "peak RSS in runs (MiB) | process peak (MiB) | same result as pandas |", "|---|---|---|---|---|---|---|---|"]
        for rr, v, m, times, rk, rs, peak, ppeak, check in rows:
            if rr == r:
                lines.append(f"| {LABEL[v]} | {m:.2f} | {', '.join(f'{t:.2f}' for t in times)} | {rk:.2f} | {rs:.2f} | "
                             f"{'n/a' if peak is None else f'{peak:,.0f}'} | {ppeak:,.0f} | {check} |")
        lines.append("")
    text = "\n".join(lines)
    print(text)
    if args.write:
        out = RESULTS.with_name(f"kit_engine_{args.memory_limit}.md") if args.memory_limit else RESULTS
        out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
