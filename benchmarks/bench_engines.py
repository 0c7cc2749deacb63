"""Benchmark: one transaction-level reduction, several engines (issue 13's decision input).

Issue 13 asks for each reduction over orders to be written once, in a form more than one engine
can execute (CONVENTIONS item 19: "measure before you choose"). This script measures three
reductions, each executed four ways, on the same Parquet file:

* ``pandas``: the kit's current numpy/pandas path on the canonical frame
  (``rfm_summary``, ``retention_matrix(...).numerator``, ``monthly_summary``), timed on the frame
  in memory, and again including ``load_transactions`` (of the raw Parquet file, which validates,
  and of the canonical file written by ``save_canonical``, which the report's notebooks read);
* ``duckdb-sql``: hand-written DuckDB SQL on the Parquet file;
* ``ibis``: one Ibis expression, executed by Ibis' DuckDB backend;
* ``sqlglot``: one SQL text in sqlglot's neutral dialect, transpiled to DuckDB and executed (the
  Spark SQL it transpiles to is printed and stored, never run).

The reductions (``AS_OF`` inclusive):

* **rfm**: per customer, lifetimes' convention on days (``rfm_summary(freq="D")``): orders of one
  day merge into one purchase with the day's summed amount; ``frequency`` = distinct order days -
  1; ``recency`` = days from the first to the last order day; ``T`` = days from the first order day
  to ``AS_OF``; ``monetary_value`` = mean of the later days' sums (0 without a repeat day).
* **cohort**: acquisition cohort (month of the first order) x calendar month: distinct active
  customers (the cells of ``retention_matrix(period="M")``'s numerator that are not 0).
* **kpis**: per calendar month: orders, revenue, active customers, new customers.

Every (reduction, variant) runs in its own subprocess: ``--repeats`` timed runs (median
reported), the peak resident memory during the runs (``VmHWM`` after resetting it with
``/proc/self/clear_refs`` once the setup is done) and of the whole process (``ru_maxrss`` from
``os.wait4``), CPU seconds per run (all threads) and the import time of the engine. Each
child writes its last result to a temporary folder; the parent compares every engine's result with
the pandas path on every row: counts exactly, money to 1e-12 relative.

Data: ``benchmarks/generate_large.py benchmarks/data/engines --customers N/10 --seed 2024
--rate-scale 4.6 --loyalty-scale 5 --parquet`` (the generator and parameters of
``bench_report.py``: 1M customers give ~10.1M orders), generated in a child process on first use,
cached (git-ignored).

Usage (from the repository root; the engines live in a separate venv, see the results file)::

    /tmp/engvenv/bin/python benchmarks/bench_engines.py --orders 1000000          # quick
    /tmp/engvenv/bin/python benchmarks/bench_engines.py --write                   # 10M orders

``--write`` stores the table in ``benchmarks/results/engines.md``.
"""
from __future__ import annotations

import argparse
import ast
import gc
import importlib.metadata as md
import inspect
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from _common import vm as _vm, reset_peak as _reset_peak, cpu_name  # noqa: E402 - benchmarks/ is on sys.path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data" / "engines"
RESULTS = HERE / "results" / "engines.md"
SEED, RATE_SCALE, LOYALTY_SCALE = 2024, 4.6, 5.0
AS_OF = "2025-12-31"
REDUCTIONS = ("rfm", "cohort", "kpis")
VARIANTS = ("pandas", "pandas+load", "pandas+canonical", "duckdb-sql", "ibis", "sqlglot")
ENGINE_VARIANTS = ("duckdb-sql", "ibis", "sqlglot")
MONEY = {"rfm": ["monetary_value"], "cohort": [], "kpis": ["revenue"]}
KEYS = {"rfm": ["customer_id"], "cohort": ["cohort", "month"], "kpis": ["month"]}


# =====================================================================================
# (b) hand-written DuckDB SQL ({path} and {as_of} are filled in)
# =====================================================================================

