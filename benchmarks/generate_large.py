"""Generate large sample shops for benchmarks (not committed: write them outside git or to an ignored folder).

Each size goes to ``OUT_DIR/shop_<N>/`` with the same four files as the bundled
sample shop (``write_sample_shop``), or Parquet with ``--parquet``. Prints the
time to generate and to write, and the row counts and file sizes.

With the default parameters a customer places about 3 orders in the 3 years
(1M customers -> ~3.1M orders). ``--rate-scale X`` divides every channel's
BG/NBD ``alpha`` by X (mean purchase rate times X) and ``--loyalty-scale Y``
multiplies every ``b`` by Y (lower drop-out probability): ``--rate-scale 4
--loyalty-scale 5`` gives ~9.5M orders for 1M customers. The scaled parameters
are in ``ground_truth.json``.

Usage::

    .venv/bin/python benchmarks/generate_large.py /tmp/relmkt_bench --customers 500000 1000000
    .venv/bin/python benchmarks/generate_large.py /tmp/relmkt_bench --customers 1000000 \
        --rate-scale 4 --loyalty-scale 5 --parquet
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from relmkt_helpers import config
from relmkt_helpers.datasets import ShopParams, generate_sample_shop, write_sample_shop


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Generate large synthetic shops for benchmarks.")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--customers", type=int, nargs="+", default=[500_000, 1_000_000])
    ap.add_argument("--seed", type=int, default=config.SAMPLE_SEED)
    ap.add_argument("--rate-scale", type=float, default=1.0,
                    help="multiply every channel's mean purchase rate (divides alpha)")
    ap.add_argument("--loyalty-scale", type=float, default=1.0,
                    help="multiply every channel's BG/NBD b (lower mean drop-out probability)")
    ap.add_argument("--parquet", action="store_true", help="write Parquet instead of the CSV files")
    args = ap.parse_args(argv)
    if args.rate_scale <= 0 or args.loyalty_scale <= 0:
        ap.error("--rate-scale and --loyalty-scale must be positive")
    base = ShopParams().bgnbd
    params = {"bgnbd": {ch: {"alpha": p["alpha"] / args.rate_scale, "b": p["b"] * args.loyalty_scale}
                        for ch, p in base.items()}}
    for n in args.customers:
        t = time.perf_counter()
        shop = generate_sample_shop(n, seed=args.seed, params=params)
        t_gen = time.perf_counter() - t
        out = args.out_dir / f"shop_{n}"
        t = time.perf_counter()
        if args.parquet:
            out.mkdir(parents=True, exist_ok=True)
            paths = {
                "transactions": out / "transactions.parquet",
                "spend": out / "marketing_spend.parquet",
                "subscriptions": out / "subscriptions.parquet",
                "truth": out / config.SAMPLE_TRUTH.name,
            }
            shop.transactions.to_parquet(paths["transactions"], index=False)
            shop.spend.to_parquet(paths["spend"], index=False)
            shop.subscriptions.to_parquet(paths["subscriptions"], index=False)
            paths["truth"].write_text(json.dumps(shop.truth, indent=2) + "\n", encoding="utf-8")
        else:
            paths = write_sample_shop(shop, out)
        t_write = time.perf_counter() - t
        size = sum(p.stat().st_size for p in paths.values())
        print(f"{n:>10,} customers  {len(shop.transactions):>12,} orders  "
              f"{len(shop.subscriptions):>9,} subscriptions  generate {t_gen:6.1f} s  "
              f"write {t_write:6.1f} s  {size / 1e6:8.1f} MB  -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
