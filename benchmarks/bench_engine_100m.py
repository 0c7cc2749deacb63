"""Benchmark: 100M orders / 10M customers from a folder of Parquet files, the engine against today's pandas path.

Issue 13 asks whether the kit can read and reduce a log ten times the 10M benchmark on this 2-core,
24 GB machine, and where today's pandas path fails at that size. Two children, each measured from
outside (``/proc/<pid>/status`` sampled every 0.2 s, summed over the child and its threads; a
child whose resident memory passes ``--kill-at`` is killed and the step it had reached recorded):

* ``engine``: :func:`relmkt_helpers.engine.open_orders` on the folder with ``--memory-limit``
  (the whole data contract, with its ledger), then the per-order reductions the report needs:
  the per-customer RFM summary, its (x, t_x, T) counts for the BTYD fits, cohort activity,
  monthly counts and the economics activity per channel. Only those results come back.
* ``pandas``: today's path for the same folder: ``pandas.read_parquet`` of the folder, then
  ``load_transactions`` of the frame and the numpy ``rfm_summary``.

The data is written by ``generate_chunked.py`` (one chunk of 1M customers at a time) on first use.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_engine_100m.py --write          # 10M customers, ~100M orders
    .venv/bin/python benchmarks/bench_engine_100m.py --customers 1000000   # quick, ~10M orders
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "engine_100m.md"

ENGINE_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
def step(name):
    print(json.dumps({"step": name, "t": time.perf_counter() - t0}), flush=True)
from relmkt_helpers.engine import DuckDBSession, open_orders, rfm_summary, cohort_activity, monthly_counts
from relmkt_helpers.engine.analyses import activity
from relmkt_helpers.engine.reductions import rfm_counts_expr
folder, limit = sys.argv[1], sys.argv[2]
step("start")
with DuckDBSession(memory_limit=limit) as s:
    with open_orders(folder, session=s) as o:
        step("contract")
        end = o.ledger.last_date
        summary = rfm_summary(o, observation_end=end, freq="W")
        step("rfm_summary")
        counts = s.execute(rfm_counts_expr(o.table, observation_end=end, freq="W"), "counts")
        step("rfm_counts")
        cohorts = cohort_activity(o)
        step("cohort_activity")
        kpis = monthly_counts(o)
        step("monthly_counts")
        act = activity(o, channel_col="channel")
        step("activity")
        print(json.dumps({"result": {"orders": o.ledger.orders, "customers": o.ledger.customers,
              "rows_read": o.ledger.rows_read, "summary_rows": len(summary), "xtT_rows": len(counts),
              "cohort_rows": len(cohorts), "months": len(kpis), "revenue": float(kpis["revenue"].sum())}}), flush=True)
"""

PANDAS_CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
def step(name):
    print(json.dumps({"step": name, "t": time.perf_counter() - t0}), flush=True)
