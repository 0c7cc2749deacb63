"""relmkt_helpers._arrays.factorize_ids: a remembered factorization must never be a stale one."""
from __future__ import annotations

import gc

import numpy as np
import pandas as pd
import pytest

from relmkt_helpers import _arrays
from relmkt_helpers._arrays import factorize_ids


def ids(values):
    return pd.Series(values, dtype="string[pyarrow]")


@pytest.mark.parametrize("sort", [False, True])
def test_equals_pandas_factorize_including_missing_values(sort):
    rng = np.random.default_rng(0)
    values = [None if v == 7 else f"c{v:03d}" for v in rng.integers(0, 50, 2000)]
    s = ids(values)
    codes, uniques = factorize_ids(s, sort=sort)
    want_codes, want_uniques = pd.factorize(s, sort=sort)
    np.testing.assert_array_equal(codes, want_codes)
    assert list(uniques) == list(want_uniques)
    assert (codes == -1).sum() == sum(v is None for v in values)


def test_repeated_calls_reuse_the_work_and_codes_are_read_only():
    s = ids(["b", "a", "b"])
    first = factorize_ids(s)[0]
    assert factorize_ids(s)[0] is first
    assert factorize_ids(s, sort=True)[0] is factorize_ids(s, sort=True)[0]
    with pytest.raises(ValueError):
        first[0] = 5


def test_a_changed_column_is_factorized_again():
    tx = pd.DataFrame({"customer_id": ids(["b", "a", "b"])})
    before = factorize_ids(tx["customer_id"])
    tx.loc[0, "customer_id"] = "z"
    after = factorize_ids(tx["customer_id"])
    assert list(after[1]) == ["z", "a", "b"] and list(before[1]) == ["b", "a"]
    assert factorize_ids(tx["customer_id"].iloc[1:])[0].tolist() == [0, 1]  # a slice is new data


def test_numpy_backed_columns_are_not_remembered():
    s = pd.Series(np.array(["b", "a", "b"], dtype=object), dtype=object)
    assert factorize_ids(s)[0] is not factorize_ids(s)[0]
    assert factorize_ids(s, sort=True)[0].tolist() == [1, 0, 1]


def test_cache_is_bounded_and_forgets_freed_columns():
    _arrays._FACTOR_CACHE.clear()
    keep = [ids([f"x{i}", "y"]) for i in range(_arrays._FACTOR_CACHE_SIZE + 3)]
    for s in keep:
        factorize_ids(s)
    assert len(_arrays._FACTOR_CACHE) == _arrays._FACTOR_CACHE_SIZE
    del keep, s
    gc.collect()
    assert len(_arrays._FACTOR_CACHE) == 0
