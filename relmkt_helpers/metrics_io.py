"""How a notebook hands its headline numbers to the report runner.

The runner injects ``metrics_path`` into every notebook that declares it. The
notebook ends with ``save_metrics({...}, metrics_path)``; the runner merges the
files into ``metrics.json``. Run by hand (``metrics_path=""``), nothing is written.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

__all__ = ["save_metrics", "save_table", "to_jsonable"]


def to_jsonable(value: Any) -> Any:
    """Convert numpy/pandas scalars to plain JSON values; NaN and inf become ``None``.

    Floats are rounded to 10 significant digits, so that summation noise
    (``171770.50999999995``) does not reach reports and reruns compare equal.

    Examples
    --------
    >>> import numpy as np
    >>> to_jsonable({"a": np.float64(0.5), "b": float("nan"), "c": [np.int64(2)]})
    {'a': 0.5, 'b': None, 'c': [2]}
    """
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return float(f"{value:.10g}") if math.isfinite(value) else None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def save_metrics(metrics: Mapping[str, Any], path: str | Path | None) -> None:
    """Write a notebook's headline numbers as JSON to ``path`` (skip if ``path`` is empty), silently.

    Returns None on purpose: as the last line of a notebook cell it displays nothing, so
    a report page never ends with a raw dict. :func:`to_jsonable` shows what is written.

    Parameters
    ----------
    metrics : mapping
        Flat ``name -> number/str/None``. Floats are rounded to 6 significant digits
        so that reruns give byte-identical files.
    path : str or Path or None
        Destination; ``""`` or ``None`` writes nothing (interactive use).

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "m.json"
    >>> save_metrics({"mean_clv": 123.456789123}, p)  # displays nothing
    >>> json.loads(p.read_text())
    {'mean_clv': 123.457}
    >>> save_metrics({"mean_clv": 1.0}, "") is None
    True
    """
    clean = to_jsonable(dict(metrics))
    clean = {k: (float(f"{v:.6g}") if isinstance(v, float) else v) for k, v in clean.items()}
    if path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(clean, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def save_table(table: pd.DataFrame, output_dir: str | Path | None, name: str, *, index: bool | None = None,
               parquet: bool = True) -> Path | None:
    """Write a table as CSV, and as Parquet beside it, into the report folder (skip if ``output_dir`` is empty).

    The runner injects ``output_dir`` (the report folder being built); a notebook
    run by hand leaves it empty and nothing is written. The file is written by
    Arrow's CSV writer (about 10x faster than ``DataFrame.to_csv`` on the report's
    million-row lists): numbers in their shortest exact form (round them first
    for short files), text quoted, dates without a time of day as ``YYYY-MM-DD``,
    missing values as empty fields. The same table always gives the same bytes.

    Parameters
    ----------
    table : DataFrame
    output_dir : str, Path or None
        Destination folder; ``""``/``None`` writes nothing.
    name : str
        File name, e.g. ``"retention_priority.csv"``.
    index : bool, optional
        Write the index as the first column(s). Default: when it carries
        information (it has a name, or is not a plain ``0 .. n-1`` range).
    parquet : bool
        Also write ``<name>.parquet`` (same columns, typed; timestamps in microseconds, which
        Spark and every warehouse read): what a data team loads back into its lake.

    Returns
    -------
    Path or None
        The file written.

    Examples
    --------
    >>> import tempfile
    >>> import pandas as pd
    >>> save_table(pd.DataFrame({"a": [1]}), "", "x.csv") is None
    True
    >>> t = pd.DataFrame({"clv": [12.5, 3.0]}, index=pd.Index(["c1", "c2"], name="customer_id"))
    >>> print(save_table(t, tempfile.mkdtemp(), "clv.csv").read_text())
    "customer_id","clv"
    "c1",12.5
    "c2",3
    <BLANKLINE>
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not output_dir:
        return None
    if "/" in name or not name.endswith(".csv"):
        raise ValueError(f"name must be a plain file name ending in .csv, got {name!r}")
    path = Path(output_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if index is None:
        index = not (isinstance(table.index, pd.RangeIndex) and table.index.name is None
                     and table.index.start == 0 and table.index.step == 1)
    frame = table.reset_index() if index else table
    frame = frame.copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    for col in frame.columns:
        values = frame[col]
        if isinstance(values.dtype, pd.CategoricalDtype):
            frame[col] = values.astype(values.cat.categories.dtype)
        elif pd.api.types.is_datetime64_any_dtype(values) and (values.dropna() == values.dropna().dt.normalize()).all():
            frame[col] = values.dt.date
    try:
        arrow = pa.Table.from_pandas(frame, preserve_index=False)
        pacsv.write_csv(arrow, path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):  # exotic dtypes: pandas' writer
        arrow = None
        frame.to_csv(path, index=False, float_format="%.17g")
    if parquet and arrow is not None:
        import pyarrow.parquet as pq

        pq.write_table(arrow.replace_schema_metadata(None), path.with_suffix(".parquet"), coerce_timestamps="us",
                       allow_truncated_timestamps=True)
    return path
