"""Benchmark: ``rfm_summary`` on ~10M orders (~1M customers), against lifetimes.

Budget (issue 4): ``rfm_summary`` on 10M transactions of about 1M customers in at
most 5 s of wall time on a 2-core machine. This is a benchmark, not a timed test.

What is measured
----------------
* **Data**: ``benchmarks/generate_large.py`` (the sample shop's own BG/NBD
  generator, :func:`relmkt_helpers.datasets.generate_sample_shop`) with
  1,000,000 customers, seed 2024, 2023-01-01 .. 2025-12-31, ``--rate-scale 4.6
  --loyalty-scale 5`` (every channel's BG/NBD ``alpha`` divided by 4.6 and ``b``
  multiplied by 5), which gives ~10.1M orders. Cached as Parquet under
  ``benchmarks/data/rfm_summary/shop_1000000/`` (git-ignored) and cast to the
  canonical dtypes (``customer_id``/``order_id`` pandas ``string``,
  ``order_date`` ``datetime64[ns]``, ``amount`` float64).
* **Step**: ``rfm_summary(tx, observation_end="2025-12-31", freq="W")`` on the
  in-memory frame (reading the file is not part of the step), repeated; the
  first (cold) run, the median and the best are reported. ``freq="D"``,
  ``freq="M"``, ``calibration_holdout`` and ``compress_summary`` are timed too.
  ``pd.factorize`` of the customer ids alone is timed, as the floor of any
  approach that starts from string ids.
* **Peak memory**: each variant runs in its own subprocess; the child resets
  the kernel's peak-RSS counter (``/proc/self/clear_refs``) after loading and
  reads ``VmHWM`` after the timed runs (it includes the frame itself).
* **Baseline**: ``lifetimes.utils.summary_data_from_transaction_data`` (0.11.3)
  with the same arguments, on the same data, in its own subprocess with a
  time limit (``--lifetimes-timeout``, default 180 s). If it runs out of time,
  it is measured on a ~1M-order subset (the first customers in id order) and
  ``rfm_summary`` is timed on that subset too, so the ratio compares like with
  like. Both results are checked equal (``assert_frame_equal``, rtol 1e-12).

Run from the repository root::

    .venv/bin/python benchmarks/bench_rfm_summary.py --write

``--write`` stores the figures in ``benchmarks/results/rfm_summary.md``.
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
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from _common import vm as _vm, reset_peak as _reset_peak, cpu_name  # noqa: E402 - benchmarks/ is on sys.path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "rfm_summary.md"
DATA_DIR = HERE / "data" / "rfm_summary"
N_CUSTOMERS = 1_000_000
SEED = 2024
RATE_SCALE, LOYALTY_SCALE = 4.6, 5.0
OBS_END, CAL_END = "2025-12-31", "2024-12-31"
SUBSET_ORDERS = 1_000_000


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------

def data_path() -> Path:
    return DATA_DIR / f"shop_{N_CUSTOMERS}" / "transactions.parquet"


def _cache_ok(path: Path) -> bool:
    truth = path.with_name("ground_truth.json")
    if not path.exists() or not truth.exists():
        return False
    t = json.loads(truth.read_text(encoding="utf-8"))
    from relmkt_helpers.datasets import ShopParams

    want = {ch: {"alpha": p["alpha"] / RATE_SCALE, "b": p["b"] * LOYALTY_SCALE} for ch, p in ShopParams().bgnbd.items()}
    got = t.get("bgnbd", {})
    return (t.get("seed") == SEED and t.get("n_customers") == N_CUSTOMERS
            and all(np.isclose(got.get(ch, {}).get(k, np.nan), v) for ch, p in want.items() for k, v in p.items()))


def make_data() -> Path:
    """Generate (once) with benchmarks/generate_large.py, reusing its parameter scaling."""
    path = data_path()
    if _cache_ok(path):
        return path
    sys.path.insert(0, str(HERE))
    import generate_large

    generate_large.main([str(DATA_DIR), "--customers", str(N_CUSTOMERS), "--seed", str(SEED),
                         "--rate-scale", str(RATE_SCALE), "--loyalty-scale", str(LOYALTY_SCALE), "--parquet"])
    return path


def load(path: Path, subset: bool = False) -> pd.DataFrame:
    tx = pd.read_parquet(path, columns=["customer_id", "order_date", "amount", "order_id", "channel"])
    tx = tx.astype({"customer_id": "string", "order_id": "string", "order_date": "datetime64[ns]",
                    "amount": "float64"})
    if subset:
        # whole customers (every order of the first customers in id order), about SUBSET_ORDERS orders
        counts = tx["customer_id"].value_counts().sort_index()
        keep = counts.index[: int(np.searchsorted(counts.cumsum().to_numpy(), SUBSET_ORDERS)) + 1]
        tx = tx[tx["customer_id"].isin(keep)].reset_index(drop=True)
    return tx


# ----------------------------------------------------------------------------
# children: one variant, one process
# ----------------------------------------------------------------------------


def _timed(step, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        out = step()
        times.append(time.perf_counter() - t)
        del out
    return times


def child_fast(path: Path, repeats: int, subset: bool) -> dict:
    from relmkt_helpers.clv.prep import calibration_holdout, compress_summary, rfm_summary

    tx = load(path, subset)
    gc.collect()
    rss_data = _vm("VmRSS")
    reset = _reset_peak()
    times = _timed(lambda: rfm_summary(tx, observation_end=OBS_END, freq="W"), repeats)
    hwm = _vm("VmHWM")
    out = {"orders": len(tx), "customers": int(tx["customer_id"].nunique()), "times": times,
           "rss_data_mib": rss_data, "step_peak_rss_mib": hwm if reset else None}
    if not subset:
        out["factorize"] = _timed(lambda: pd.factorize(tx["customer_id"], sort=True), 3)
        out["D"] = _timed(lambda: rfm_summary(tx, observation_end=OBS_END, freq="D"), 3)
        out["M"] = _timed(lambda: rfm_summary(tx, observation_end=OBS_END, freq="M"), 3)
        out["calibration_holdout"] = _timed(
            lambda: calibration_holdout(tx, calibration_end=CAL_END, observation_end=OBS_END, freq="W"), 3)
        summary = rfm_summary(tx, observation_end=OBS_END, freq="W")
        out["compress"] = _timed(lambda: compress_summary(summary), 3)
        out["unique_rows"] = len(compress_summary(summary).unique)
    return out


def child_lifetimes(path: Path, subset: bool) -> dict:
    from lifetimes.utils import summary_data_from_transaction_data

    from relmkt_helpers.clv.prep import rfm_summary

    tx = load(path, subset)
    gc.collect()
    reset = _reset_peak()
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = summary_data_from_transaction_data(tx, "customer_id", "order_date", monetary_value_col="amount",
                                                    observation_period_end=OBS_END, freq="W")
    elapsed = time.perf_counter() - t
    hwm = _vm("VmHWM")
    ours = rfm_summary(tx, observation_end=OBS_END, freq="W")
    try:
        pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-12, atol=0.0)
        check = f"equal (assert_frame_equal, rtol 1e-12) on {len(ours):,} customers"
    except AssertionError as exc:
        check = "DIFFERENT: " + str(exc).splitlines()[0]
    return {"orders": len(tx), "customers": int(tx["customer_id"].nunique()), "times": [elapsed],
            "step_peak_rss_mib": hwm if reset else None, "check": check}


def run_child(variant: str, path: Path, repeats: int, subset: bool, timeout: float | None = None) -> dict | None:
    cmd = [sys.executable, __file__, "--child", variant, "--data", str(path), "--repeats", str(repeats)]
    if subset:
        cmd.append("--subset")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    if proc.returncode != 0:
        raise SystemExit(f"child {variant} failed:\n{proc.stderr}")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    return res


# ----------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------

def machine() -> str:
    cpu = cpu_name()
    import lifetimes

    return (f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}, Python {platform.python_version()}, "
            f"numpy {np.__version__}, pandas {pd.__version__}, lifetimes {lifetimes.__version__}")


def _row(name: str, r: dict) -> str:
    t = r["times"]
    peak = f"{r['step_peak_rss_mib']:,.0f}" if r.get("step_peak_rss_mib") is not None else "n/a"
    return (f"| {name} | {r['orders']:,} | {r['customers']:,} | {len(t)} | {t[0]:.2f} | {np.median(t):.2f} | "
            f"{min(t):.2f} | {peak} |")


def report(fast: dict, lt: dict, fast_sub: dict | None, timeout: float, command: str,
           load: tuple[list[float], list[float]]) -> str:
    med = float(np.median(fast["times"]))
    lines = [
        "# Benchmark: `rfm_summary` (CLV data preparation)",
        "",
        f"Command (from the repository root): `{command}`",
        "",
        f"Machine: {machine()}.",
        "",
        f"Data: {fast['orders']:,} orders, {fast['customers']:,} customers, 2023-01-01 .. 2025-12-31, from "
        f"`benchmarks/generate_large.py benchmarks/data/rfm_summary --customers {N_CUSTOMERS} --seed {SEED} "
        f"--rate-scale {RATE_SCALE} --loyalty-scale {LOYALTY_SCALE:g} --parquet` (cached, git-ignored), "
        "canonical dtypes.",
        "",
        f"Step: `rfm_summary(tx, observation_end=\"{OBS_END}\", freq=\"W\")` on the in-memory frame; baseline "
        f"`lifetimes.utils.summary_data_from_transaction_data(tx, \"customer_id\", \"order_date\", "
        f"monetary_value_col=\"amount\", observation_period_end=\"{OBS_END}\", freq=\"W\")`.",
        "",
        "| variant | orders | customers | runs | cold (s) | median (s) | best (s) | peak RSS during step (MiB) |",
        "|---|---|---|---|---|---|---|---|",
        _row("relmkt `rfm_summary` (int codes, one packed np.sort)", fast),
    ]
    if fast_sub is not None:
        lines.append(_row("relmkt `rfm_summary`, subset", fast_sub))
    lines.append(_row("lifetimes `summary_data_from_transaction_data`" + (", subset" if fast_sub else ""), lt))
    ref = fast_sub if fast_sub is not None else fast
    ratio = lt["times"][0] / float(np.median(ref["times"]))
    lines += [
        "",
        (f"lifetimes did not finish within {timeout:.0f} s on the full data, so both were timed on a subset "
         f"(every order of the first customers in id order). " if fast_sub is not None else "")
        + f"Speed-up (lifetimes, one run / median relmkt, same data): **{ratio:.1f}x**.",
        "",
        f"Budget: <= 5 s on ~10M orders. Median {med:.2f} s (cold run {fast['times'][0]:.2f} s) -> "
        f"{'within' if med <= 5 and fast['times'][0] <= 5 else 'OVER'} budget.",
        "",
        f"Correctness cross-check on the same data: {lt['check']}.",
        "",
        "Other steps on the full data (best / median of 3 runs, seconds):",
        "",
        "| step | best (s) | median (s) |",
        "|---|---|---|",
        f"| `pd.factorize(tx[\"customer_id\"], sort=True)` alone (floor for string ids) | {min(fast['factorize']):.2f} "
        f"| {np.median(fast['factorize']):.2f} |",
        f"| `rfm_summary(..., freq=\"D\")` | {min(fast['D']):.2f} | {np.median(fast['D']):.2f} |",
        f"| `rfm_summary(..., freq=\"M\")` (lifetimes cannot) | {min(fast['M']):.2f} | {np.median(fast['M']):.2f} |",
        f"| `calibration_holdout(..., calibration_end=\"{CAL_END}\", freq=\"W\")` | "
        f"{min(fast['calibration_holdout']):.2f} | {np.median(fast['calibration_holdout']):.2f} |",
        f"| `compress_summary(summary)` ({fast['customers']:,} -> {fast['unique_rows']:,} rows) | "
        f"{min(fast['compress']):.2f} | {np.median(fast['compress']):.2f} |",
        "",
        "Memory: *peak RSS during step* is `VmHWM` after resetting it (`/proc/self/clear_refs`) once the frame is "
        "loaded, in a fresh subprocess per variant; it includes the transaction frame itself.",
        "",
        "The machine is shared (other jobs may run on its two cores), so single runs vary by tens of per cent; "
        "the median of several runs is the figure to compare. 1/5/15-minute load averages: "
        f"{' / '.join(f'{x:.2f}' for x in load[0])} before, {' / '.join(f'{x:.2f}' for x in load[1])} after "
        "(2.0 = both cores busy).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7, help="timed runs of rfm_summary(freq='W')")
    ap.add_argument("--lifetimes-timeout", type=float, default=180.0,
                    help="seconds before lifetimes on the full data is abandoned for the subset")
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(HERE.parent)}")
    ap.add_argument("--child", choices=["fast", "lifetimes"], help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--subset", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        res = (child_fast(args.data, args.repeats, args.subset) if args.child == "fast"
               else child_lifetimes(args.data, args.subset))
        res["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(res))
        return 0
    path = make_data()
    load_before = list(os.getloadavg())
    fast = run_child("fast", path, args.repeats, False)
    lt = run_child("lifetimes", path, 1, False, timeout=args.lifetimes_timeout)
    fast_sub = None
    if lt is None:
        lt = run_child("lifetimes", path, 1, True)
        fast_sub = run_child("fast", path, args.repeats, True)
    load_after = list(os.getloadavg())
    command = ".venv/bin/python benchmarks/bench_rfm_summary.py" + (" --write" if args.write else "")
    text = report(fast, lt, fast_sub, args.lifetimes_timeout, command, (load_before, load_after))
    print(text)
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
