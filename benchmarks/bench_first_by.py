"""Benchmark: reductions.first_by (one definition for DuckDB and Spark) against Ibis' ordered first, on DuckDB.

The per-customer first channel of 10M orders (1M customers) from the canonical Parquet file, both
expressions in one session, alternating, 3 runs; and whether the results are equal.

Usage: .venv/bin/python benchmarks/bench_first_by.py   (data: benchmarks/bench_report.py's 1M-customer shop,
canonicalised as benchmarks/data/engines/shop_1000000/canonical.parquet by bench_engines.py)
"""
import statistics
import time
from pathlib import Path

from relmkt_helpers.engine import DuckDBSession
from relmkt_helpers.engine.reductions import first_by
with DuckDBSession(memory_limit="4GB") as s:
    t = s.con.read_parquet(str(Path(__file__).resolve().parent / "data" / "engines" / "shop_1000000" / "canonical.parquet"))
    old = t.group_by("customer_id").agg(ch=t.channel.first(order_by=[t.order_date, t.order_id], include_null=True))
    new = t.group_by("customer_id").agg(ch=first_by(t.channel, t.order_date, t.order_id))
    res = {"ordered first": [], "first_by": []}
    for _ in range(3):
        for name, e in (("ordered first", old), ("first_by", new)):
            t0 = time.perf_counter(); n = s.execute(e.aggregate(n=e.ch.nunique(), k=e.count()), name); res[name].append(time.perf_counter() - t0)
        print(n.to_dict("records"))
    for k, v in res.items(): print(k, [round(x, 2) for x in v], "median", round(statistics.median(v), 2))
    a = s.execute(old.order_by("customer_id"), "a"); b = s.execute(new.order_by("customer_id"), "b")
    print("same result:", a.equals(b))
