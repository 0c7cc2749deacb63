"""Benchmark: the churn analysis of notebook 02 at 1M customers (issue 5, part 5).

Budget: features, model fits and scoring together at most 60 s of wall time and
at most 4 GB of peak memory on the 2-core report machine. This is a benchmark,
not a timed test.

What is measured
----------------
* **Data**: ``benchmarks/generate_large.py`` (the sample shop's BG/NBD
  generator, :func:`relmkt_helpers.datasets.generate_sample_shop`) with
  1,000,000 customers, seed 2024, 2023-01-01 .. 2025-12-31 and raised purchase
  rates, ``--rate-scale 4.6 --loyalty-scale 5`` (every channel's BG/NBD
  ``alpha`` divided by 4.6 and ``b`` multiplied by 5): about 10.1M orders.
  Cached as Parquet under ``benchmarks/data/churn/shop_1000000/`` (git-ignored),
  read with the ids as pandas ``string``.
* **Step**: one call of ``churn_analysis(tx, as_of="2025-12-31",
  horizon_days=90)`` with its defaults (out-of-time evaluation, ``model="hgb"``,
  ``max_train_rows=200_000``, ``n_threads=1``): features at three dates, labels,
  logistic regression and gradient boosting fitted for the evaluation, BG/NBD
  fitted twice (evaluation and scoring), Gamma-Gamma, CLV, metrics, deciles,
  calibration, permutation importance (5,000 customers x 5 repeats), the final
  gradient-boosting fit and the scored list of every customer. Reading the
  file is not part of the step. The wall time of each internal step is taken
  by wrapping the module's functions (what is left is mostly ``predict_proba``
  on the evaluation and scoring frames).
* **Peak memory**: each run is its own subprocess. ``ru_maxrss`` of the child
  is its whole-life peak resident set, *including* the loaded frame; the
  frame's own footprint (``VmRSS`` after loading) is reported beside it.
* The load average before each run is recorded: the machine is shared, and
  other work slows the 2 cores down.

Run from the repository root::

    .venv/bin/python benchmarks/bench_churn.py --write

``--write`` stores the figures in ``benchmarks/results/churn.md``.
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
from pathlib import Path

import numpy as np
import pandas as pd
from _common import vm as _vm  # noqa: E402 - benchmarks/ is on sys.path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "churn.md"
DATA_DIR = HERE / "data" / "churn"
N_CUSTOMERS = 1_000_000
SEED = 2024
RATE_SCALE, LOYALTY_SCALE = 4.6, 5.0
AS_OF, HORIZON = "2025-12-31", 90
STEPS = ("_prepare", "_features_at", "_labels_at", "_fit", "_bgnbd_at", "_p_no_purchase", "customer_value",
         "churn_metrics", "lift_table", "calibration_table", "_importance")


def data_path() -> Path:
    return DATA_DIR / f"shop_{N_CUSTOMERS}" / "transactions.parquet"


def _cache_ok(path: Path) -> bool:
    truth = path.with_name("ground_truth.json")
    if not path.exists() or not truth.exists():
        return False
    from relmkt_helpers.datasets import ShopParams

    t = json.loads(truth.read_text(encoding="utf-8"))
    want = {ch: {"alpha": p["alpha"] / RATE_SCALE, "b": p["b"] * LOYALTY_SCALE} for ch, p in ShopParams().bgnbd.items()}
    got = t.get("bgnbd", {})
    return (t.get("seed") == SEED and t.get("n_customers") == N_CUSTOMERS
            and all(np.isclose(got.get(ch, {}).get(k, np.nan), v) for ch, p in want.items() for k, v in p.items()))


def make_data() -> Path:
    path = data_path()
    if _cache_ok(path):
        return path
    sys.path.insert(0, str(HERE))
    import generate_large

    generate_large.main([str(DATA_DIR), "--customers", str(N_CUSTOMERS), "--seed", str(SEED),
                         "--rate-scale", str(RATE_SCALE), "--loyalty-scale", str(LOYALTY_SCALE), "--parquet"])
    return path


VARIANTS = {
    "default": {},
    "two_threads": {"n_threads": None},        # the library default: one OpenMP thread per core
    "full_train": {"max_train_rows": None},    # no training subsample
}


def _md(df: pd.DataFrame, index: bool = True) -> str:
    """A DataFrame as a Markdown table (without the optional tabulate package)."""
    d = df.reset_index() if index else df
    head = "| " + " | ".join(str(c) for c in d.columns) + " |"
    sep = "|" + "---|" * len(d.columns)
    rows = ["| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row) + " |"
            for row in d.itertuples(index=False)]
    return "\n".join([head, sep, *rows])


def child(path: Path, variant: str = "default") -> dict:
    t = time.perf_counter()
    tx = pd.read_parquet(path, columns=["customer_id", "order_date", "amount", "order_id", "channel"])
    tx = tx.astype({"customer_id": "string", "order_id": "string", "channel": "string",
                    "order_date": "datetime64[ns]", "amount": "float64"})
    load_s = time.perf_counter() - t
    gc.collect()
    rss_data = _vm("VmRSS")

    import relmkt_helpers.churn.analysis as A

    spent: dict[str, float] = {}

    def wrap(name: str) -> None:
        f = getattr(A, name)

        def timed(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - t0

        setattr(A, name, timed)

    for name in STEPS:
        wrap(name)
    t = time.perf_counter()
    res = A.churn_analysis(tx, as_of=AS_OF, horizon_days=HORIZON, **VARIANTS[variant])
    total = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "orders": len(tx), "customers": int(len(res.scored)), "load_s": load_s, "total_s": total,
        "steps": spent, "rss_data_mib": rss_data, "ru_maxrss_mib": peak,
        "metrics": res.metrics.round(4).reset_index().to_dict("list"),
        "windows": res.windows[["role", "feature_date", "customers", "churn_rate"]].astype(str).to_dict("list"),
        "variant": variant,
    }


def run_child(path: Path, variant: str = "default") -> dict:
    load = os.getloadavg()
    proc = subprocess.run([sys.executable, __file__, "--child", str(path), "--variant", variant],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child failed:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["loadavg_before"] = load
    return out


def _machine() -> str:
    import sklearn

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} cores ({cpu}), Linux {platform.release()}, Python {platform.python_version()}, "
            f"numpy {np.__version__}, pandas {pd.__version__}, scikit-learn {sklearn.__version__}")


def report(runs: list[dict], extra: list[dict]) -> str:
    r0 = runs[0]
    lines = [
        "# Benchmark: churn analysis (notebook 02) at 1M customers",
        "",
        "Command (from the repository root): `.venv/bin/python benchmarks/bench_churn.py --write`",
        "",
        f"Machine: {_machine()}.",
        "",
        f"Data: {r0['orders']:,} orders, {r0['customers']:,} customers, 2023-01-01 .. 2025-12-31, from "
        f"`benchmarks/generate_large.py benchmarks/data/churn --customers {N_CUSTOMERS} --seed {SEED} "
        f"--rate-scale {RATE_SCALE} --loyalty-scale {LOYALTY_SCALE:g} --parquet` (cached, git-ignored); "
        "ids read as pandas `string`.",
        "",
        f"Step: `churn_analysis(tx, as_of=\"{AS_OF}\", horizon_days={HORIZON})` with its defaults "
        "(out-of-time evaluation, model 'hgb', max_train_rows=200,000, n_threads=1), each run in its own "
        "subprocess. Reading the file is not part of the step.",
        "",
        "## Budget: features + fit + scoring <= 60 s, peak memory <= 4 GB",
        "",
        "| run | load average before | churn_analysis wall (s) | peak RSS of the process, data included (MiB) "
        "| of which the loaded frame (MiB) | verdict |",
        "|---|---|---|---|---|---|",
    ]
    for i, r in enumerate(runs, 1):
        ok = r["total_s"] <= 60 and r["ru_maxrss_mib"] <= 4096
        lines.append(f"| {i} | {r['loadavg_before'][0]:.2f} | **{r['total_s']:.1f}** | **{r['ru_maxrss_mib']:,.0f}** "
                     f"| {r['rss_data_mib']:,.0f} | {'met' if ok else 'MISSED'} |")
    lines += ["", "Time per internal step (seconds, run 1 / run 2 ...):", "",
              "| step | what | " + " | ".join(f"run {i}" for i in range(1, len(runs) + 1)) + " |",
              "|---|---|" + "---|" * len(runs)]
    what = {
        "_prepare": "factorize ids, one packed sort by (customer, day), first-order channel",
        "_features_at": "features at 3 dates (as_of - 2H, as_of - H, as_of)",
        "_labels_at": "labels at 2 dates",
        "_fit": "2 evaluation fits (logistic, hgb) + final hgb fit, 200,000 training rows each",
        "_bgnbd_at": "2 x (rfm_summary D/7 + BG/NBD fit): evaluation and scoring",
        "_p_no_purchase": "BG/NBD P(no purchase in H), 2 x",
        "customer_value": "CLV of every customer (no bootstrap)",
        "churn_metrics": "ROC AUC, PR AUC, Brier, top decile, 3 models",
        "lift_table": "deciles, 3 models (plus 3 inside churn_metrics)",
        "calibration_table": "calibration curves, 3 models",
        "_importance": "permutation importance, 5,000 customers x 5 repeats x 17 features",
    }
    for name in STEPS:
        vals = " | ".join(f"{r['steps'].get(name, 0.0):.2f}" for r in runs)
        lines.append(f"| `{name}` | {what[name]} | {vals} |")
    rest = " | ".join(f"{r['total_s'] - sum(r['steps'].values()):.2f}" for r in runs)
    lines.append(f"| (rest) | predict_proba on 855k + 1M customers (3 x), model frames, scored list | {rest} |")
    m = pd.DataFrame(r0["metrics"]).set_index("model")
    w = pd.DataFrame(r0["windows"])
    lines += ["", "Windows (run 1):", "", _md(w, index=False), "",
              "Out-of-time metrics at 1M customers (run 1):", "", _md(m), ""]
    if extra:
        lines += ["## The defaults that keep it in budget", "",
                  "Each variant once, in its own subprocess, on the same data:", "",
                  "| variant | load average before | wall (s) | `_fit` (s) | rest: mostly predict_proba (s) "
                  "| peak RSS (MiB) | ROC AUC logistic | ROC AUC hgb |",
                  "|---|---|---|---|---|---|---|---|"]
        desc = {"default": "defaults (run 1 above)",
                "two_threads": "`n_threads=None` (libgomp default: 2 threads)",
                "full_train": "`max_train_rows=None` (train on every customer)"}
        for r in [r0, *extra]:
            mm = pd.DataFrame(r["metrics"]).set_index("model")
            rest = r["total_s"] - sum(r["steps"].values())
            lines.append(f"| {desc[r['variant']]} | {r['loadavg_before'][0]:.2f} | {r['total_s']:.1f} "
                         f"| {r['steps'].get('_fit', 0.0):.1f} | {rest:.1f} | {r['ru_maxrss_mib']:,.0f} "
                         f"| {mm.loc['logistic', 'roc_auc']:.4f} | {mm.loc['hgb', 'roc_auc']:.4f} |")
        lines.append("")
    lines += ["Notes:", "",
              "* Gradient boosting runs on one OpenMP thread by default (`n_threads=1`, set with threadpoolctl for the duration of the call). On an otherwise idle machine two threads are faster (the `n_threads=None` variant). When another process keeps a core busy, libgomp's spin-waiting second thread makes the analysis slower instead. Measured on this data set with a busy-loop process on one core: 45.5 s with two threads against 37.9 s with one. An earlier run of this benchmark under a load average of 2.96 took 125 s against 43 s. One thread is the safe default for a shared machine.",
              '* Training sets are subsampled to 200,000 customers (`max_train_rows`), and so are the customers the BG/NBD and Gamma-Gamma models are fitted on; every customer is still scored. The variant table shows what training on everyone costs and gains.',
              "* The BG/NBD baseline's time unit is days/7, as in Fader, Hardie & Lee (2005). Each of its two fits builds its own `rfm_summary` from the transaction frame.",
              ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write benchmarks/results/churn.md")
    ap.add_argument("--runs", type=int, default=2, help="separate subprocess runs (default 2)")
    ap.add_argument("--no-variants", action="store_true",
                    help="skip the one-off runs with n_threads=None and max_train_rows=None")
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--variant", default="default", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.variant)))
        return 0
    path = make_data()
    runs = [run_child(path) for _ in range(args.runs)]
    extra = [] if args.no_variants else [run_child(path, v) for v in ("two_threads", "full_train")]
    text = report(runs, extra)
    print(text)
    if args.write:
        RESULTS.write_text(text, encoding="utf-8")
        print(f"\nwritten: {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