import pandas as pd
from relmkt_helpers.io import load_transactions
from relmkt_helpers.clv.prep import rfm_summary
step("start")
raw = pd.read_parquet(sys.argv[1])
step("read_parquet")
tx, ledger = load_transactions(raw)
del raw
step("load_transactions")
rfm_summary(tx, observation_end=ledger.last_date, freq="W")
step("rfm_summary")
print(json.dumps({"result": {"orders": ledger.orders, "customers": ledger.customers}}), flush=True)
"""


def _rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run(code: str, args: list[str], kill_at_mib: float, timeout_s: float) -> dict:
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-W", "ignore", "-c", code, *args], stdout=out, stderr=err,
                                text=True, cwd=ROOT)
        peak, killed = 0.0, None
        start = time.perf_counter()
        while proc.poll() is None:
            peak = max(peak, _rss_mib(proc.pid))
            if peak > kill_at_mib:
                killed = f"killed at {peak:,.0f} MiB resident"
                proc.kill()
            elif time.perf_counter() - start > timeout_s:
                killed = f"killed after {timeout_s:.0f} s"
                proc.kill()
            time.sleep(0.2)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        lines, errors = out.read().splitlines(), err.read()
    steps, result = [], None
    for line in lines:
        if not line.startswith(('{"step"', '{"result"')):  # anything else a library printed
            continue
        msg = json.loads(line)
        if "step" in msg:
            steps.append((msg["step"], msg["t"]))
        else:
            result = msg["result"]
    return {"peak_mib": peak, "steps": steps, "result": result, "killed": killed, "rc": proc.returncode,
            "wall_s": wall, "stderr": errors[-2000:] if proc.returncode else ""}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=10_000_000)
    ap.add_argument("--memory-limit", default="6GB", help="DuckDB's limit for the engine child (default 6GB)")
    ap.add_argument("--kill-at", type=float, default=16_000, help="MiB; a child above it is killed (default 16000)")
    ap.add_argument("--timeout", type=float, default=1800)
    ap.add_argument("--skip-pandas", action="store_true")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args(argv)
    data = HERE / "data" / f"orders_{args.customers}"
    folder = data / "transactions"
    t = time.perf_counter()
    if not (data / "manifest.json").exists():
        subprocess.run([sys.executable, str(HERE / "generate_chunked.py"), str(data), "--customers",
                        str(args.customers)], check=True, cwd=ROOT)
    gen_s = time.perf_counter() - t
    manifest = json.loads((data / "manifest.json").read_text())
    load = os.getloadavg()
    eng = run(ENGINE_CHILD, [str(folder), args.memory_limit], args.kill_at, args.timeout)
    print(json.dumps(eng, indent=1), flush=True)
    pan = None if args.skip_pandas else run(PANDAS_CHILD, [str(folder)], args.kill_at, args.timeout)
    if pan:
        print(json.dumps(pan, indent=1), flush=True)

    def table(res: dict) -> list[str]:
        rows, prev = [], 0.0
        for name, t_s in res["steps"]:
            rows.append(f"| {name} | {t_s - prev:,.1f} | {t_s:,.1f} |")
            prev = t_s
        return ["| step | seconds | cumulative |", "|---|---|---|", *rows]

    lines = [
        "# Benchmark: 100M orders from a folder of Parquet files (issue 13)", "",
        f"Command: `.venv/bin/python benchmarks/bench_engine_100m.py{' --write' if args.write else ''}"
        f"{f' --customers {args.customers}' if args.customers != 10_000_000 else ''}` (from the repository root).",
        "",
        f"Machine: {os.cpu_count()} cores, 24 GiB, shared; load average {load[0]:.2f} at the start. Data: "
        f"`{folder.relative_to(ROOT)}`, {manifest['orders']:,} orders of {manifest['customers']:,} customers in "
        f"{manifest['chunks']} Parquet files ({manifest['bytes'] / 1e9:.2f} GB), written by `generate_chunked.py` "
        f"one chunk of 1M customers at a time{f' ({gen_s / 60:.0f} min)' if gen_s > 5 else ''}. Peak memory is the "
        "child's resident set sampled every 0.2 s from outside (DuckDB runs inside it: this is everything).", "",
        f"## The engine (DuckDB, `--memory-limit {args.memory_limit}`)", "",
        f"Completed: **{'yes' if eng['rc'] == 0 and eng['result'] else 'no: ' + str(eng['killed'] or eng['stderr'][-300:])}**; "
        f"wall time {eng['wall_s']:,.0f} s ({eng['wall_s'] / 60:.1f} min); peak {eng['peak_mib']:,.0f} MiB.", "",
        *table(eng), "",
        f"Result: `{json.dumps(eng['result'])}`", "",
    ]
    if pan:
        lines += [
            "## Today's pandas path (`pandas.read_parquet` of the folder, `load_transactions`, numpy `rfm_summary`)", "",
            f"Completed: **{'yes' if pan['rc'] == 0 and pan['result'] else 'no'}**"
            f"{'; ' + pan['killed'] if pan['killed'] else ''}; wall time {pan['wall_s']:,.0f} s; peak "
            f"{pan['peak_mib']:,.0f} MiB (the watchdog kills the child above {args.kill_at:,.0f} MiB, before the "
            "machine's 24 GiB are gone).", "",
            *table(pan), "",
        ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        RESULTS.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
