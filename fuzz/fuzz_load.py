"""Fuzz the transaction loader: arbitrary bytes as a CSV file must load or raise a kit error.

Run with ``make fuzz`` (``FUZZ_SECONDS=120`` by default), or directly::

    .venv/bin/python fuzz/fuzz_load.py fuzz/corpus -max_total_time=120

Asserts, for every input: no exception other than a :class:`relmkt_helpers.RelmktError` subclass,
and for an accepted file a balanced ledger whose rows read do not exceed the file's lines. Findings
are written by libFuzzer as ``crash-*`` files; each one fixed gets a regression test in
``tests/test_io_quirks.py``. Needs atheris (``pip install atheris==3.0.0``); not part of ``make test``.
"""
from __future__ import annotations

import os
import sys
import tempfile
import warnings
import zlib

import atheris

with atheris.instrument_imports(include=["relmkt_helpers"]):
    from relmkt_helpers._read import _read_raw  # noqa: F401  (instrumented with the loader)
    from relmkt_helpers.errors import RelmktError
    from relmkt_helpers.io import load_transactions

_DIR = tempfile.mkdtemp(prefix="relmkt-fuzz-")
_SUFFIXES = (".csv", ".csv", ".csv", ".tsv", ".csv.gz")
_OPTIONS = ({}, {"on_invalid": "drop"}, {"dayfirst": True, "on_invalid": "drop"},
            {"as_of": "2024-06-30", "after_as_of": "drop", "refunds": "drop"}, {"timezone": "Europe/Berlin"})


def check(data: bytes) -> None:
    # the whole input is the file (so the seed corpus is plain CSV); its checksum picks suffix and options
    h = zlib.crc32(data)
    suffix, options, body = _SUFFIXES[h % len(_SUFFIXES)], _OPTIONS[(h // 7) % len(_OPTIONS)], data
    if suffix == ".csv.gz" and body[:1] != b"\x1f":
        import gzip

        body = gzip.compress(body)[: max(10, len(body))]  # often truncated
    path = os.path.join(_DIR, "tx" + suffix)
    with open(path, "wb") as fh:
        fh.write(body)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tx, ledger = load_transactions(path, **options)
    except RelmktError as exc:
        assert str(exc), "a kit error without a message"
        return
    ledger.check_balanced()
    assert ledger.rows_read == ledger.rows_used + ledger.rows_dropped
    assert len(tx) == ledger.orders and ledger.orders > 0
    assert tx["order_date"].dtype == "datetime64[ns]" and tx["amount"].dtype == "float64"


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
