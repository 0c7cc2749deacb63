"""Benchmark: monthly retention matrix + period KPI table on ~5M orders (~500k customers).

Budget (issue 3): both together in at most 3 s of wall time and 2 GB of peak
memory on a 2-core machine. This is a benchmark, not a timed test.

What is measured
----------------
* **Data**: :func:`relmkt_helpers.datasets.generate_sample_shop` (the sample
  shop's own BG/NBD generator) with 500,000 customers from 2022-01-01 to
  2025-12-31 and a more loyal, more frequent buyer than the bundled shop
  (``alpha=1.5, b=12`` for every channel) so that there are >= 5M orders. The
  frame is cached as Parquet in the temp folder and cast to the canonical dtypes
  (``customer_id``/``order_id`` pandas ``string``, ``order_date``
  ``datetime64[ns]``, ``amount`` float64).
* **Step**: ``retention_matrix(tx, period="M")`` followed by
  ``period_kpis(tx, period="M")``, on the in-memory frame (reading the file is
  not part of the step).
* **Wall time**: ``time.perf_counter`` around the step, repeated; the first
  (cold) run, the median and the best are reported.
* **Peak memory**: each variant runs in its own subprocess. Before the step the
  child resets the kernel's peak-RSS counter (``echo 5 > /proc/self/clear_refs``)
  and reads ``VmHWM`` from ``/proc/self/status`` after it: the peak resident set
  of the whole process *during the step*, including the transaction
  frame itself. ``ru_maxrss`` of the child (whole life, including loading) and
  the ``tracemalloc`` peak of the step (Python/numpy allocations only, in a
  separate untimed run) are reported too.
* **Baseline**: a straightforward pandas implementation (``to_period``,
  ``groupby().transform("min")``, ``nunique``/``unstack``, ``drop_duplicates``
  and ``merge``), run in the same invocation. Its results are checked equal to
  the fast ones before timing.

Run from the repository root::

    .venv/bin/python benchmarks/bench_cohorts.py --write

``--write`` stores the figures in ``benchmarks/results/cohorts.md``.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from _common import vm as _vm, reset_peak as _reset_peak, cpu_name  # noqa: E402 - benchmarks/ is on sys.path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "cohorts.md"
CHANNELS = ("search", "social", "affiliate", "referral")
START, END = "2022-01-01", "2025-12-31"


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------

def data_path(n: int, seed: int) -> Path:
    return Path(tempfile.gettempdir()) / f"relmkt_bench_cohorts_{n}_{seed}.parquet"


def make_data(n: int, seed: int) -> Path:
    path = data_path(n, seed)
    if path.exists():
        return path
    from relmkt_helpers.datasets import generate_sample_shop

    params = {"bgnbd": {c: {"alpha": 1.5, "b": 12.0} for c in CHANNELS}}
    t = time.perf_counter()
    shop = generate_sample_shop(n, seed=seed, params=params, start=START, end=END)
    shop.transactions.to_parquet(path, index=False)
    print(f"generated {len(shop.transactions):,} orders in {time.perf_counter() - t:.1f} s -> {path}", file=sys.stderr)
    return path


def load(path: Path) -> pd.DataFrame:
    """The canonical frame: column order and dtypes of load_transactions."""
    df = pd.read_parquet(path)
    out = pd.DataFrame({
        "customer_id": df["customer_id"].astype("string"),
        "order_date": df["order_date"].astype("datetime64[ns]"),
        "amount": df["amount"].astype("float64"),
        "order_id": df["order_id"].astype("string"),
        "channel": df["channel"].astype("string"),
    })
    del df
    gc.collect()
    return out


# ----------------------------------------------------------------------------
# the two implementations
# ----------------------------------------------------------------------------

def fast(tx: pd.DataFrame):
    from relmkt_helpers.cohorts import period_kpis, retention_matrix

    return retention_matrix(tx, period="M"), period_kpis(tx, period="M")


def naive(tx: pd.DataFrame):
    """What one writes first in pandas: Periods, groupby, nunique, unstack, merge."""
    as_of = tx["order_date"].max()
    last_complete = (as_of + pd.Timedelta(days=1)).to_period("M") - 1
    per = tx["order_date"].dt.to_period("M")
    df = pd.DataFrame({"customer_id": tx["customer_id"], "period": per, "amount": tx["amount"]})
    df["cohort"] = df.groupby("customer_id")["period"].transform("min")
    df["age"] = (df["period"].dt.year - df["cohort"].dt.year) * 12 + (df["period"].dt.month - df["cohort"].dt.month)
    active = df.groupby(["cohort", "age"])["customer_id"].nunique().unstack(fill_value=0)
    sizes = active[0]
    rates = active.div(sizes, axis=0)
    cohort_ord = np.array([p.ordinal for p in rates.index])
    ages = np.asarray(rates.columns)
    incomplete = cohort_ord[:, None] + ages[None, :] > last_complete.ordinal
    rates = rates.mask(incomplete)
    rates = rates.loc[:, ages <= last_complete.ordinal - cohort_ord.min()]

    # KPI table
    act = df[["customer_id", "period"]].drop_duplicates()
    n_active = act.groupby("period").size()
    first = df.groupby("customer_id")["period"].min()
    new = first.value_counts()
    shifted = act.assign(period=act["period"] + 1)
    returning = act.merge(shifted, on=["customer_id", "period"]).groupby("period").size()
    periods = pd.period_range(per.min(), last_complete, freq="M", name="period")
    k = pd.DataFrame(index=periods)
    k["active"] = n_active.reindex(periods, fill_value=0)
    k["new"] = new.reindex(periods, fill_value=0)
    k["returning"] = returning.reindex(periods, fill_value=0)
    k["reactivated"] = k["active"] - k["new"] - k["returning"]
    k["orders"] = df.groupby("period").size().reindex(periods, fill_value=0)
    k["revenue"] = df.groupby("period")["amount"].sum().reindex(periods, fill_value=0.0)
    k["retention_rate"] = k["returning"] / k["active"].shift(1)
    k["churn_rate"] = 1 - k["retention_rate"]
    second = df[df.groupby("customer_id").cumcount() == 1]["period"].value_counts()
    k["repeat_purchase_rate"] = (second.reindex(periods, fill_value=0).cumsum()
                                 / k["new"].cumsum())
    for col in ("retention_rate", "churn_rate", "repeat_purchase_rate"):
        k[f"{col}_change"] = k[col].diff()
    k["active_growth"] = k["active"].pct_change()
    k["revenue_growth"] = k["revenue"].pct_change()
    return (rates, sizes), k


def check_equal(tx: pd.DataFrame) -> str:
    res, kp = fast(tx)
    (rates, sizes), kn = naive(tx)
    np.testing.assert_array_equal(res.sizes.to_numpy(), sizes.to_numpy())
    np.testing.assert_allclose(res.matrix.to_numpy(), rates.to_numpy(dtype=float), equal_nan=True)
    cols = ["active", "new", "returning", "reactivated", "orders", "revenue", "retention_rate",
            "churn_rate", "repeat_purchase_rate", "retention_rate_change", "active_growth", "revenue_growth"]
    np.testing.assert_allclose(kp[cols].to_numpy(dtype=float), kn[cols].to_numpy(dtype=float),
                               rtol=1e-9, equal_nan=True)
    return f"equal: matrix {res.matrix.shape}, KPI table {kp.shape}"


# ----------------------------------------------------------------------------
# child: one variant, one process
# ----------------------------------------------------------------------------


def child(variant: str, path: Path, repeats: int) -> dict:
    tx = load(path)
    step = {"fast": fast, "naive": naive, "check": check_equal}[variant]
    if variant == "check":
        return {"variant": variant, "result": step(tx)}
    gc.collect()
    rss_data = _vm("VmRSS")
    reset = _reset_peak()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = step(tx)
        times.append(time.perf_counter() - t)
        del out
        gc.collect()
    hwm = _vm("VmHWM")
    tracemalloc.start()
    out = step(tx)
    _, tm_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "variant": variant, "orders": len(tx), "customers": int(tx["customer_id"].nunique()),
        "times": times, "rss_data_mib": rss_data, "step_peak_rss_mib": hwm if reset else None,
        "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "tracemalloc_peak_mib": tm_peak / 2**20,
    }


def run_child(variant: str, path: Path, repeats: int) -> dict:
    cmd = [sys.executable, __file__, "--child", variant, "--data", str(path), "--repeats", str(repeats)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child {variant} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------

def machine() -> str:
    cpu = cpu_name()
    return (f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}, Python {platform.python_version()}, "
            f"numpy {np.__version__}, pandas {pd.__version__}")


def report(rows: list[dict], check: str, command: str, n: int, seed: int) -> str:
    f, nv = rows
    ratio = np.median(nv["times"]) / np.median(f["times"])
    lines = [
        "# Benchmark: cohort retention matrix + period KPIs",
        "",
        f"Command (from the repository root): `{command}`",
        "",
        f"Machine: {machine()}.",
        "",
        f"Data: {f['orders']:,} orders, {f['customers']:,} customers, monthly periods {START} .. {END} "
        f"(`generate_sample_shop({n:_}, seed={seed}, start='{START}', end='{END}', "
        "params={'bgnbd': {<every channel>: {'alpha': 1.5, 'b': 12.0}}})`), canonical dtypes.",
        "",
        "Step: `retention_matrix(tx, period='M')` then `period_kpis(tx, period='M')` on the in-memory frame.",
        "",
        "| variant | runs | cold (s) | median (s) | best (s) | RSS with data loaded (MiB) | peak RSS during step (MiB) | tracemalloc peak of step (MiB) | ru_maxrss of process (MiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r, name in ((f, "relmkt_helpers.cohorts (int codes, np.unique/bincount)"), (nv, "naive pandas (groupby/nunique/unstack/merge)")):
        t = r["times"]
        peak = f"{r['step_peak_rss_mib']:,.0f}" if r["step_peak_rss_mib"] is not None else "n/a"
        lines.append(f"| {name} | {len(t)} | {t[0]:.2f} | {np.median(t):.2f} | {min(t):.2f} | "
                     f"{r['rss_data_mib']:,.0f} | {peak} | {r['tracemalloc_peak_mib']:,.0f} | {r['ru_maxrss_mib']:,.0f} |")
    lines += [
        "",
        f"Speed-up (median naive / median fast): **{ratio:.1f}x**.",
        "",
        f"Budget: <= 3 s and <= 2 GB (2,048 MiB). Fast path: median {np.median(f['times']):.2f} s, "
        f"peak RSS {f['step_peak_rss_mib'] or float('nan'):,.0f} MiB -> "
        f"{'within' if np.median(f['times']) <= 3 and (f['step_peak_rss_mib'] or 0) <= 2048 else 'OVER'} budget.",
        "",
        f"Correctness cross-check on the same data: {check}.",
        "",
        "Memory columns: *peak RSS during step* is `VmHWM` after resetting it (`/proc/self/clear_refs`) just before "
        "the timed runs, in a fresh subprocess per variant; it includes the transaction frame itself (the *RSS with "
        "data loaded* column). *tracemalloc* counts Python and numpy allocations of one extra run only "
        "(not pyarrow buffers). *ru_maxrss* covers the whole child process, including reading the Parquet file.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=5, help="timed runs of the fast step")
    ap.add_argument("--naive-repeats", type=int, default=2)
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(HERE.parent)}")
    ap.add_argument("--child", choices=["fast", "naive", "check"], help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.data, args.repeats)))
        return 0
    path = make_data(args.customers, args.seed)
    check = run_child("check", path, 1)["result"]
    rows = [run_child("fast", path, args.repeats), run_child("naive", path, args.naive_repeats)]
    command = ".venv/bin/python benchmarks/bench_cohorts.py" + (" --write" if args.write else "")
    if args.customers != 500_000 or args.seed != 1:
        command += f" --customers {args.customers} --seed {args.seed}"
    text = report(rows, check, command, args.customers, args.seed)
    print(text)
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