DUCKDB_SQL = {
    "rfm": """
WITH days AS (
    SELECT customer_id, order_date::DATE AS d, sum(amount) AS v
    FROM read_parquet('{path}')
    WHERE order_date::DATE <= DATE '{as_of}'
    GROUP BY ALL
), marked AS (
    SELECT *, min(d) OVER (PARTITION BY customer_id) AS first_d FROM days
)
SELECT customer_id,
       count(*) - 1 AS frequency,
       date_diff('day', min(d), max(d)) AS recency,
       date_diff('day', min(d), DATE '{as_of}') AS T,
       coalesce(sum(v) FILTER (WHERE d > first_d) / (count(*) - 1), 0) AS monetary_value
FROM marked
GROUP BY customer_id
""",
    "cohort": """
WITH months AS (
    SELECT DISTINCT customer_id, date_trunc('month', order_date) AS month
    FROM read_parquet('{path}')
    WHERE order_date::DATE <= DATE '{as_of}'
), marked AS (
    SELECT *, min(month) OVER (PARTITION BY customer_id) AS cohort FROM months
)
SELECT cohort, month, count(*) AS active
FROM marked
GROUP BY ALL
""",
    "kpis": """
WITH o AS (
    SELECT customer_id, amount, date_trunc('month', order_date) AS month
    FROM read_parquet('{path}')
    WHERE order_date::DATE <= DATE '{as_of}'
), new AS (
    SELECT month, count(*) AS new
    FROM (SELECT min(month) AS month FROM o GROUP BY customer_id)
    GROUP BY month
)
SELECT month, count(*) AS orders, sum(amount) AS revenue, count(DISTINCT customer_id) AS active,
       coalesce(any_value(new.new), 0) AS new
FROM o LEFT JOIN new USING (month)
GROUP BY month
""",
}


# =====================================================================================
# (d) one SQL text in sqlglot's neutral dialect, table "orders", transpiled per engine
# =====================================================================================

NEUTRAL_SQL = {
    "rfm": """
WITH days AS (
    SELECT customer_id, CAST(order_date AS DATE) AS d, SUM(amount) AS v
    FROM orders
    WHERE CAST(order_date AS DATE) <= CAST('{as_of}' AS DATE)
    GROUP BY customer_id, CAST(order_date AS DATE)
), marked AS (
    SELECT customer_id, d, v, MIN(d) OVER (PARTITION BY customer_id) AS first_d FROM days
)
SELECT customer_id,
       COUNT(*) - 1 AS frequency,
       DATEDIFF(MAX(d), MIN(d)) AS recency,
       DATEDIFF(CAST('{as_of}' AS DATE), MIN(d)) AS T,
       CASE WHEN COUNT(*) > 1
            THEN SUM(CASE WHEN d > first_d THEN v ELSE 0.0 END) / (COUNT(*) - 1)
            ELSE 0.0 END AS monetary_value
FROM marked
GROUP BY customer_id
""",
    "cohort": """
WITH months AS (
    SELECT DISTINCT customer_id, DATE_TRUNC('month', order_date) AS month
    FROM orders
    WHERE CAST(order_date AS DATE) <= CAST('{as_of}' AS DATE)
), marked AS (
    SELECT customer_id, month, MIN(month) OVER (PARTITION BY customer_id) AS cohort FROM months
)
SELECT cohort, month, COUNT(*) AS active
FROM marked
GROUP BY cohort, month
""",
    "kpis": """
WITH o AS (
    SELECT customer_id, amount, DATE_TRUNC('month', order_date) AS month
    FROM orders
    WHERE CAST(order_date AS DATE) <= CAST('{as_of}' AS DATE)
), k AS (
    SELECT month, COUNT(*) AS orders, SUM(amount) AS revenue, COUNT(DISTINCT customer_id) AS active
    FROM o
    GROUP BY month
), n AS (
    SELECT month, COUNT(*) AS new
    FROM (SELECT customer_id, MIN(month) AS month FROM o GROUP BY customer_id) AS f
    GROUP BY month
)
SELECT k.month, k.orders, k.revenue, k.active, COALESCE(n.new, 0) AS new
FROM k LEFT JOIN n ON k.month = n.month
""",
}


def transpile(reduction: str, dialect: str) -> str:
    import sqlglot

    return sqlglot.transpile(NEUTRAL_SQL[reduction].format(as_of=AS_OF), read=None, write=dialect,
                             pretty=True)[0]


# =====================================================================================
# (c) one Ibis expression per reduction, on an Ibis table with the canonical columns
# =====================================================================================

def ibis_rfm(t, as_of):
    import ibis
    from ibis import _

    end = ibis.date(as_of)
    days = (t.mutate(d=t.order_date.date()).filter(_.d <= end)
            .group_by(["customer_id", "d"]).agg(v=_.amount.sum())
            .mutate(first_d=_.d.min().over(group_by="customer_id")))
    per = days.group_by("customer_id").agg(
        n=_.count(), f=_.d.min(), last=_.d.max(), rest=(_.d > _.first_d).ifelse(_.v, 0.0).sum())
    return per.select(
        "customer_id",
        frequency=per.n - 1,
        recency=per.last.delta(per.f, unit="day"),
        T=end.delta(per.f, unit="day"),
        monetary_value=(per.n > 1).ifelse(per.rest / (per.n - 1), 0.0))


def ibis_cohort(t, as_of):
    import ibis
    from ibis import _

    months = (t.filter(t.order_date.date() <= ibis.date(as_of))
              .select("customer_id", month=_.order_date.truncate("M")).distinct()
              .mutate(cohort=_.month.min().over(group_by="customer_id")))
    return months.group_by(["cohort", "month"]).agg(active=_.count())


