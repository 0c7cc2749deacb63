"""Benchmark: the Spark engine (issue 14): a local session's start-up, and the full report next to DuckDB and pandas.

1. Start-up: a fresh process starts a local SparkSession (``local[*]``, as ``engine="spark"`` does)
   and runs one tiny query; wall time and the JVM's resident memory. Median of ``--startups``.
2. The full monthly report (every notebook) on a generated shop from one Parquet file, with
   ``--engine spark``, ``--engine duckdb`` and ``--engine pandas`` alternating within each run.
   Peak memory is summed over the runner, its kernels and their JVMs (each kernel on the Spark
   path starts its own local session). Medians of ``--runs``.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_spark.py --customers 100000 --runs 1 --write

Data: ``benchmarks/generate_large.py`` as in ``bench_report.py`` (generated on first use, cached,
git-ignored). ``--write`` stores the tables in ``benchmarks/results/spark.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "spark.md"

STARTUP = r"""
import json, resource, time
t0 = time.perf_counter()
from relmkt_helpers.engine.spark import local_spark
spark = local_spark()
started = time.perf_counter() - t0
spark.range(10).count()
print(json.dumps({"start": started, "first_query": time.perf_counter() - t0 - started}))
"""


def startup_once() -> dict:
    import psutil

    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", STARTUP], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True, cwd=ROOT)
    root, peak = psutil.Process(proc.pid), 0
    while proc.poll() is None:
        try:
            peak = max(peak, sum(p.memory_info().rss for p in [root] + root.children(recursive=True)))
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.05)
    out = json.loads(proc.stdout.read().strip().splitlines()[-1])
    return {**out, "process": time.perf_counter() - t0, "peak_mib": peak / 2**20}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--startups", type=int, default=3)
    ap.add_argument("--engines", default="spark,duckdb,pandas")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    starts = [startup_once() for _ in range(args.startups)]
    print("start-up:", [f"{s['start']:.1f}s" for s in starts])
    shop = bench_report.ensure_data(args.customers)
    engines = args.engines.split(",")
    runs: dict[str, list[dict]] = {e: [] for e in engines}
    for k in range(args.runs):
        for engine in engines:
            res = bench_report.run_once(shop, engine)
            if res is None:
                print(f"{engine}: the report failed")
                return 1
            runs[engine].append(res)
            print(f"run {k + 1} {engine}: {res['wall']:.1f} s, peak {res['peak']:,.0f} MiB; "
                  + ", ".join(f"{nb} {s:.1f}s" for nb, s in res["timings"].items()))
    if args.write:
        write(args, starts, runs)
    return 0


def write(args, starts: list[dict], runs: dict[str, list[dict]]) -> None:
    med = lambda xs: statistics.median(xs)  # noqa: E731
    first = next(iter(runs.values()))[0]
    each = ", ".join(f"{s['start']:.1f}" for s in starts)
    lines = [
        "# Benchmark: the Spark engine (local mode) next to DuckDB and pandas",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_spark.py --customers {args.customers} --runs {args.runs} "
        f"--startups {args.startups} --write`",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared, noisy); pyspark "
        f"{_version('pyspark')}, Java {_java()}. Data: {first['rows']:,} order rows of {args.customers:,} customers "
        "in one Parquet file, with the spend ledger and the subscription table.",
        "",
        "## Start-up of a local session",
        "",
        f"A fresh process starting `local[{os.cpu_count()}]` (what `engine=\"spark\"` does without an active session): "
        f"median **{med([s['start'] for s in starts]):.1f} s** to a session "
        f"(runs: {each} s), "
        f"then {med([s['first_query'] for s in starts]):.1f} s for its first query; the process and its JVM peak "
        f"at {med([s['peak_mib'] for s in starts]):,.0f} MiB.",
        "",
        "## The full report",
        "",
        f"Each run alternates the engines; medians of {args.runs} run(s). Peak memory is summed over the runner, "
        "the kernels and their JVMs at each moment.",
        "",
        "| engine | wall (s) | vs DuckDB | peak memory (MiB) | " + " | ".join(first["timings"]) + " |",
        "|---|---|---|---|" + "---|" * len(first["timings"]),
    ]
    duck = med([r["wall"] for r in runs["duckdb"]]) if "duckdb" in runs else None
    for engine, rs in runs.items():
        wall = med([r["wall"] for r in rs])
        steps = " | ".join(f"{med([r['timings'][k] for r in rs]):.1f}" for k in first["timings"])
        ratio = f"{wall / duck:.2f}" if duck else ""
        lines.append(f"| {engine} | {wall:.1f} | {ratio} | {med([r['peak'] for r in rs]):,.0f} | {steps} |")
    RESULTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {RESULTS}")


def _version(pkg: str) -> str:
    from importlib.metadata import version

    return version(pkg)


def _java() -> str:
    out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()
    return out[0].split('"')[1] if out and '"' in out[0] else "?"


if __name__ == "__main__":
    sys.exit(main())
