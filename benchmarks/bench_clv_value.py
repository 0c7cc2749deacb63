"""Benchmark: ``customer_value`` (CLV with bootstrap intervals) at 1M customers, against the plain ways.

This is a benchmark, not a timed test.

What is measured
----------------
* **Data**: a customer summary table, ``rfm_summary(tx, observation_end=<last
  order date>, freq="D", freq_multiplier=7)`` (weeks measured in days, the
  report's default). With ``--customers 1000000`` (default) the transactions
  are the report benchmark's shop, ``benchmarks/data/report/shop_1000000/
  transactions.parquet`` (``benchmarks/generate_large.py benchmarks/data/report
  --customers 1000000 --seed 2024 --rate-scale 4.6 --loyalty-scale 5
  --parquet``: about 10.1M orders; generated the same way as
  ``benchmarks/bench_report.py`` does if absent), read with
  ``relmkt_helpers.load_transactions``. Any other size uses
  ``generate_sample_shop(n, seed=2024)`` (default parameters). The summary is
  built once, in its own subprocess, and cached as Parquet under
  ``benchmarks/data/clv_value/`` (git-ignored) with a JSON description beside
  it; the models are refitted in every step's subprocess (a few seconds; the
  fit is deterministic and is not part of any timed step): ``RepeatPurchaseModel
  ("bgnbd").fit(summary)`` and ``SpendModel().fit(...)`` on the rows with
  ``frequency == 0`` or ``monetary_value > 0`` (as the report does).
* **Steps** (wall time, median of ``--repeats``; each step in its own
  subprocess after a warm-up on 2,000 customers):

  a. ``customer_value(bg, gg, summary, horizon_months=12, margin_rate=0.3,
     annual_discount_rate=0.1, n_bootstrap=0)``: the point estimate;
  b. the same with ``n_bootstrap=200`` (the report's default);
  c. the obvious alternative to (a), lifetimes' own
     ``GammaGammaFitter.customer_lifetime_value(bg.fitter_, frequency, recency,
     T, monetary_value, time=12, discount_rate=1.1 ** (1/12) - 1, freq="W")``
     with the lifetimes fitters held by the kit's models. ``freq="W"`` because
     the summary's unit is 7 days (lifetimes' month is then 4.345 units; the
     kit's is 365.25/12/7 = 4.348); lifetimes discounts month ``i`` by
     ``(1 + d)^-i`` with a monthly rate ``d``, so the rate equivalent to 10 % a
     year is passed. lifetimes applies no margin and uses 30-day months: this
     is a speed comparison of the same work (12 monthly steps for every
     customer), not of identical numbers (the ratio of the totals is reported
     for orientation);
  d. the obvious alternative to (b), a bootstrap done the plain way: the point
     estimate, then for each of ``--draws`` K parameter draws (default 20,
     because it is slow) the models are rebuilt with ``from_params`` and
     ``customer_value(..., n_bootstrap=0)`` is called; the ``clv`` columns are
     stacked and ``np.quantile`` gives the interval per customer. The draws are
     made as ``customer_value`` makes them (normal log-parameters, covariance
     ``variance_matrix_log_``, ``method="eigh"``, repeat-purchase then spend,
     draws with ``q <= 1`` discarded). Its time for 200 draws is
     **extrapolated linearly** (point estimate + 200/K x the K draws).

* **Peak memory**: each step runs in its own subprocess. ``ru_maxrss`` of the
  child is its whole-life peak (loading the summary and fitting the models
  included); the *peak during the step* is ``VmHWM`` after resetting it
  (``/proc/self/clear_refs``) just before the timed runs; the RSS at that
  moment (summary and models) is reported beside it.
* **Checks**: (a) and the point estimate inside (b) are identical (bit for
  bit, in one process, and by digest across the two subprocesses); the plain
  bootstrap's machinery of (d) is checked against ``customer_value(...,
  n_bootstrap=K, random_state=0)`` on a 2,000-customer sample with the same
  draws (maximum relative difference of ``clv_low``/``clv_high``, expected
  ~1e-12). (b) and (d) use different numbers of draws, so their intervals are
  not expected to agree and are not compared.

Run from the repository root (a few minutes on 2 cores)::

    .venv/bin/python benchmarks/bench_clv_value.py --write

``--write`` stores the figures in ``benchmarks/results/clv_value.md``.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import io
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
ROOT = HERE.parent
RESULTS = HERE / "results" / "clv_value.md"
DATA_DIR = HERE / "data" / "clv_value"
REPORT_DATA = HERE / "data" / "report"
N_REPORT = 1_000_000
SEED = 2024
UNIT = {"freq": "D", "freq_multiplier": 7}
VALUE_ARGS = {"horizon_months": 12, "margin_rate": 0.3, "annual_discount_rate": 0.1}
INTERVAL = 0.9
BOOT_SEED = 0  # customer_value's default random_state
MONTHLY_RATE = (1.0 + VALUE_ARGS["annual_discount_rate"]) ** (1.0 / 12.0) - 1.0
LIFETIMES_FREQ = "W"  # the summary's unit is 7 days
CHECK_CUSTOMERS = 2_000
WARMUP_CUSTOMERS = 2_000
POINT_COLS = ("p_alive", "expected_purchases", "expected_spend", "clv")
STEPS = ("a", "b", "c", "d")


# ----------------------------------------------------------------------------
# data
# ----------------------------------------------------------------------------

def report_shop() -> Path:
    return REPORT_DATA / f"shop_{N_REPORT}" / "transactions.parquet"


def summary_path(n: int) -> Path:
    return DATA_DIR / f"summary_{n}.parquet"


def source_of(n: int) -> dict:
    """What the summary of ``n`` customers is built from (the cache is valid while this is unchanged)."""
    if n == N_REPORT:
        path = report_shop()
        if not path.exists():  # as benchmarks/bench_report.py makes it
            subprocess.run([sys.executable, str(HERE / "generate_large.py"), str(REPORT_DATA), "--customers",
                            str(N_REPORT), "--seed", str(SEED), "--rate-scale", "4.6", "--loyalty-scale", "5",
                            "--parquet"], check=True, cwd=ROOT)
        st = path.stat()
        return {"kind": "report_shop", "path": str(path.relative_to(ROOT)), "size": st.st_size,
                "mtime_ns": st.st_mtime_ns, **UNIT}
    return {"kind": "generate_sample_shop", "n_customers": n, "seed": SEED, **UNIT}


def cached_meta(n: int, source: dict) -> dict | None:
    path = summary_path(n)
    meta_path = path.with_suffix(".json")
    if not path.exists() or not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    return meta if meta.get("source") == source else None


def child_prep(n: int, source: dict) -> dict:
    """Build the summary of ``source`` and cache it (Parquet + JSON description)."""
    import relmkt_helpers as rh
    from relmkt_helpers import clv
    from relmkt_helpers.clv.prep import compress_summary

    t = time.perf_counter()
    if source["kind"] == "report_shop":
        tx, _ = rh.load_transactions(ROOT / source["path"])
        described = (f"`{source['path']}` (`benchmarks/generate_large.py benchmarks/data/report --customers "
                     f"{N_REPORT} --seed {SEED} --rate-scale 4.6 --loyalty-scale 5 --parquet`), read with "
                     "`load_transactions(path)`")
    else:
        shop = rh.generate_sample_shop(n, seed=SEED)
        tx, _ = rh.load_transactions(shop.transactions)
        described = f"`generate_sample_shop({n:_}, seed={SEED})` (default parameters), through `load_transactions`"
    t_load = time.perf_counter() - t
    end = pd.Timestamp(tx["order_date"].max()).normalize()
    t = time.perf_counter()
    s = clv.rfm_summary(tx, observation_end=end, **UNIT)
    t_summary = time.perf_counter() - t
    x = s["frequency"].to_numpy(dtype=float)
    spend = pd.DataFrame({"x": x, "m": np.where(x > 0, s["monetary_value"].to_numpy(dtype=float), 0.0)})
    meta = {
        "source": source,
        "described": described,
        "orders": int(len(tx)),
        "customers": int(len(s)),
        "observation_end": str(end.date()),
        "attrs": dict(s.attrs),
        "repeat_customers": int((x > 0).sum()),
        "unique_rfm": int(len(compress_summary(s).unique)),
        "unique_xT": int(len(compress_summary(s, ["frequency", "T"]).unique)),
        "unique_spend": int(len(compress_summary(spend, ["x", "m"]).unique)),
        "load_s": t_load,
        "summary_s": t_summary,
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    path = summary_path(n)
    s.to_parquet(path)
    path.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def load_summary(path: Path) -> pd.DataFrame:
    s = pd.read_parquet(path)
    s.attrs = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["attrs"]
    return s


# ----------------------------------------------------------------------------
# the steps
# ----------------------------------------------------------------------------

def fit_models(s: pd.DataFrame):
    from relmkt_helpers.clv import RepeatPurchaseModel, SpendModel

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        bg = RepeatPurchaseModel("bgnbd").fit(s)
        gg = SpendModel().fit(s[(s["frequency"] == 0) | (s["monetary_value"] > 0)])
    return bg, gg


def kit_value(bg, gg, s: pd.DataFrame, n_bootstrap: int) -> pd.DataFrame:
    from relmkt_helpers.clv import customer_value

    return customer_value(bg, gg, s, **VALUE_ARGS, n_bootstrap=n_bootstrap, interval=INTERVAL,
                          random_state=BOOT_SEED)


def lifetimes_value(bg, gg, s: pd.DataFrame) -> pd.Series:
    """lifetimes' own CLV with the kit's fitted lifetimes objects (no margin; 30-day months)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return gg.fitter_.customer_lifetime_value(
            bg.fitter_, s["frequency"], s["recency"], s["T"], s["monetary_value"],
            time=VALUE_ARGS["horizon_months"], discount_rate=MONTHLY_RATE, freq=LIFETIMES_FREQ)


