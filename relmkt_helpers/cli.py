"""The ``relmkt`` command: ``report``, ``validate`` and ``generate-sample``.

Run ``relmkt --help`` or ``relmkt report --help``. Errors caused by input or
parameters print one clear message (no traceback) and exit with status 2; a
failed notebook exits with status 1.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from . import config
from .errors import ParameterError, RelmktError, ReportError



def _add_column_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("column mapping (defaults follow the kit's schema)")
    g.add_argument("--customer-col", default="customer_id", help="customer id column (default: %(default)s)")
    g.add_argument("--date-col", default="order_date", help="order date column (default: %(default)s)")
    g.add_argument("--amount-col", default="amount", help="order amount column (default: %(default)s)")
    g.add_argument("--order-col", default=None,
                   help="order id column (default: 'order_id' if present, else one order per customer-day)")


def _add_contract_options(p: argparse.ArgumentParser, *, report: bool) -> None:
    """The data-contract options, the same for validate and report (every fix an error suggests)."""
    g = p.add_argument_group("data contract (how the transactions are read; see relmkt_helpers/io.py)")
    g.add_argument("--date-format", default=None, metavar="FORMAT",
                   help="strftime format of the date column, e.g. '%%d/%%m/%%Y' (default: decided from the whole column)")
    first = g.add_mutually_exclusive_group()
    first.add_argument("--dayfirst", dest="dayfirst", action="store_const", const=True, default=None,
                       help="read 01/02/2024 as 1 February")
    first.add_argument("--monthfirst", dest="dayfirst", action="store_const", const=False,
                       help="read 01/02/2024 as 2 January")
    g.add_argument("--timezone", default=None, metavar="ZONE",
                   help="IANA zone whose calendar day zoned timestamps are counted in, e.g. Europe/Berlin "
                        "(needed when the column mixes UTC offsets)")
    g.add_argument("--on-invalid", choices=("error", "drop"), default="error",
                   help="rows with missing ids, bad dates or bad amounts: fail (default) or drop")
    g.add_argument("--refunds", choices=("net", "drop", "error"), default="net",
                   help="negative amounts: net into their order (default), drop, or fail")
    g.add_argument("--duplicates", choices=("auto", "drop", "keep", "error"), default="auto",
                   help="rows equal in every column: auto (default: drop with order ids, keep without), drop, keep, "
                        "error")
    e = p.add_argument_group("engine (who reads the data; see relmkt_helpers/engine)")
    e.add_argument("--engine", choices=("auto", "pandas", "duckdb", "spark"), default="auto",
                   help="duckdb reads Parquet files, folders (hive partitions too) and globs where they lie; "
                        "auto (default) uses it for folders and globs, pandas for single files; spark runs the same "
                        "reductions on Apache Spark (the active session under spark-submit, else local; "
                        "$RELMKT_SPARK_MASTER sets the master of a local one) and also reads CSV files and folders")
    e.add_argument("--memory-limit", default=None, metavar="SIZE",
                   help="the engine's memory limit, e.g. 4GB or 50%% (default: $RELMKT_MEMORY_LIMIT, else half of "
                        "this machine); DuckDB spills beyond it to a temporary folder that is removed afterwards, "
                        "a local Spark gets it as its JVM heap")
    if report:
        g.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                       help="leave out rows after this date (the default month is the last complete one up to it)")
        g.add_argument("--drop-after-as-of", action="store_true",
                       help="accepted for symmetry with validate: report always leaves out rows after --as-of")
    else:
        g.add_argument("--as-of", default=None, metavar="YYYY-MM-DD",
                       help="analysis date; later rows are an error unless --drop-after-as-of")
        g.add_argument("--drop-after-as-of", action="store_true", help="drop rows after --as-of instead of failing")


def _contract(args: argparse.Namespace) -> dict:
    return dict(customer_col=args.customer_col, date_col=args.date_col, amount_col=args.amount_col,
                order_col=args.order_col, date_format=args.date_format, dayfirst=args.dayfirst,
                timezone=args.timezone, refunds=args.refunds, duplicates=args.duplicates,
                on_invalid=args.on_invalid, engine=args.engine, memory_limit=args.memory_limit)


def _parse_value(text: str):
    """A -p value: JSON literal where it parses (numbers, true/false, null), else a string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _version() -> str:
    from . import __version__

    return __version__


