"""Convert the CDNOW transaction logs shipped with ``lifetimes`` to the kit's CSV schema.

Source (read as text; ``lifetimes`` is located but never imported):

* ``lifetimes/datasets/CDNOW_master.txt``: header ``customer_id date
  number_of_cds dollar_value``, whitespace separated; 69,659 rows, 23,570
  customers (Fader & Hardie 2001).
* ``lifetimes/datasets/CDNOW_sample.txt``: no header; columns master id, sample
  id (0001-2357), date, number of CDs, dollar value; 6,919 rows, 2,357 customers
  (the 1/10th sample of Fader, Hardie & Lee 2005). Its rows are exactly the
  master rows of those customers (checked below). Its sample id numbers the
  customers by (first purchase date, master id); we keep the master id, so the
  sample joins to the master file, and drop the sample id (it can be recomputed).

Output (gzip, mtime 0, so reruns give identical bytes), both with the columns
``customer_id`` (5-digit zero-padded text), ``order_date`` (YYYY-MM-DD),
``quantity`` (int, CDs), ``amount`` (dollars, 2 decimals), rows in source order:

* ``data/cdnow/cdnow_transactions.csv.gz``
* ``data/cdnow/cdnow_sample_transactions.csv.gz``

Usage::

    .venv/bin/python scripts/convert_cdnow.py [--source-dir DIR] [--out-dir DIR]
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from relmkt_helpers import config  # noqa: E402

MASTER_NAME = "CDNOW_master.txt"
SAMPLE_NAME = "CDNOW_sample.txt"
COLUMNS = ["customer_id", "order_date", "quantity", "amount"]
GZIP = {"method": "gzip", "mtime": 0}


def lifetimes_datasets_dir() -> Path:
    """Folder of lifetimes' bundled data files, found without importing lifetimes."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("lifetimes is not installed; pass --source-dir with CDNOW_master.txt and CDNOW_sample.txt.")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets"


def _tidy(customer: pd.Series, date: pd.Series, qty: pd.Series, amount: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame({
        "customer_id": customer.astype(str).str.zfill(5),
        "order_date": pd.to_datetime(date.astype(str), format="%Y%m%d").dt.strftime("%Y-%m-%d"),
        "quantity": qty.astype("int64"),
        "amount": amount.astype("float64"),
    })
    return out[COLUMNS]


def read_master(path: Path) -> pd.DataFrame:
    """The master log in the kit's schema."""
    raw = pd.read_csv(path, sep=r"\s+", dtype={"customer_id": str, "date": str})
    expected = ["customer_id", "date", "number_of_cds", "dollar_value"]
    if raw.columns.tolist() != expected:
        raise SystemExit(f"{path}: expected columns {expected}, found {raw.columns.tolist()}")
    return _tidy(raw["customer_id"], raw["date"], raw["number_of_cds"], raw["dollar_value"])


def read_sample(path: Path) -> pd.DataFrame:
    """The 1/10th sample in the kit's schema (customer_id = master id)."""
    raw = pd.read_csv(path, sep=r"\s+", header=None, dtype={0: str, 1: str, 2: str},
                      names=["master_id", "sample_id", "date", "number_of_cds", "dollar_value"])
    if raw.groupby("master_id")["sample_id"].nunique().max() != 1 or raw["sample_id"].nunique() != raw["master_id"].nunique():
        raise SystemExit(f"{path}: master and sample ids are not one-to-one.")
    return _tidy(raw["master_id"], raw["date"], raw["number_of_cds"], raw["dollar_value"])


def check_subset(master: pd.DataFrame, sample: pd.DataFrame) -> None:
    """Fail unless the sample's rows are exactly the master rows of its customers."""
    sub = master[master["customer_id"].isin(sample["customer_id"])]
    a = sub.sort_values(COLUMNS).reset_index(drop=True)
    b = sample.sort_values(COLUMNS).reset_index(drop=True)
    if not a.equals(b):
        raise SystemExit("the sample's rows differ from the master rows of the same customers.")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source-dir", type=Path, default=None, help="folder with the two CDNOW .txt files "
                    "(default: the installed lifetimes package's datasets folder)")
    ap.add_argument("--out-dir", type=Path, default=config.CDNOW_DIR)
    args = ap.parse_args(argv)
    src = args.source_dir or lifetimes_datasets_dir()
    master = read_master(src / MASTER_NAME)
    sample = read_sample(src / SAMPLE_NAME)
    check_subset(master, sample)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {
        config.CDNOW_TRANSACTIONS.name: master,
        "cdnow_sample_transactions.csv.gz": sample,
    }
    for name, frame in outputs.items():
        path = args.out_dir / name
        frame.to_csv(path, index=False, lineterminator="\n", float_format="%.2f", compression=GZIP)
        print(
            f"{path}: {len(frame):,} rows, {frame['customer_id'].nunique():,} customers, "
            f"{frame['order_date'].min()} .. {frame['order_date'].max()}, "
            f"{int((frame['amount'] == 0).sum())} zero-amount rows, "
            f"{int(frame.duplicated().sum())} exact repeat rows, "
            f"{int(frame.duplicated(['customer_id', 'order_date']).sum())} extra rows on a customer-day, "
            f"{path.stat().st_size:,} bytes"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
