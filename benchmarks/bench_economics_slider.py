"""Benchmark: what a slider move costs in the economics notebook and the workshop.

Each slider of ``notebooks/04_acquisition_vs_retention.ipynb`` and the workshop recomputes one
economics function and redraws one chart; a slider feels live when that stays well under about
100 ms. This times every such function (median and max of many calls, after one warm-up call),
and the compute + draw path with matplotlib's Agg canvas. The full ``economics_analysis`` on the
sample shop and ``ltv_curves`` run once per data set, not per slider move; they are timed for
scale.

Usage (from the repository root)::

    .venv/bin/python benchmarks/bench_economics_slider.py --write

``--write`` stores the table in ``benchmarks/results/economics_slider.md``.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from relmkt_helpers import load_sample_shop, load_spend, load_subscriptions  # noqa: E402
from relmkt_helpers import economics as ec  # noqa: E402
from relmkt_helpers.plots import economics as pe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "economics_slider.md"


def timed(fn: Callable[[], Any], n: int) -> tuple[float, float]:
    """(median, max) wall time in ms of ``n`` calls, after one warm-up call."""
    fn()
    xs = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t0)
    return statistics.median(xs) * 1e3, max(xs) * 1e3


def draw(plot: Callable[..., Any], result: Any) -> None:
    fig, ax = plt.subplots()
    plot(result, ax=ax)
    fig.canvas.draw()
    plt.close(fig)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    args = ap.parse_args()

    shop = load_sample_shop()
    tx, spend, subs = shop.transactions, load_spend(shop.spend), load_subscriptions(shop.subscriptions)
    curves = ec.ltv_curves(tx)
    cac = ec.cac_by_channel(tx, spend)
    cases: list[tuple[str, str, Callable[[], Any], int]] = [
        ("slider", "clv_constant_retention(40, 0.6, 0.1)", lambda: ec.clv_constant_retention(40, 0.6, 0.1), 500),
        ("slider", "breakeven_retention_spend(40, 0.6, 0.05, 0.1)",
         lambda: ec.breakeven_retention_spend(40, 0.6, 0.05, 0.1), 200),
        ("slider", "payback_periods(30, 40, 0.6)", lambda: ec.payback_periods(30, 40, 0.6), 500),
        ("slider", "clv_sensitivity(40) (10 x 5 grid)", lambda: ec.clv_sensitivity(40), 200),
        ("slider", "ltv_cac_sensitivity (20 CACs x 20 margins)",
         lambda: ec.ltv_cac_sensitivity(list(range(10, 210, 10)), list(range(5, 105, 5)), retention=0.6,
                                        discount=0.1), 200),
        ("slider", "profit_uplift_simulation(years=10)",
         lambda: ec.profit_uplift_simulation(retention=0.6, margin_per_customer_year=40, acquisition_cost=30, margin_growth=0.05,
                                             growth_years=10), 200),
        ("slider", "profit_uplift_simulation(years=50, retention=0.94)",
         lambda: ec.profit_uplift_simulation(retention=0.94, margin_per_customer_year=40, acquisition_cost=30, years=50,
                                             margin_growth=0.05, growth_years=10), 200),
        ("slider", "profit_uplift_grid (10 x 10 x 10)",
         lambda: ec.profit_uplift_grid(retention=[0.5 + 0.04 * i for i in range(10)],
                                       margin_growth=[0.02 * i for i in range(10)],
                                       acquisition_cost=[20 * i for i in range(10)]), 100),
        ("slider", "cac_payback(curves, CAC by channel, margin_rate=0.3)",
         lambda: ec.cac_payback(curves, cac, margin_rate=0.3), 200),
        ("slider", "ltv_to_cac(None, 30, curves=curves)",
         lambda: ec.ltv_to_cac(None, 30.0, margin_rate=0.3, curves=curves), 200),
        ("slider", "economics_analysis(assumptions only)",
         lambda: ec.economics_analysis(assumptions=ec.Assumptions(cac=35)), 50),
        ("compute + draw", "profit_uplift_simulation + plot_profit_uplift",
         lambda: draw(pe.plot_profit_uplift, ec.profit_uplift_simulation(retention=0.6, margin_per_customer_year=40,
                                                                         acquisition_cost=30)), 20),
        ("compute + draw", "clv_sensitivity + plot_sensitivity_heatmap",
         lambda: draw(pe.plot_sensitivity_heatmap, ec.clv_sensitivity(40)), 20),
        ("compute + draw", "cac_payback + plot_payback_curves",
         lambda: draw(pe.plot_payback_curves, ec.cac_payback(curves, 35.0, margin_rate=0.3)), 20),
        ("once per data set", "economics_analysis(sample shop: transactions, spend, subscriptions)",
         lambda: ec.economics_analysis(tx, spend, subs), 10),
        ("once per data set", "ltv_curves(sample shop)", lambda: ec.ltv_curves(tx), 10),
    ]
    rows = []
    for kind, label, fn, n in cases:
        med, top = timed(fn, n)
        rows.append((kind, label, n, med, top))
        print(f"{kind:18s} {label:70s} {med:9.3f} ms (max {top:.3f}, {n} runs)", flush=True)
    slider = [r for r in rows if r[0] != "once per data set"]
    worst = max(slider, key=lambda r: r[3])
    print(f"slowest slider path: {worst[1]} {worst[3]:.1f} ms median")
    if args.write:
        import numpy as np
        import pandas as pd

        lines = [
            "# Benchmark: slider moves in the economics notebook and the workshop",
            "",
            "Command (from the repository root): `.venv/bin/python benchmarks/bench_economics_slider.py --write`",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__}, pandas {pd.__version__}, matplotlib {matplotlib.__version__} (Agg). "
            f"Load average at the end: {os.getloadavg()[0]:.2f}.",
            "",
            f"Data: the bundled sample shop ({len(tx):,} orders of {tx['customer_id'].nunique():,} customers, "
            "its spend ledger and subscription table). Median and max of the stated number of calls, after one "
            "warm-up call.",
            "",
            "| kind | call | runs | median (ms) | max (ms) |",
            "|---|---|---|---|---|",
        ]
        lines += [f"| {k} | `{label}` | {n} | {med:.3f} | {top:.3f} |" for k, label, n, med, top in rows]
        lines += [
            "",
            f"Slowest slider path: `{worst[1]}`, {worst[3]:.1f} ms median, {worst[4]:.1f} ms at worst. "
            + ("Every slider move's median stays under the ~100 ms at which a slider stops feeling live"
               if worst[3] < 100 else "Some slider moves take longer than the ~100 ms at which a slider stops "
               "feeling live")
            + f"; the computations alone take at most {max(r[3] for r in rows if r[0] == 'slider'):.1f} ms "
            "(median), the rest is matplotlib's redraw (the heatmap's cell labels are the costliest).",
            "",
        ]
        RESULTS.write_text("\n".join(lines), encoding="utf-8")
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