def ibis_kpis(t, as_of):
    import ibis
    from ibis import _

    o = t.filter(t.order_date.date() <= ibis.date(as_of)).mutate(month=_.order_date.truncate("M"))
    k = o.group_by("month").agg(orders=_.count(), revenue=_.amount.sum(), active=_.customer_id.nunique())
    n = o.group_by("customer_id").agg(month=_.month.min()).group_by("month").agg(new=_.count())
    j = k.left_join(n, "month")
    return j.select(k.month, k.orders, k.revenue, k.active, new=n.new.fill_null(0))


IBIS = {"rfm": ibis_rfm, "cohort": ibis_cohort, "kpis": ibis_kpis}


# =====================================================================================
# (a) the kit's pandas/numpy path, reshaped to the same long result
# =====================================================================================

def kit_rfm(tx):
    from relmkt_helpers.clv.prep import rfm_summary

    return rfm_summary(tx, observation_end=AS_OF, freq="D").reset_index()


def kit_cohort(tx):
    from relmkt_helpers.cohorts import retention_matrix

    num = retention_matrix(tx, period="M", as_of=AS_OF).numerator  # cohort x months since acquisition
    long = num.stack().rename("active").reset_index()
    long = long[long["active"] > 0]
    return long.assign(month=long["cohort"] + long["periods_since_acquisition"])[["cohort", "month", "active"]]


def kit_kpis(tx):
    from relmkt_helpers.kpis import monthly_summary

    s = monthly_summary(tx, as_of=AS_OF)
    return s.reset_index()[["month", "orders", "revenue", "customers_active", "customers_new"]].rename(
        columns={"customers_active": "active", "customers_new": "new"})


KIT = {"rfm": kit_rfm, "cohort": kit_cohort, "kpis": kit_kpis}


def _engine_cohort(orders):
    from relmkt_helpers.engine import cohort_activity
    from relmkt_helpers.engine.reductions import month_label

    c = cohort_activity(orders, as_of=AS_OF)
    return pd_frame(cohort=month_label(c["cohort"]), month=month_label(c["period"]), active=c["customers"])


def _engine_kpis(orders):
    from relmkt_helpers.engine import monthly_counts

    k = monthly_counts(orders, as_of=AS_OF).reset_index()
    return k.rename(columns={"customers_active": "active", "customers_new": "new"})[
        ["month", "orders", "revenue", "active", "new"]]


def pd_frame(**cols):
    import pandas as pd

    return pd.DataFrame({k: (pd.Series(v.astype(str)) if hasattr(v, "freq") else pd.Series(v).reset_index(drop=True))
                         for k, v in cols.items()})


#: the kit's engine path (relmkt_helpers.engine), reshaped to the same long results
KIT_ENGINE = {
    "rfm": lambda o: __import__("relmkt_helpers.engine", fromlist=["rfm_summary"]).rfm_summary(
        o, observation_end=AS_OF, freq="D").reset_index(),
    "cohort": _engine_cohort,
    "kpis": _engine_kpis,
}


# =====================================================================================
# results in one shape, and the comparison
# =====================================================================================

def normalise(reduction: str, df):
    """Same columns, dtypes and row order whatever produced ``df`` (months as 'YYYY-MM' text)."""
    import pandas as pd

    df = pd.DataFrame(df).reset_index(drop=True)
    for col in ("cohort", "month"):
        if col in df.columns:
            c = df[col]
            df[col] = (c.astype(str) if isinstance(c.dtype, pd.PeriodDtype)
                       else pd.to_datetime(c).dt.strftime("%Y-%m"))
    if "customer_id" in df.columns:
        df["customer_id"] = df["customer_id"].astype(str)
    for col in df.columns:
        if col not in KEYS[reduction]:
            df[col] = df[col].astype("float64")
    return df.sort_values(KEYS[reduction]).reset_index(drop=True)


def compare(reduction: str, ref, other) -> dict:
    """Every row: same keys; counts exactly equal; money within 1e-12 relative."""
    import numpy as np

    keys = KEYS[reduction]
    m = ref.merge(other, on=keys, how="outer", suffixes=("_ref", "_oth"), indicator=True)
    only_ref = int((m["_merge"] == "left_only").sum())
    only_oth = int((m["_merge"] == "right_only").sum())
    both = m[m["_merge"] == "both"]
    out = {"rows_ref": len(ref), "rows_other": len(other), "only_in_pandas": only_ref, "only_in_engine": only_oth,
           "count_mismatches": {}, "money": {}}
    for col in ref.columns:
        if col in keys:
            continue
        a, b = both[f"{col}_oth"].to_numpy(), both[f"{col}_ref"].to_numpy()
        if col in MONEY[reduction]:
            scale = np.abs(b)
            rel = np.where(scale > 0, np.abs(a - b) / np.where(scale > 0, scale, 1.0), np.abs(a - b))
            out["money"][col] = {"max_rel": float(rel.max()) if len(rel) else 0.0,
                                 "over_1e-12": int((rel > 1e-12).sum()),
                                 "bit_identical": int((a == b).sum()), "n": int(len(a))}
        else:
            out["count_mismatches"][col] = int((a != b).sum())
    out["ok"] = (only_ref == 0 and only_oth == 0 and not any(out["count_mismatches"].values())
                 and all(v["over_1e-12"] == 0 for v in out["money"].values()))
    return out


