"""Small array helpers shared by the analysis modules."""
from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["unique_sorted", "order_days", "order_amounts", "customer_codes", "factorize_ids"]

#: Recent factorizations of Arrow-backed id columns: id(ChunkedArray) -> (weakref, codes, uniques).
_FACTOR_CACHE: dict[int, dict[Any, Any]] = {}
_FACTOR_CACHE_SIZE = 4


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted unique values of a 1-d array, fast.

    numpy 2.4's bare ``np.unique(x)`` takes about 10 s on 10M int64 values (it
    goes through a hash-based path), while sorting and dropping repeats takes
    under 0.1 s; see ``benchmarks/results/rfm_summary.md``.

    Examples
    --------
    >>> unique_sorted(np.array([3, 1, 3, 2, 1])).tolist()
    [1, 2, 3]
    """
    s = np.sort(np.asarray(values).ravel())
    if s.size == 0:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def order_days(tx: "pd.DataFrame") -> np.ndarray:
    """The ``order_date`` column of a canonical frame as int64 days since 1970, checked.

    The analyses trust :func:`relmkt_helpers.load_transactions`, but a hand-built
    frame may have text dates or gaps: those raise one clear message here.

    Examples
    --------
    >>> import pandas as pd
    >>> order_days(pd.DataFrame({"order_date": pd.to_datetime(["1970-01-02"])})).tolist()
    [1]
    """
    from .errors import DataValidationError

    dates = tx["order_date"].to_numpy()
    if not np.issubdtype(dates.dtype, np.datetime64):
        raise DataValidationError(
            f"transactions: column 'order_date' has dtype {tx['order_date'].dtype}, not a tz-naive datetime64. "
            "Load the data with relmkt_helpers.load_transactions."
        )
    if np.isnat(dates).any():
        raise DataValidationError(
            "transactions: column 'order_date' has missing dates (NaT). Load the data with "
            "relmkt_helpers.load_transactions, which drops or reports them."
        )
    return dates.astype("datetime64[D]").view(np.int64)


def order_amounts(tx: "pd.DataFrame") -> np.ndarray:
    """The ``amount`` column as float64, checked to be finite.

    Examples
    --------
    >>> import pandas as pd
    >>> order_amounts(pd.DataFrame({"amount": [1, 2.5]})).tolist()
    [1.0, 2.5]
    """
    from .errors import DataValidationError

    amount = tx["amount"].to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(amount).all():
        raise DataValidationError(
            "transactions: column 'amount' has missing or infinite values. Load the data with "
            "relmkt_helpers.load_transactions, which drops or reports them."
        )
    return amount


def factorize_ids(values: "pd.Series", *, sort: bool = False) -> tuple[np.ndarray, "pd.Index"]:
    """``pd.factorize(values, sort=sort)``, remembered for Arrow-backed string columns.

    Hashing 10M string ids takes about 1.3 s and every analysis starts with it, often
    several times on the same frame (notebook 01 calls eight cohort functions on one
    ``tx``). Arrow arrays are immutable, so a column's underlying ``ChunkedArray``
    identifies its values: the unsorted factorization is kept for the last few
    arrays (dropped when the array is freed), and ``sort=True`` is derived from it
    by ranking the uniques. Other dtypes are factorized every time. The returned
    codes are read-only; copy them before changing them in place.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.Series(["b", "a", "b"], dtype="string[pyarrow]")
    >>> factorize_ids(s)[0].tolist(), factorize_ids(s, sort=True)[0].tolist()
    ([0, 1, 0], [1, 0, 1])
    >>> factorize_ids(s)[0] is factorize_ids(s)[0]
    True
    """
    import pandas as pd

    arrow = getattr(values.array, "__arrow_array__", None)
    chunked = arrow() if arrow is not None else None
    if chunked is None:
        return pd.factorize(values, sort=sort)
    key = id(chunked)
    hit = _FACTOR_CACHE.get(key)
    if hit is None or hit["ref"]() is not chunked:
        codes, uniques = pd.factorize(values, sort=False)
        codes.setflags(write=False)
        while len(_FACTOR_CACHE) >= _FACTOR_CACHE_SIZE:
            _FACTOR_CACHE.pop(next(iter(_FACTOR_CACHE)))
        ref = weakref.ref(chunked, lambda _, k=key: _FACTOR_CACHE.pop(k, None))
        hit = _FACTOR_CACHE[key] = {"ref": ref, False: (codes, uniques)}
    if sort not in hit:
        codes, uniques = hit[False]
        order = uniques.argsort()
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        out = np.where(codes < 0, codes, rank[np.maximum(codes, 0)])
        out.setflags(write=False)
        hit[True] = (out, uniques.take(order))
    return hit[sort]


def customer_codes(tx: "pd.DataFrame", *, sort: bool = True) -> tuple[np.ndarray, "pd.Index"]:
    """Integer codes of ``customer_id`` (one hash pass) and the ids they stand for, checked.

    Examples
    --------
    >>> import pandas as pd
    >>> codes, ids = customer_codes(pd.DataFrame({"customer_id": ["b", "a", "b"]}))
    >>> codes.tolist(), list(ids)
    ([1, 0, 1], ['a', 'b'])
    """
    import pandas as pd

    from .errors import DataValidationError

    codes, uniques = factorize_ids(tx["customer_id"], sort=sort)
    if len(codes) and codes.min() < 0:
        raise DataValidationError(
            "transactions: column 'customer_id' has missing values. Load the data with "
            "relmkt_helpers.load_transactions, which drops or reports them."
        )
    return codes, uniques
