"""The relmkt command line: exit codes, messages, and the installed console script."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from relmkt_helpers import config
from relmkt_helpers.cli import build_parser, main


def test_validate_prints_the_ledger(capsys):
    assert main(["validate", "--data", "cdnow"]) == 0
    out = capsys.readouterr().out
    assert "rows read         69,659" in out and "customers         23,570" in out


def test_validate_json(capsys):
    assert main(["validate", "--data", "sample", "--json"]) == 0
    ledger = json.loads(capsys.readouterr().out)
    assert ledger["rows_read"] == ledger["rows_used"] and ledger["policies"]["orders"] == "order id"


def test_validate_bad_file_exits_2_with_message(tmp_path, capsys):
    bad = tmp_path / "tx.csv"
    bad.write_text("cust,order_date,amount\na,2024-01-01,1\n")
    assert main(["validate", "--data", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("relmkt: error: ") and "'customer_id' is missing" in err and "Traceback" not in err
    assert main(["validate", "--data", str(bad), "--customer-col", "cust"]) == 0


def test_validate_as_of(tmp_path, capsys):
    path = tmp_path / "tx.csv"
    path.write_text("customer_id,order_date,amount\na,2024-01-01,1\na,2024-03-01,1\n")
    assert main(["validate", "--data", str(path), "--as-of", "2024-01-31"]) == 2
    assert "after as_of 2024-01-31" in capsys.readouterr().err
    assert main(["validate", "--data", str(path), "--as-of", "2024-01-31", "--drop-after-as-of"]) == 0


def test_report_unknown_param_exits_2(tmp_path, capsys):
    code = main(["report", "--data", "sample", "--out", str(tmp_path), "-p", "no_such_param", "1",
                 "--no-progress"])
    assert code == 2 and "unknown notebook parameter(s): no_such_param" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_report_month_outside_data_exits_2(tmp_path, capsys):
    assert main(["report", "--data", "sample", "--out", str(tmp_path), "--month", "2019-01", "--no-progress"]) == 2
    assert "month 2019-01 is outside the data" in capsys.readouterr().err


def test_param_values_are_parsed_as_json_literals():
    args = build_parser().parse_args(["report", "--data", "x", "-p", "a", "12", "-p", "b", "text"])
    from relmkt_helpers.cli import _parse_value

    assert [(k, _parse_value(v)) for k, v in args.param] == [("a", 12), ("b", "text")]


def test_generate_sample_small(tmp_path, capsys):
    assert main(["generate-sample", "--customers", "300", "--seed", "7", "--out", str(tmp_path)]) == 0
    tx = pd.read_csv(tmp_path / config.SAMPLE_TRANSACTIONS.name)
    assert tx["customer_id"].nunique() == 300
    assert (tmp_path / config.SAMPLE_TRUTH.name).is_file()


def test_generate_sample_rejects_zero(tmp_path, capsys):
    assert main(["generate-sample", "--customers", "0", "--out", str(tmp_path)]) == 2
    assert "--customers must be at least 1" in capsys.readouterr().err


def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "relmkt"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "report" in result.stdout and "validate" in result.stdout and "generate-sample" in result.stdout


def test_report_from_requires_to(tmp_path, capsys):
    assert main(["report", "--data", "sample", "--out", str(tmp_path), "--from", "2025-01", "--no-progress"]) == 2
    assert "--from and --to go together" in capsys.readouterr().err


def test_report_month_and_from_are_exclusive(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["report", "--data", "sample", "--month", "2025-01", "--from", "2025-01", "--to", "2025-02"])
    assert "not allowed with argument" in capsys.readouterr().err