# =====================================================================================
# children: one (reduction, variant) per process
# =====================================================================================


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def child(reduction: str, variant: str, raw: Path, canonical: Path, repeats: int, out: Path) -> dict:
    t0 = time.perf_counter()
    import pandas  # noqa: F401  (every variant returns a pandas frame; not part of the engine's import time)
    t_pd = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm_times = None
    clear_cache = None
    if variant.startswith("pandas"):
        import relmkt_helpers._arrays as arrays
        from relmkt_helpers.io import load_transactions

        kit = KIT[reduction]
        import_s = time.perf_counter() - t0

        def clear_cache():
            arrays._FACTOR_CACHE.clear()  # every run hashes the ids, as one analysis on fresh data does

        if variant == "pandas":
            tx = load_transactions(raw).transactions
            step = lambda: kit(tx)  # noqa: E731
        elif variant == "pandas+load":
            step = lambda: kit(load_transactions(raw).transactions)  # noqa: E731
        else:
            step = lambda: kit(load_transactions(canonical).transactions)  # noqa: E731
    elif variant == "duckdb-sql":
        import duckdb

        import_s = time.perf_counter() - t0
        con = duckdb.connect()
        sql = DUCKDB_SQL[reduction].format(path=str(raw).replace("'", "''"), as_of=AS_OF)
        step = lambda: con.sql(sql).df()  # noqa: E731
    elif variant == "ibis":
        import ibis

        ibis.duckdb  # noqa: B018  (loads the backend)
        import_s = time.perf_counter() - t0
        con = ibis.duckdb.connect()

        def step():
            t = con.read_parquet(raw, table_name="orders")
            return IBIS[reduction](t, AS_OF).to_pandas()
    elif variant == "kit-duckdb":  # the kit's engine: contract + one Ibis reduction, on the file (issue 13)
        from relmkt_helpers.engine import DuckDBSession, open_orders

        import_s = time.perf_counter() - t0
        session = DuckDBSession()

        def step():
            with open_orders(raw, session=session) as orders:
                return KIT_ENGINE[reduction](orders)
    elif variant == "sqlglot":
        import duckdb
        import sqlglot  # noqa: F401

        import_s = time.perf_counter() - t0
        con = duckdb.connect()

        def step():
            sql = transpile(reduction, "duckdb")
            con.execute(f"CREATE OR REPLACE VIEW orders AS SELECT * FROM read_parquet('{raw}')")
            return con.sql(sql).df()
    else:
        raise SystemExit(f"unknown variant {variant}")
    gc.collect()
    rss_setup = _vm("VmRSS")
    peak_setup = _vm("VmHWM")  # resetting it below also resets what ru_maxrss reports at exit
    reset = _reset_peak()
    times, cpus = [], []
    result = None
    for _ in range(repeats):
        result = None
        gc.collect()
        if clear_cache is not None:
            clear_cache()
        c, t = _cpu(), time.perf_counter()
        result = step()
        times.append(time.perf_counter() - t)
        cpus.append(_cpu() - c)
    peak_runs = _vm("VmHWM") if reset else None
    if variant == "pandas":  # the same frame again with the id factorization remembered (a notebook's case)
        warm_times = []
        for _ in range(repeats):
            gc.collect()
            t = time.perf_counter()
            step()
            warm_times.append(time.perf_counter() - t)
    normalise(reduction, result).to_parquet(out, index=False)
    return {"times": times, "cpu": cpus, "warm_times": warm_times, "import_s": import_s, "pandas_import_s": t_pd,
            "rss_setup_mib": rss_setup, "peak_setup_mib": peak_setup, "peak_runs_mib": peak_runs, "rows": len(result)}


