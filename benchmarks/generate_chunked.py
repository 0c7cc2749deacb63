"""Write a very large transaction log as a folder of Parquet files, one chunk of customers at a time.

Issue 13's 100M-order benchmark needs a log bigger than one process should hold: this script never
holds more than one chunk (``--chunk`` customers, default 1M, about 10M orders and ~2.5 GB while it
is generated). Each chunk is the sample-shop generator (``relmkt_helpers.datasets``) with its own
seed (``seed + chunk``), the parameters of ``bench_report.py`` (``--rate-scale 4.6 --loyalty-scale 5``:
~10 orders a customer), and customer and order ids prefixed with the chunk number so that they are
unique across files. Only the transactions are written (``transactions/part-NNN.parquet``,
timestamps in microseconds), plus ``manifest.json`` beside the folder with the counts.

Usage::

    .venv/bin/python benchmarks/generate_chunked.py benchmarks/data/orders_100m --customers 10000000
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from relmkt_helpers import config
from relmkt_helpers.datasets import ShopParams, generate_sample_shop


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--customers", type=int, default=10_000_000)
    ap.add_argument("--chunk", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=config.SAMPLE_SEED)
    ap.add_argument("--rate-scale", type=float, default=4.6)
    ap.add_argument("--loyalty-scale", type=float, default=5.0)
    args = ap.parse_args(argv)
    base = ShopParams().bgnbd
    params = {"bgnbd": {ch: {"alpha": p["alpha"] / args.rate_scale, "b": p["b"] * args.loyalty_scale}
                        for ch, p in base.items()}}
    parts = args.out_dir / "transactions"  # only Parquet files in it, so any reader takes the folder
    parts.mkdir(parents=True, exist_ok=True)
    n_chunks = -(-args.customers // args.chunk)
    total, t0 = 0, time.perf_counter()
    for i in range(n_chunks):
        n = min(args.chunk, args.customers - i * args.chunk)
        path = parts / f"part-{i:03d}.parquet"
        if path.exists():  # resumable: a chunk already written is kept
            total += pq.read_metadata(path).num_rows
            continue
        tx = generate_sample_shop(n, seed=args.seed + i, params=params).transactions
        tx["customer_id"] = f"k{i:03d}-" + tx["customer_id"].astype(str)
        tx["order_id"] = f"k{i:03d}-" + tx["order_id"].astype(str)
        tx["order_date"] = tx["order_date"].astype("datetime64[us]")
        tmp = path.with_suffix(".tmp")
        pq.write_table(pa.Table.from_pandas(tx, preserve_index=False), tmp)
        tmp.rename(path)
        total += len(tx)
        del tx
        print(f"chunk {i + 1}/{n_chunks}: {total:,} orders so far, {time.perf_counter() - t0:.0f} s", flush=True)
    manifest = {"customers": args.customers, "orders": total, "chunks": n_chunks, "seed": args.seed,
                "rate_scale": args.rate_scale, "loyalty_scale": args.loyalty_scale,
                "bytes": sum(p.stat().st_size for p in parts.glob("part-*.parquet"))}
    (args.out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    print(json.dumps(manifest))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