def draw_models(bg, gg, k: int, seed: int) -> tuple[list, int]:
    """K (repeat-purchase, spend) model pairs drawn as ``customer_value`` draws them, and the discarded count."""
    from relmkt_helpers.clv import RepeatPurchaseModel, SpendModel

    rng = np.random.default_rng(seed)
    names, gnames = list(bg.params_.index), list(gg.params_.index)
    th = rng.multivariate_normal(np.log(bg.params_.to_numpy(dtype=float)),
                                 bg.variance_matrix_log_.loc[names, names].to_numpy(), size=k, method="eigh")
    tg = rng.multivariate_normal(np.log(gg.params_.to_numpy(dtype=float)),
                                 gg.variance_matrix_log_.loc[gnames, gnames].to_numpy(), size=k, method="eigh")
    ok = np.exp(tg[:, gnames.index("q")]) > 1.0  # q <= 1: infinite mean spend (customer_value discards them)
    models = [(RepeatPurchaseModel.from_params(bg.model, dict(zip(names, np.exp(a))), unit_days=bg.unit_days_),
               SpendModel.from_params(dict(zip(gnames, np.exp(b)))))
              for a, b in zip(th[ok], tg[ok])]
    return models, int((~ok).sum())


def plain_bootstrap(bg, gg, s: pd.DataFrame, k: int, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The interval the plain way: one ``customer_value(n_bootstrap=0)`` per draw, then quantiles per customer."""
    models, discarded = draw_models(bg, gg, k, seed)
    vals = np.empty((len(models), len(s)))
    for j, (bj, gj) in enumerate(models):
        vals[j] = kit_value(bj, gj, s, 0)["clv"].to_numpy()
    low, high = np.quantile(vals, [(1.0 - INTERVAL) / 2.0, (1.0 + INTERVAL) / 2.0], axis=0)
    return low, high, discarded


def plain_step(bg, gg, s: pd.DataFrame, k: int, seed: int, parts: list) -> pd.DataFrame:
    """Step (d): the point estimate, then the plain bootstrap; ``parts`` gets (point s, draws s)."""
    t0 = time.perf_counter()
    out = kit_value(bg, gg, s, 0)
    t1 = time.perf_counter()
    low, high, _ = plain_bootstrap(bg, gg, s, k, seed)
    out["clv_low"], out["clv_high"] = low, high
    parts.append((t1 - t0, time.perf_counter() - t1))
    return out


# ----------------------------------------------------------------------------
# children: one step, one process
# ----------------------------------------------------------------------------


def _digest(df: pd.DataFrame) -> str:
    h = hashlib.sha256()
    for c in POINT_COLS:
        h.update(np.ascontiguousarray(df[c].to_numpy(dtype=float)).tobytes())
    return h.hexdigest()[:16]


def _sample(s: pd.DataFrame, n: int) -> pd.DataFrame:
    out = s.sample(min(n, len(s)), random_state=0)
    out.attrs = dict(s.attrs)
    return out


def _params(m) -> dict:
    return {k: float(v) for k, v in m.params_.items()}


def child_step(step: str, path: Path, repeats: int, n_boot: int, k: int) -> dict:
    s = load_summary(path)
    t = time.perf_counter()
    bg, gg = fit_models(s)
    fit_s = time.perf_counter() - t
    parts: list = []
    fn = {
        "a": lambda data: kit_value(bg, gg, data, 0),
        "b": lambda data: kit_value(bg, gg, data, n_boot),
        "c": lambda data: lifetimes_value(bg, gg, data),
        "d": lambda data: plain_step(bg, gg, data, k, BOOT_SEED, parts),
    }[step]
    fn(_sample(s, WARMUP_CUSTOMERS))  # imports and every code path once
    parts.clear()
    out = None
    gc.collect()
    rss_before = _vm("VmRSS")
    reset = _reset_peak()
    times = []
    for _ in range(repeats):
        out = None  # the previous run's result is not part of this run's memory
        gc.collect()
        t = time.perf_counter()
        out = fn(s)
        times.append(time.perf_counter() - t)
    hwm = _vm("VmHWM")
    res: dict = {
        "step": step, "times": times, "fit_s": fit_s, "rss_before_mib": rss_before,
        "step_peak_mib": hwm if reset else None,
        "bg_params": _params(bg), "gg_params": _params(gg),
        "bg_fitter_params": {k_: float(v) for k_, v in bg.fitter_.params_.items()},
        "gg_fitter_params": {k_: float(v) for k_, v in gg.fitter_.params_.items()},
        "customers": len(s),
    }
    if step == "a":
        res["digest"] = _digest(out)
        res["clv_total"] = float(out["clv"].sum())
    elif step == "b":
        point = kit_value(bg, gg, s, 0)
        res["digest"] = _digest(out)
        res["identical_to_a"] = all(np.array_equal(out[c].to_numpy(), point[c].to_numpy()) for c in POINT_COLS)
        res["max_abs_diff_to_a"] = max(float(np.max(np.abs(out[c].to_numpy() - point[c].to_numpy())))
                                       for c in POINT_COLS)
        res["covered"] = float(((out["clv_low"] <= out["clv"]) & (out["clv"] <= out["clv_high"])).mean())
        res["discarded"] = int(out.attrs["bootstrap_draws_discarded"])
        res["rel_width_median"] = float(np.median((out["clv_high"] - out["clv_low"]) / out["clv"]))
    elif step == "c":
        kit = kit_value(bg, gg, s, 0)["clv"]
        lt = out.reindex(kit.index).to_numpy(dtype=float)
        res["lifetimes_total"] = float(np.sum(lt))
        res["kit_total"] = float(kit.sum())
        res["ratio_totals"] = float(kit.sum() / (VALUE_ARGS["margin_rate"] * np.sum(lt)))
        res["ratio_median"] = float(np.median(kit.to_numpy() / (VALUE_ARGS["margin_rate"] * lt)))
    elif step == "d":
        res["point_s"] = [p[0] for p in parts]
        res["draws_s"] = [p[1] for p in parts]
        models, discarded = draw_models(bg, gg, k, BOOT_SEED)
        res["draws_used"], res["discarded"] = len(models), discarded
        res["rel_width_median"] = float(np.median((out["clv_high"] - out["clv_low"]) / out["clv"]))
        # the machinery: the same K draws inside customer_value, on a sample of customers
        sub = _sample(s, CHECK_CUSTOMERS)
        kit = kit_value(bg, gg, sub, k)
        low, high, _ = plain_bootstrap(bg, gg, sub, k, BOOT_SEED)
        rel = [float(np.max(np.abs(kit[c].to_numpy() - v) / np.maximum(np.abs(v), 1e-300)))
               for c, v in (("clv_low", low), ("clv_high", high))]
        res["check_customers"] = len(sub)
        res["check_rel_low"], res["check_rel_high"] = rel
    return res


def run_child(step: str, path: Path, repeats: int, n_boot: int, k: int) -> dict:
    cmd = [sys.executable, __file__, "--child", step, "--data", str(path), "--repeats", str(repeats),
           "--bootstrap", str(n_boot), "--draws", str(k)]
    print(f"step ({step}) ...", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"child step ({step}) failed (exit {proc.returncode}); its error is above.")
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"step ({step}): median {np.median(res['times']):.2f} s, ru_maxrss {res['ru_maxrss_mib']:,.0f} MiB",
          file=sys.stderr, flush=True)
    return res


# ----------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------

def machine() -> str:
    cpu = cpu_name()
    import scipy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import lifetimes

    return (f"{platform.machine()}, {os.cpu_count()} cores ({cpu}), Linux {platform.release()}, "
            f"Python {platform.python_version()}, numpy {np.__version__}, pandas {pd.__version__}, "
            f"scipy {scipy.__version__}, lifetimes {lifetimes.__version__}")


def _mib(v: float | None) -> str:
    return "n/a" if v is None else f"{v:,.0f}"


def report(meta: dict, r: dict, args: argparse.Namespace, command: str, load: tuple[list, list]) -> str:
    med = {s: float(np.median(r[s]["times"])) for s in STEPS}
    d = r["d"]
    k_used = d["draws_used"]
    d_point, d_draws = float(np.median(d["point_s"])), float(np.median(d["draws_s"]))
    d_extra = d_point + d_draws * args.bootstrap / k_used
    speed_ac = med["c"] / med["a"]
    speed_bd = d_extra / med["b"]
    fmt_p = lambda p: ", ".join(f"{k}={v:.4g}" for k, v in p.items())  # noqa: E731
    same_params = all(r[s][key] == r["a"][key] for s in STEPS for key in ("bg_params", "gg_params"))
    b = r["b"]
    c = r["c"]
    rows = [
        ("(a) kit point estimate", "`customer_value(bg, gg, summary, horizon_months=12, margin_rate=0.3, "
         "annual_discount_rate=0.1, n_bootstrap=0)`", r["a"], med["a"], ""),
        ("(b) kit with bootstrap", f"the same with `n_bootstrap={args.bootstrap}`", b, med["b"], ""),
        ("(c) lifetimes, alternative to (a)", "`gg.fitter_.customer_lifetime_value(bg.fitter_, frequency, "
         f"recency, T, monetary_value, time=12, discount_rate={MONTHLY_RATE:.6f}, freq=\"{LIFETIMES_FREQ}\")`",
         c, med["c"], f"**(a) is {speed_ac:.1f}x faster**"),
        (f"(d) plain bootstrap, {args.draws} draws (measured)", f"point estimate + {args.draws} x "
         "`customer_value(from_params models, n_bootstrap=0)` + `np.quantile`", d, med["d"], ""),
    ]
    lines = [
        "# Benchmark: `customer_value` (CLV with bootstrap intervals)",
        "",
        f"Command (from the repository root): `{command}`",
        "",
        f"Machine: {machine()}. Load average (1, 5, 15 min) at the start "
        f"{', '.join(f'{v:.2f}' for v in load[0])}, at the end {', '.join(f'{v:.2f}' for v in load[1])} "
        "(the machine is shared; times are wall times, so a load above 1 slows every figure alike).",
        "",
        f"Data: {meta['described']}: {meta['orders']:,} orders, **{meta['customers']:,} customers** "
        f"({meta['repeat_customers']:,} with repeat purchases); summary `rfm_summary(tx, observation_end="
        f"\"{meta['observation_end']}\", freq=\"D\", freq_multiplier=7)` (the last order date; unit 7 days), "
        f"cached in `{summary_path(args.customers).relative_to(ROOT)}` (git-ignored). "
        f"Unique `(x, t_x, T)` rows: **{meta['unique_rfm']:,}**; unique `(x, T)` pairs: "
        f"**{meta['unique_xT']:,}**; unique `(x, m)` spend rows: {meta['unique_spend']:,}.",
        "",
        f"Models (refitted in each step's subprocess, {np.median([r[s]['fit_s'] for s in STEPS]):.1f} s, not "
        f"timed as part of any step; identical in every subprocess: {'yes' if same_params else '**NO**'}): "
        f"BG/NBD {fmt_p(r['a']['bg_params'])} (per week); Gamma-Gamma {fmt_p(r['a']['gg_params'])}.",
        "",
        f"Wall times: median of {args.repeats} runs in one subprocess per step, after a warm-up on "
        f"{WARMUP_CUSTOMERS:,} customers. *RSS before* is the subprocess with the summary loaded and the models "
        "fitted; *peak during step* is `VmHWM` after resetting it (`/proc/self/clear_refs`) just before the timed "
        "runs; *ru_maxrss* is the subprocess's whole-life peak (`resource.getrusage`), which includes reading the "
        "summary and fitting the models.",
        "",
        "| step | call | median (s) | RSS before (MiB) | peak during step (MiB) | ru_maxrss (MiB) | kit vs alternative |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, call, res, m, ratio in rows:
        lines.append(f"| {name} | {call} | {m:.2f} | {_mib(res['rss_before_mib'])} | {_mib(res['step_peak_mib'])} "
                     f"| {_mib(res['ru_maxrss_mib'])} | {ratio} |")
    lines.append(
        f"| (d) plain bootstrap, **{args.bootstrap} draws (extrapolated)** | point estimate {d_point:.2f} s + "
        f"{args.bootstrap}/{k_used} x {d_draws:.2f} s for {k_used} draws | **{d_extra:.1f}** (extrapolated) | "
        f"n/a | not measured | not measured | **(b) is {speed_bd:.1f}x faster** |")
    lines += [
        "",
        f"Speed ratios: (c) / (a) = **{speed_ac:.1f}x**; (d) extrapolated to {args.bootstrap} draws / (b) = "
        f"**{speed_bd:.1f}x**. (d) was measured with {args.draws} draws only because it is slow; its "
        f"{args.bootstrap}-draw time is a linear extrapolation, not a measurement (its memory at "
        f"{args.bootstrap} draws would include the stacked {args.bootstrap} x {meta['customers']:,} values, "
        f"{args.bootstrap * meta['customers'] * 8 / 2**20:,.0f} MiB, not measured either). The kit's bootstrap "
        "works on the unique rows and uses up to two threads; the plain loop recomputes everything per draw on one.",
        "",
        "## Checks",
        "",
        f"* (a) and the point estimate inside (b) ({', '.join(f'`{c_}`' for c_ in POINT_COLS)}): "
        + ("**identical** bit for bit" if b["identical_to_a"] else
           f"**DIFFERENT** (max absolute difference {b['max_abs_diff_to_a']:.3g})")
        + " in one process; digests across the two subprocesses "
        + ("equal" if b["digest"] == r["a"]["digest"] else "**DIFFERENT**")
        + f" ({r['a']['digest']} / {b['digest']}).",
        f"* (b): {b['covered'] * 100:.2f} % of customers have `clv_low <= clv <= clv_high`; median relative width "
        f"of the {INTERVAL:.0%} interval {b['rel_width_median']:.3f} of the CLV; {b['discarded']} of "
        f"{args.bootstrap} draws discarded (spend q <= 1).",
        f"* (d)'s machinery: on a sample of {d['check_customers']:,} customers, `customer_value(..., "
        f"n_bootstrap={args.draws}, random_state={BOOT_SEED})` against the plain bootstrap with the same "
        f"{args.draws} draws: maximum relative difference of `clv_low` **{d['check_rel_low']:.1e}**, of "
        f"`clv_high` **{d['check_rel_high']:.1e}** ({d['discarded']} of the {args.draws} draws discarded). The "
        f"intervals of (b) ({args.bootstrap} draws) and (d) ({args.draws} draws) are not expected to agree and are "
        "not compared.",
        f"* (c) is not the same number as (a), by design: lifetimes has no margin, uses 30-day months (4.345 weeks "
        f"with `freq=\"W\"`, against the kit's 365.25/12 days = 4.348 weeks) and the monthly rate "
        f"{MONTHLY_RATE:.6f} (10 % a year), and runs on the lifetimes fitters held by the kit's models "
        "(`bg.fitter_`, `gg.fitter_`; parameters as the kit's to "
        f"{_fitter_rel(r['a']):.0e} relative). Both do 12 monthly steps for every customer. For orientation only: "
        f"sum of (a)'s CLV / (0.3 x sum of lifetimes' CLV) = {c['ratio_totals']:.4f}; median per-customer ratio "
        f"{c['ratio_median']:.4f}.",
        "",
    ]
    return "\n".join(lines)


def _fitter_rel(res: dict) -> float:
    bg = max(abs(res["bg_params"][k] / res["bg_fitter_params"][k] - 1) for k in res["bg_params"])
    gg = max(abs(res["gg_params"][k] / res["gg_fitter_params"]["v" if k == "gamma" else k] - 1)
             for k in res["gg_params"])
    return max(bg, gg)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=N_REPORT,
                    help=f"{N_REPORT:_}: the report benchmark's shop; other sizes: generate_sample_shop(n, seed={SEED})")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs of each step (median reported)")
    ap.add_argument("--bootstrap", type=int, default=200, help="n_bootstrap of step (b) (the report's default)")
    ap.add_argument("--draws", type=int, default=20, help="draws of the plain bootstrap (d), extrapolated")
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    ap.add_argument("--child", choices=["prep", *STEPS], help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--source", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child == "prep":
        res = child_prep(args.customers, json.loads(args.source))
    elif args.child:
        res = child_step(args.child, args.data, args.repeats, args.bootstrap, args.draws)
    if args.child:
        res["ru_maxrss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(res))
        return 0
    if args.customers < 2 * CHECK_CUSTOMERS or args.repeats < 1 or args.draws < 2 or args.bootstrap < 1:
        ap.error(f"need --customers >= {2 * CHECK_CUSTOMERS}, --repeats >= 1, --draws >= 2, --bootstrap >= 1")

    source = source_of(args.customers)
    meta = cached_meta(args.customers, source)
    if meta is None:
        print("building the summary (cached for the next runs) ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, __file__, "--child", "prep", "--customers", str(args.customers),
                               "--source", json.dumps(source)], stdout=subprocess.PIPE, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit("building the summary failed; its error is above.")
        meta = cached_meta(args.customers, source)
    path = summary_path(args.customers)
    load_before = list(os.getloadavg())
    results = {s: run_child(s, path, args.repeats, args.bootstrap, args.draws) for s in STEPS}
    load_after = list(os.getloadavg())

    command = ".venv/bin/python benchmarks/bench_clv_value.py" + (" --write" if args.write else "")
    for flag, value, default in (("--customers", args.customers, N_REPORT), ("--repeats", args.repeats, 3),
                                 ("--bootstrap", args.bootstrap, 200), ("--draws", args.draws, 20)):
        if value != default:
            command += f" {flag} {value}"
    text = report(meta, results, args, command, (load_before, load_after))
    print(text)
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
