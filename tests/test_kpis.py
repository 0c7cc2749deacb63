"""Monthly KPIs against hand-computed values."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from relmkt_helpers import ParameterError
from relmkt_helpers.kpis import last_complete_month, load_month, month_metrics, monthly_summary


def frame(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "order_date", "amount"])
    df["order_date"] = pd.to_datetime(df["order_date"])
    df["order_id"] = [f"o{i}" for i in range(len(df))]
    return df


# a: Jan, Feb (twice), Apr      b: Jan only      c: Feb, Mar      d: Apr (new)
TX = frame([
    ("a", "2024-01-05", 10.0), ("b", "2024-01-31", 20.0),
    ("a", "2024-02-01", 5.0), ("a", "2024-02-29", 5.0), ("c", "2024-02-10", 8.0),
    ("c", "2024-03-03", 2.0),
    ("a", "2024-04-01", 1.0), ("d", "2024-04-30", 4.0),
])


def test_monthly_summary_hand_computed():
    s = monthly_summary(TX)
    assert [str(p) for p in s.index] == ["2024-01", "2024-02", "2024-03", "2024-04"]
    assert s["orders"].tolist() == [2, 3, 1, 2]
    assert s["revenue"].tolist() == [30.0, 18.0, 2.0, 5.0]
    assert s["customers_active"].tolist() == [2, 2, 1, 2]
    assert s["customers_new"].tolist() == [2, 1, 0, 1]
    # Feb: a came back from Jan; Mar: c from Feb; Apr: a is back after skipping March (reactivated)
    assert s["customers_returning"].tolist() == [0, 1, 1, 0]
    assert s["customers_reactivated"].tolist() == [0, 0, 0, 1]
    assert s["complete"].all()  # the data ends on 30 April
    # Feb: of {a, b} active in Jan, a came back -> 1/2. Mar: of {a, c}, c -> 1/2. Apr: of {c}, none -> 0.
    assert math.isnan(s["retention_rate_prev_month"].iloc[0])
    assert s["retention_rate_prev_month"].iloc[1:].tolist() == [0.5, 0.5, 0.0]
    # repeaters up to month end / acquired up to month end:
    # Jan 0/2; Feb a (3 orders) -> 1/3; Mar a, c -> 2/3; Apr a, c of 4 -> 2/4
    assert s["repeat_purchase_rate"].tolist() == [0.0, 1 / 3, 2 / 3, 0.5]


def test_partial_last_month_has_no_rates():
    s = monthly_summary(TX, as_of="2024-04-15")
    assert not s.loc["2024-04", "complete"] and s.loc["2024-04", "customers_active"] == 1
    assert s.loc["2024-04", ["retention_rate_prev_month", "repeat_purchase_rate"]].isna().all()


def test_gap_month_has_zero_activity():
    s = monthly_summary(frame([("a", "2024-01-05", 1.0), ("a", "2024-03-05", 1.0)]))
    assert s.loc["2024-02", "customers_active"] == 0
    assert s.loc["2024-03", "retention_rate_prev_month"] != s.loc["2024-03", "retention_rate_prev_month"]  # NaN


def test_month_metrics_and_changes():
    m = month_metrics(TX, "2024-04")
    assert (m["customers_active"], m["customers_new"], m["orders"], m["revenue"]) == (2, 1, 2, 5.0)
    assert m["previous"]["month"] == "2024-03"
    assert m["change"]["customers_active"] == pytest.approx(1.0)  # 1 -> 2 customers: +100%
    assert m["change"]["retention_rate_prev_month"] == pytest.approx(-0.5)  # 50% -> 0%: -50 points
    assert m["change"]["revenue"] == pytest.approx(1.5)


def test_first_month_has_no_previous():
    m = month_metrics(TX, "2024-01")
    assert m["previous"] is None and set(m["change"].values()) == {None}


def test_month_outside_data():
    with pytest.raises(ParameterError, match=r"month 2025-01 is outside the data \(2024-01 .. 2024-04\)"):
        month_metrics(TX, "2025-01")


@pytest.mark.parametrize("last,expected", [("2024-02-29", "2024-02"), ("2024-02-28", "2024-01"),
                                           ("2024-12-31", "2024-12"), ("2025-01-01", "2024-12")])
def test_last_complete_month(last, expected):
    assert str(last_complete_month(last)) == expected


def test_load_month_cuts_at_month_end_and_counts_the_rest(tmp_path):
    path = tmp_path / "tx.csv"
    TX.drop(columns="order_id").to_csv(path, index=False)
    tx, ledger, month = load_month(path, "2024-02")
    assert str(month) == "2024-02" and tx["order_date"].max() == pd.Timestamp("2024-02-29")
    assert ledger.dropped == {"dated after as_of 2024-02-29": 3}
    tx, ledger, month = load_month(path)  # data ends 30 April: April is complete
    assert str(month) == "2024-04" and ledger.dropped == {}


def test_load_month_rejects_bad_months(tmp_path):
    path = tmp_path / "tx.csv"
    TX.drop(columns="order_id").to_csv(path, index=False)
    with pytest.raises(ParameterError, match=r"2023-12 is outside the data, which covers 2024-01 .. 2024-04"):
        load_month(path, "2023-12")
    with pytest.raises(ParameterError, match=r"2024-07 is outside the data"):
        load_month(path, "2024-07")
    with pytest.raises(ParameterError, match=r"'April' is not of the form YYYY-MM"):
        load_month(path, "April")


def test_customer_mix_bars_stack_without_overlap():
    import matplotlib

    matplotlib.use("Agg")
    from relmkt_helpers.plots.overview import plot_customer_mix

    s = monthly_summary(TX)
    ax = plot_customer_mix(s, months=None)
    n = len(s)
    returning, reactivated, new = ax.patches[:n], ax.patches[n:2 * n], ax.patches[2 * n:]
    for i in range(n):  # each segment starts where the one below ends
        assert reactivated[i].get_y() == pytest.approx(returning[i].get_height())
        assert new[i].get_y() == pytest.approx(returning[i].get_height() + reactivated[i].get_height())
        assert new[i].get_y() + new[i].get_height() == pytest.approx(s["customers_active"].iloc[i])