def run_child(reduction: str, variant: str, raw: Path, canonical: Path, repeats: int, outdir: Path) -> dict:
    out = outdir / f"{reduction}__{variant.replace('+', '_')}.parquet"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", reduction, variant, "--data", str(raw),
           "--canonical", str(canonical), "--repeats", str(repeats), "--out", str(out)]
    with tempfile.TemporaryFile("w+") as so, tempfile.TemporaryFile("w+") as se:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=so, stderr=se, text=True, cwd=ROOT)
        _, status, ru = os.wait4(proc.pid, 0)  # this child's own rusage (RUSAGE_CHILDREN is a running max)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - t
        so.seek(0)
        se.seek(0)
        stdout, stderr = so.read(), se.read()
    if proc.returncode != 0:
        raise SystemExit(f"child {reduction}/{variant} failed ({proc.returncode}):\n{stderr[-4000:]}")
    res = json.loads(stdout.strip().splitlines()[-1])
    res.update(process_peak_mib=max(ru.ru_maxrss / 1024, res["peak_setup_mib"]), process_wall_s=wall, out=str(out))
    return res


# =====================================================================================
# data
# =====================================================================================

def ensure_data(orders: int) -> tuple[Path, Path]:
    """The raw Parquet log (generated in a child process) and its canonical copy (save_canonical)."""
    customers = max(orders // 10, 1000)
    shop = DATA / f"shop_{customers}"
    raw, truth = shop / "transactions.parquet", shop / "ground_truth.json"
    ok = raw.exists() and truth.exists()
    if ok:
        t = json.loads(truth.read_text(encoding="utf-8"))
        ok = t.get("seed") == SEED and t.get("n_customers") == customers
    if not ok:
        subprocess.run([sys.executable, str(HERE / "generate_large.py"), str(DATA), "--customers", str(customers),
                        "--seed", str(SEED), "--rate-scale", str(RATE_SCALE), "--loyalty-scale", str(LOYALTY_SCALE),
                        "--parquet"], check=True, cwd=ROOT)
    canonical = shop / "canonical.parquet"
    if not canonical.exists() or canonical.stat().st_mtime < raw.stat().st_mtime:
        code = ("import sys; from relmkt_helpers.io import load_transactions, save_canonical; "
                "tx, led = load_transactions(sys.argv[1]); save_canonical(tx, led, sys.argv[2])")
        subprocess.run([sys.executable, "-c", code, str(raw), str(canonical)], check=True, cwd=ROOT)
    return raw, canonical


# =====================================================================================
# lines of code, versions, package sizes
# =====================================================================================

def _code_lines(src: str) -> int:
    """Non-blank, non-comment lines, docstrings left out."""
    src = textwrap.dedent(src)
    drop: set[int] = set()
    try:
        for node in ast.walk(ast.parse(src)):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                    and isinstance(getattr(body[0], "value", None), ast.Constant) \
                    and isinstance(body[0].value.value, str):
                drop.update(range(body[0].lineno, body[0].end_lineno + 1))
    except SyntaxError:
        pass
    return sum(1 for i, line in enumerate(src.splitlines(), 1)
               if i not in drop and line.strip() and not line.strip().startswith(("#", "--")))


def _fn_lines(*fns) -> int:
    return sum(_code_lines(inspect.getsource(f)) for f in fns)


def kit_lines() -> dict[str, int]:
    """Approximate size of the kit's implementation of each reduction (the functions it runs)."""
    from relmkt_helpers import _arrays, cohorts, kpis
    from relmkt_helpers.clv import prep

    common = (_arrays.order_days, _arrays.order_amounts, _arrays.factorize_ids)
    coh = (cohorts._prepare, cohorts._period_of_days, cohorts._period_codes, cohorts._periods, cohorts._pairs,
           cohorts._check_period, cohorts._to_day)
    return {
        "rfm": _fn_lines(prep.rfm_summary, prep._prepare, prep._customer_stats, prep._summary_frame,
                         prep._sort_keys, prep._period_of_days, prep._to_day, _arrays.customer_codes, *common),
        "cohort": _fn_lines(cohorts.retention_matrix, cohorts._cohort_table, cohorts._start_rel,
                            cohorts._check_max_periods, *coh, *common),
        "kpis": _fn_lines(kpis.monthly_summary, cohorts.period_kpis, *coh, *common),
    }


def definition_lines() -> dict[str, dict[str, int]]:
    return {r: {"duckdb-sql": _code_lines(DUCKDB_SQL[r]), "sqlglot": _code_lines(NEUTRAL_SQL[r]),
                "ibis": _code_lines(inspect.getsource(IBIS[r])) - 1,  # without the def line
                "pandas": _code_lines(inspect.getsource(KIT[r])) - 1}
            for r in REDUCTIONS}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for d in ("duckdb", "ibis-framework", "sqlglot", "pandas", "numpy", "pyarrow"):
        try:
            out[d] = md.version(d)
        except md.PackageNotFoundError:
            out[d] = "not installed"
    return out


def dist_size_mib(name: str) -> float | None:
    """Installed size of a distribution: the files its RECORD lists (what `du -sh` of its folders shows)."""
    try:
        dist = md.distribution(name)
    except md.PackageNotFoundError:
        return None
    total = 0
    for f in dist.files or []:
        p = Path(dist.locate_file(f))
        if p.is_file():
            total += p.stat().st_size
    return total / 2**20


def new_dependencies() -> list[tuple[str, str, float]]:
    """Distributions in this venv that the kit's requirements.lock does not pin (what the engines add)."""
    lock = {line.split("==")[0].strip().lower().replace("_", "-")
            for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line}
    rows = []
    for dist in md.distributions():
        name = dist.metadata["Name"]
        key = name.lower().replace("_", "-")
        if key in lock or key in ("relmkt", "pip", "setuptools", "wheel"):
            continue
        rows.append((name, dist.version, dist_size_mib(name) or 0.0))
    return sorted(rows, key=lambda r: -r[2])


def du_sh(paths: list[str]) -> dict[str, str]:
    site = Path(next(p for p in sys.path if p.endswith("site-packages")))
    out = {}
    for p in paths:
        found = sorted(site.glob(p))
        if found:
            du = subprocess.run(["du", "-shc", *map(str, found)], capture_output=True, text=True).stdout
            out[p] = du.strip().splitlines()[-1].split()[0]
    return out


def machine() -> str:
    cpu = cpu_name()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Linux {platform.release()}"


# =====================================================================================
# report
# =====================================================================================

LABEL = {"pandas": "pandas (kit, frame in memory)", "pandas+load": "pandas + `load_transactions` (raw Parquet)",
         "pandas+canonical": "pandas + `load_transactions` (canonical Parquet)",
         "duckdb-sql": "DuckDB, hand-written SQL", "ibis": "Ibis expression -> DuckDB",
         "sqlglot": "neutral SQL -> sqlglot -> DuckDB"}
TITLE = {"rfm": "Per-customer RFM summary (lifetimes' convention, days)",
         "cohort": "Cohort (first-order month) x calendar month: distinct active customers",
         "kpis": "Monthly KPIs: orders, revenue, active, new customers"}


def _median(xs: list[float]) -> float:
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _check_text(c: dict | None) -> str:
    if c is None:
        return "reference"
    parts = []
    if c["only_in_pandas"] or c["only_in_engine"]:
        parts.append(f"rows: {c['only_in_pandas']} only in pandas, {c['only_in_engine']} only here")
    bad = {k: v for k, v in c["count_mismatches"].items() if v}
    if bad:
        parts.append("count mismatches " + ", ".join(f"{k} {v}" for k, v in bad.items()))
    for col, v in c["money"].items():
        parts.append(f"{col}: max rel. diff {v['max_rel']:.1e}, {v['over_1e-12']} over 1e-12, "
                     f"{v['bit_identical']:,}/{v['n']:,} bit-identical")
    head = "**equal**" if c["ok"] else "**DIFFERENT**"
    return head + (" (" + "; ".join(parts) + ")" if parts else f" ({c['rows_ref']:,} rows)")


def render(args, res: dict, checks: dict, meta: dict) -> str:
    v = meta["versions"]
    lines = [
        "# Benchmark: one reduction, several engines (issue 13)",
        "",
        f"Command (from the repository root): `{meta['command']}`",
        "",
        f"Machine: {meta['machine']}; shared and noisy (other jobs use the same two cores), so compare "
        "medians and ratios, not single runs. Load average (1/5/15 min) "
        f"{' / '.join(f'{x:.2f}' for x in meta['load_before'])} before, "
        f"{' / '.join(f'{x:.2f}' for x in meta['load_after'])} after; whole run {meta['total_s'] / 60:.1f} min.",
        "",
        f"Versions (separate venv `/tmp/engvenv`, the kit's `requirements.lock` as constraints): Python "
        f"{v['python']}, duckdb {v['duckdb']}, ibis-framework {v['ibis-framework']}, sqlglot {v['sqlglot']}, "
        f"pandas {v['pandas']}, numpy {v['numpy']}, pyarrow {v['pyarrow']}.",
        "",
        f"Data: {meta['orders']:,} orders of {meta['customers']:,} customers, 2023-01-01 .. 2025-12-31, "
        f"`{meta['raw']}` ({meta['raw_mb']:.0f} MB; `benchmarks/generate_large.py --customers "
        f"{meta['customers']} --seed {SEED} --rate-scale {RATE_SCALE} --loyalty-scale {LOYALTY_SCALE:g} "
        f"--parquet`, as `bench_report.py`). `load_transactions` keeps every row (no refunds, duplicates or "
        "invalid rows in this log), so the engines reading the raw file see the canonical orders. "
        f"`as_of` = {AS_OF} (inclusive).",
        "",
        f"Each cell: median of {args.repeats} runs in one subprocess per (reduction, variant), all from this one "
        "invocation. *Peak RSS* = the process' peak resident memory during the timed runs (`VmHWM` reset after "
        "the setup: it includes the frame in memory for the first pandas row, and whatever the engine holds); "
        "*process peak* = the whole child's peak, setup included (`VmHWM` before that reset, and `ru_maxrss` from `os.wait4`). *CPU/run* = user+system "
        "seconds of all threads (DuckDB uses both cores; the numpy path one). Ratios are to the pandas path on "
        "the frame in memory (`÷ mem`) and to the pandas path including `load_transactions` of the raw file "
        "(`÷ load`, the like-for-like comparison with an engine that reads the file). The kit's factorization "
        "cache (`_arrays._FACTOR_CACHE`) is cleared before every pandas run; the *warm* figure is the same frame "
        "with the ids' factorization remembered (a notebook calling several analyses on one frame).",
        "",
    ]
    for r in REDUCTIONS:
        ref = _median(res[r]["pandas"]["times"])
        ref_load = _median(res[r]["pandas+load"]["times"])
        lines += [f"## {TITLE[r]}", "",
                  "| variant | median (s) | runs (s) | ÷ mem | ÷ load | CPU/run (s) | peak RSS (MiB) | "
                  "process peak (MiB) | rows | same result as pandas |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for var in VARIANTS:
            x = res[r][var]
            med = _median(x["times"])
            label = LABEL[var]
            if var == "pandas" and x.get("warm_times"):
                label += f"; warm {_median(x['warm_times']):.2f} s"
            peak = f"{x['peak_runs_mib']:,.0f}" if x.get("peak_runs_mib") is not None else "n/a"
            lines.append(
                f"| {label} | **{med:.2f}** | {', '.join(f'{t:.2f}' for t in x['times'])} | {med / ref:.2f} | "
                f"{med / ref_load:.2f} | {_median(x['cpu']):.2f} | {peak} | {x['process_peak_mib']:,.0f} | "
                f"{x['rows']:,} | {_check_text(checks[r].get(var))} |")
        lines.append("")
    loc, kloc = meta["loc"], meta["kit_loc"]
    lines += [
        "## Size of each definition",
        "",
        "Lines of code (non-blank, no comments or docstrings). *pandas call* is the adapter in this script "
        "(the kit call reshaped to the long result); *kit implementation* is the approximate size of the kit "
        "functions that run (they also compute more than asked: the whole retention matrix, every KPI column).",
        "",
        "| reduction | hand-written DuckDB SQL | Ibis expression | neutral SQL (sqlglot) | pandas call | "
        "kit implementation (approx.) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [f"| {r} | {loc[r]['duckdb-sql']} | {loc[r]['ibis']} | {loc[r]['sqlglot']} | {loc[r]['pandas']} | "
              f"~{kloc[r]} |" for r in REDUCTIONS]
    lines += ["", "Import time of the engine (s, median over the children of that variant): "
              + ", ".join(f"{name} {meta['imports'][var]:.2f}" for var, name in (
                  ("pandas", "relmkt_helpers"), ("duckdb-sql", "duckdb"), ("ibis", "ibis + its duckdb backend"),
                  ("sqlglot", "duckdb + sqlglot")))
              + " (pandas itself imported first and not counted).", ""]
    lines += ["## Dependency weight", "",
              "Installed size of what the engines add to the kit's environment (every distribution in the venv "
              "that `requirements.lock` does not pin; the sum of the files in its RECORD):", "",
              "| distribution | version | MiB |", "|---|---|---|"]
    lines += [f"| {n} | {ver} | {mib:.1f} |" for n, ver, mib in meta["new_deps"]]
    lines += ["", "`du -sh` in site-packages: " + ", ".join(f"`{k}` {v}" for k, v in meta["du"].items()) + ".", ""]
    lines += ["## Portability: the neutral SQL transpiled to Spark SQL (printed, not run)", "",
              "`sqlglot.transpile(sql, read=None, write=\"spark\")`; the table `orders` is whatever the engine "
              "calls the canonical orders (a DuckDB view over `read_parquet` here, a registered DataFrame in "
              "Spark). Each Spark text parses back with `read=\"spark\"`: "
              + ("yes." if meta["spark_roundtrip"] else "NO.") , ""]
    for r in REDUCTIONS:
        lines += [f"<details><summary>{r}: Spark SQL</summary>", "", "```sql", meta["spark_sql"][r], "```", "",
                  "</details>", ""]
    lines += ["Ibis compiles the same expressions for Spark through its `pyspark` backend, which needs pyspark "
              f"installed: {meta['ibis_pyspark_note']}", ""]
    lines += ["<details><summary>Ibis: the DuckDB SQL it generates for rfm</summary>", "", "```sql",
              meta["ibis_duckdb_sql"], "```", "", "</details>", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--orders", type=int, default=10_000_000, help="about how many orders (customers = orders/10)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", nargs="+", choices=REDUCTIONS, default=list(REDUCTIONS))
    ap.add_argument("--write", action="store_true", help=f"write {RESULTS.relative_to(ROOT)}")
    ap.add_argument("--child", nargs=2, metavar=("REDUCTION", "VARIANT"), help=argparse.SUPPRESS)
    ap.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--canonical", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child, args.data, args.canonical, args.repeats, args.out)))
        return 0

    import pandas as pd

    t_start = time.perf_counter()
    raw, canonical = ensure_data(args.orders)
    meta: dict = {"load_before": list(os.getloadavg())}
    res: dict = {r: {} for r in args.only}
    checks: dict = {r: {} for r in args.only}
    with tempfile.TemporaryDirectory(prefix="relmkt-engines-") as tmp:
        for r in args.only:
            for var in VARIANTS:
                x = res[r][var] = run_child(r, var, raw, canonical, args.repeats, Path(tmp))
                print(f"{r:7s} {var:17s} median {_median(x['times']):7.2f} s  runs "
                      f"{', '.join(f'{t:.2f}' for t in x['times'])}  peak {x['peak_runs_mib'] or float('nan'):7,.0f} "
                      f"MiB  process {x['process_peak_mib']:7,.0f} MiB  cpu/run {_median(x['cpu']):.2f} s",
                      flush=True)
            ref = pd.read_parquet(res[r]["pandas"]["out"])
            for var in VARIANTS[1:]:
                checks[r][var] = compare(r, ref, pd.read_parquet(res[r][var]["out"]))
                print(f"        check {var:17s} {_check_text(checks[r][var])}", flush=True)
    meta["load_after"] = list(os.getloadavg())
    meta["total_s"] = time.perf_counter() - t_start

    import sqlglot

    meta["spark_sql"] = {r: transpile(r, "spark") for r in REDUCTIONS}
    meta["spark_roundtrip"] = all(sqlglot.parse_one(s, read="spark") is not None for s in meta["spark_sql"].values())
    for r in REDUCTIONS:
        print(f"\n-- {r}: neutral SQL transpiled to Spark SQL (not run)\n{meta['spark_sql'][r]}")
    import ibis

    t = ibis.table({"order_id": "string", "customer_id": "string", "order_date": "timestamp", "amount": "float64"},
                   name="orders")
    meta["ibis_duckdb_sql"] = ibis.to_sql(ibis_rfm(t, AS_OF), dialect="duckdb")
    try:
        ibis.to_sql(ibis_rfm(t, AS_OF), dialect="pyspark")
        meta["ibis_pyspark_note"] = "`ibis.to_sql(expr, dialect=\"pyspark\")` compiled without it."
    except Exception as exc:  # noqa: BLE001
        meta["ibis_pyspark_note"] = (f"without it, `ibis.to_sql(expr, dialect=\"pyspark\")` fails "
                                     f"(`{type(exc).__name__}: {str(exc).splitlines()[0][:120]}`); "
                                     "`dialect=\"databricks\"` compiles (not run).")
    meta.update(
        command=("/tmp/engvenv/bin/python benchmarks/bench_engines.py"
                 + (f" --orders {args.orders}" if args.orders != 10_000_000 else "")
                 + (f" --repeats {args.repeats}" if args.repeats != 3 else "") + (" --write" if args.write else "")),
        machine=machine(), versions=versions(), raw=str(raw.relative_to(ROOT)), raw_mb=raw.stat().st_size / 1e6,
        orders=_count_rows(raw),
        customers=json.loads((raw.parent / "ground_truth.json").read_text())["n_customers"],
        loc=definition_lines(), kit_loc=kit_lines(), new_deps=new_dependencies(),
        du=du_sh(["duckdb", "_duckdb*", "ibis", "sqlglot", "sqlglotrs", "sqlglotc", "rich", "toolz", "parsy",
                  "public", "markdown_it", "mdurl", "pyarrow_hotfix"]),
        imports={var: _median([res[r][var]["import_s"] for r in args.only])
                 for var in ("pandas", "duckdb-sql", "ibis", "sqlglot")},
    )
    if args.only != list(REDUCTIONS):
        print(json.dumps({r: {v: _median(x["times"]) for v, x in res[r].items()} for r in res}, indent=1))
        return 0
    text = render(args, res, checks, meta)
    print("\n" + text)
    if args.write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        keep = ""
        if RESULTS.exists():  # the hand-written recommendation survives a re-run
            old = RESULTS.read_text(encoding="utf-8")
            if "\n## Recommendation" in old:
                keep = old[old.index("\n## Recommendation") + 1:]
        RESULTS.write_text(text + ("\n" + keep if keep else ""), encoding="utf-8")
    return 0


def _count_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


if __name__ == "__main__":
    sys.exit(main())
