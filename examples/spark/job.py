"""relmkt on a Spark cluster: a job for ``spark-submit`` (or a Databricks/EMR job task).

The per-order reductions run on the cluster; only compact tables (monthly KPIs, cohort counts,
per-customer summaries) come back to the driver, where the models run. The kit must be installed
on the driver (``pip install relmkt[spark]``; the executors need only Spark itself).

    spark-submit --master yarn examples/spark/job.py --orders sales.orders --as-of 2025-06-30 --out /dbfs/relmkt
    spark-submit --master 'local[2]' examples/spark/job.py --orders data/sample_shop/transactions.csv.gz --out out

``--orders`` is a table name, or a Parquet/CSV file, folder or glob that Spark reads.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from pyspark.sql import SparkSession

    import relmkt_helpers as rh

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", required=True, help="table name, or Parquet/CSV path, folder or glob")
    ap.add_argument("--as-of", default=None, help="analysis date YYYY-MM-DD (default: the last order's)")
    ap.add_argument("--out", required=True, type=Path, help="folder for the results (on the driver)")
    args = ap.parse_args(argv)

    spark = SparkSession.builder.appName("relmkt").getOrCreate()  # spark-submit's session
    orders, ledger = rh.open_transactions(args.orders, engine="spark", after_as_of="drop", as_of=args.as_of)
    print(ledger)
    as_of = args.as_of or ledger.last_date
    cohorts = rh.cohort_analysis(orders, as_of=as_of)           # cohort x age counts on the cluster
    clv = rh.clv_analysis(orders, as_of=as_of, n_bootstrap=0)   # summaries on the cluster, models here
    args.out.mkdir(parents=True, exist_ok=True)
    cohorts.retention.matrix.to_csv(args.out / "retention.csv")
    clv.value.to_parquet(args.out / "customer_value.parquet")
    summary = {"orders": ledger.orders, "customers": ledger.customers, "as_of": str(as_of),
               "clv_model": clv.choice.model, "spark": spark.version}
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