def _resolve_data(args: argparse.Namespace) -> tuple[Path, Path | None, Path | None]:
    """--data may name a bundled data set, whose spend ledger and subscriptions come with it."""
    if not str(args.data).strip():
        raise ParameterError("--data is empty: pass a transactions CSV/Parquet file, or 'sample' or 'cdnow'.")
    bundle = args.data if args.data in config.BUNDLED else None
    return (
        config.resolve_input(args.data),
        config.resolve_input(getattr(args, "spend", None), "spend", bundle=bundle),
        config.resolve_input(getattr(args, "subscriptions", None), "subscriptions", bundle=bundle),
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(
        prog="relmkt",
        description="Relationship-marketing analytics: cohort retention, churn, CLV and retention economics.",
    )
    parser.add_argument("--version", action="version", version=f"relmkt {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("report", help="run the analysis notebooks for a month and write an HTML report",
                         description="Run every notebooks/NN_*.ipynb with papermill for one month and write "
                                     "OUT/YYYY-MM/ (index.html, one page per analysis, metrics.json). "
                                     "The report replaces an older one only if every notebook succeeds.")
    rep.add_argument("--data", required=True,
                     help="transactions CSV/Parquet, or 'sample' (bundled sample shop, with its spend ledger and "
                          "subscriptions) or 'cdnow' (bundled CDNOW log)")
    rep.add_argument("--spend", help="marketing-spend ledger CSV (month, channel, kind, spend)")
    rep.add_argument("--subscriptions", help="subscription table CSV (subscription_id, customer_id, plan, "
                                             "start_date, end_date)")
    when = rep.add_mutually_exclusive_group()
    when.add_argument("--month", help="YYYY-MM (default: the last complete month in the data)")
    when.add_argument("--from", dest="start", metavar="YYYY-MM", help="first month of a batch (with --to)")
    rep.add_argument("--to", dest="end", metavar="YYYY-MM", help="last month of a batch (with --from)")
    rep.add_argument("--out", default=str(config.REPORTS_DIR), help="output folder (default: %(default)s)")
    rep.add_argument("--with-code", action="store_true", help="show code cells in the HTML pages")
    rep.add_argument("-p", "--param", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                     help="extra notebook parameter (repeatable): NAME for every notebook that declares it, "
                          "or NN.NAME for notebook NN only (e.g. -p 03.model pnbd)")
    rep.add_argument("--currency", default="", metavar="CODE",
                     help="ISO currency code shown with money, e.g. EUR, USD, BDT (default: bare numbers)")
    rep.add_argument("--cell-timeout", type=float, default=3600.0, metavar="SECONDS",
                     help="stop a notebook cell that runs longer than this (default: %(default)g)")
    rep.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_column_options(rep)
    _add_contract_options(rep, report=True)

    val = sub.add_parser("validate", help="check a transactions file against the data contract",
                         description="Load a transactions file and print its row ledger, or the error to fix.")
    val.add_argument("--data", required=True, help="transactions CSV/Parquet, or 'sample' / 'cdnow'")
    val.add_argument("--json", action="store_true", help="print the ledger as JSON")
    _add_column_options(val)
    _add_contract_options(val, report=False)

    gen = sub.add_parser("generate-sample", help="generate the synthetic sample shop (any size) with ground truth")
    gen.add_argument("--customers", type=int, default=config.SAMPLE_CUSTOMERS, help="default: %(default)s")
    gen.add_argument("--seed", type=int, default=config.SAMPLE_SEED, help="default: %(default)s")
    gen.add_argument("--out", required=True, help="output folder")
    return parser


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import build_report, build_reports

    if (args.start is None) != (args.end is None):
        raise ParameterError("--from and --to go together: pass both (e.g. --from 2024-01 --to 2024-12).")
    data, spend, subs = _resolve_data(args)
    options = dict(
        spend_path=spend, subscriptions_path=subs, out_dir=args.out,
        params={name: _parse_value(value) for name, value in args.param}, with_code=args.with_code,
        progress=not args.no_progress, currency=args.currency, cell_timeout=args.cell_timeout,
        as_of=args.as_of, **_contract(args),
    )
    if args.start:
        results = build_reports(data, start=args.start, end=args.end, **options)
    else:
        results = [build_report(data, month=args.month, **options)]
    for result in results:
        timing = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        print(f"report for {result.month} written ({timing})", file=sys.stderr)
        print(result.index)
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from .io import load_transactions

    data, _, _ = _resolve_data(args)
    _, ledger = load_transactions(data, as_of=args.as_of, after_as_of="drop" if args.drop_after_as_of else "error",
                                  **_contract(args))
    print(json.dumps(ledger.to_dict(), indent=2) if args.json else ledger)
    return 0


def _cmd_generate(args: argparse.Namespace) -> int:
    from .datasets import generate_sample_shop, write_sample_shop

    if args.customers < 1:
        raise RelmktError(f"--customers must be at least 1 (got {args.customers}).")
    shop = generate_sample_shop(args.customers, seed=args.seed)
    paths = write_sample_shop(shop, Path(args.out))
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``relmkt`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    handler = {"report": _cmd_report, "validate": _cmd_validate, "generate-sample": _cmd_generate}[args.command]
    from .report import Interrupted

    try:
        return handler(args)
    except Interrupted as exc:
        print(f"relmkt: {exc}; the run was cleaned up (no partial report, no temporary data left).",
              file=sys.stderr)
        return 128 + exc.signum
    except ReportError as exc:
        print(f"relmkt: report failed: {exc}", file=sys.stderr)
        return 1
    except RelmktError as exc:
        print(f"relmkt: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
