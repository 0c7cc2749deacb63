"""Diagnostic plots for repeat-purchase (CLV) models: does the fitted model describe the data?

Five checks, after Fader, Hardie & Lee (2005), "Counting your customers" the easy way,
*Marketing Science* 24(2), 275-284 (FHL 2005), Figures 1-4:

* customers by number of repeat purchases in calibration, actual vs expected:
  :func:`repeat_purchase_distribution`, :func:`plot_repeat_purchase_distribution` (Figure 1);
* repeat transactions per period over calibration and holdout, actual vs expected:
  :func:`tracking_table`, :func:`plot_cumulative_tracking` (Figure 2),
  :func:`plot_incremental_tracking` (Figure 3);
* mean holdout purchases by calibration frequency, actual vs conditional expectation:
  :func:`calibration_holdout_table`, :func:`plot_calibration_holdout` (Figure 4);
* P(alive) over (frequency, recency): :func:`probability_alive_matrix`,
  :func:`plot_probability_alive_matrix`;
* expected purchases in the next ``t`` over (frequency, recency):
  :func:`expected_purchases_matrix`, :func:`plot_frequency_recency_matrix`.

The ``*_table`` and ``*_matrix`` functions are pure (data in, DataFrame out); the plots
draw with ``ax.*`` only and return the Axes.

``model`` is either a fitted :class:`relmkt_helpers.clv.models.RepeatPurchaseModel`
(its ``fitter_`` is used) or a fitted lifetimes ``BetaGeoFitter``,
``ParetoNBDFitter`` or ``ModifiedBetaGeoFitter``. This module never imports lifetimes:
it only calls the fitted object's methods.

Conventions a reader could misread:

* **Time unit.** ``frequency``, ``recency``, ``T``, ``t`` and ``duration_holdout`` are in
  the model's time unit, ``unit_days`` days (7: weeks, as in FHL 2005). A
  ``RepeatPurchaseModel`` carries it as ``unit_days_``; for a bare lifetimes fitter pass
  ``unit_days=`` (default 7). It only changes labels, except in :func:`tracking_table`.
* **Repeat purchase.** ``frequency`` counts *repeat* purchase days: the first purchase
  is not counted and several orders of one customer on one day count once (the
  convention of lifetimes' ``summary_data_from_transaction_data(freq="D")``).
  :func:`tracking_table` counts the same way.
* **Days are points.** An order dated day ``d`` happened at ``d``; a customer first seen
  on day ``d0`` has age ``(d - d0) / unit_days`` on day ``d`` (so ``T`` at the
  calibration end is ``(calibration_end - d0) / unit_days``, as in lifetimes).
"""
from __future__ import annotations

from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from ..clv.prep import daily_purchases
from ..errors import DataValidationError, ParameterError
from ..io import resolve_column
from ._common import PALETTE, get_ax

__all__ = [
    "repeat_purchase_distribution",
    "calibration_holdout_table",
    "tracking_table",
    "probability_alive_matrix",
    "expected_purchases_matrix",
    "plot_repeat_purchase_distribution",
    "plot_calibration_holdout",
    "plot_cumulative_tracking",
    "plot_incremental_tracking",
    "plot_probability_alive_matrix",
    "plot_frequency_recency_matrix",
]

_MODEL_NAMES = {
    "BetaGeoFitter": "BG/NBD",
    "ParetoNBDFitter": "Pareto/NBD",
    "ModifiedBetaGeoFitter": "MBG/NBD",
}
_WRAPPER_NAMES = {"bgnbd": "BG/NBD", "pnbd": "Pareto/NBD", "mbgnbd": "MBG/NBD"}
_DEFAULT_UNIT_DAYS = 7.0


# ----------------------------------------------------------------------------
# model adapter
# ----------------------------------------------------------------------------

class _Model:
    """One interface over a RepeatPurchaseModel and a bare lifetimes fitter.

    A fitted lifetimes fitter (the model itself, or the wrapper's ``fitter_``) is called
    through lifetimes' methods; a wrapper without one (``RepeatPurchaseModel.from_params``)
    through its own ``expected_purchases``, ``conditional_expected_purchases``,
    ``probability_alive`` and ``probability_of_purchases``.
    """

    _WRAPPER = {"expected": "expected_purchases", "conditional": "conditional_expected_purchases",
                "alive": "probability_alive", "pmf": "probability_of_purchases"}
    _LIFETIMES = {"expected": "expected_number_of_purchases_up_to_time",
                  "conditional": "conditional_expected_number_of_purchases_up_to_time",
                  "alive": "conditional_probability_alive"}

    def __init__(self, model: Any, where: str, need: str) -> None:
        self.where = where
        fitter = getattr(model, "fitter_", None) if hasattr(model, "fitter_") else model
        self.fitter = fitter if self._is_fitted_lifetimes(fitter) else None
        self.wrapper = model if self.fitter is None and callable(getattr(model, self._WRAPPER[need], None)) else None
        if self.fitter is None and (self.wrapper is None or getattr(model, "params_", None) is None):
            what = type(model).__name__
            raise ParameterError(
                f"{where}: model must be a fitted RepeatPurchaseModel or a fitted lifetimes BetaGeoFitter, "
                f"ParetoNBDFitter or ModifiedBetaGeoFitter; got {what} without fitted parameters. "
                "Call model.fit(summary) first."
            )
        if (self.fitter is not None and need != "pmf"
                and not callable(getattr(self.fitter, self._LIFETIMES[need], None))):
            raise ParameterError(f"{where}: {type(self.fitter).__name__} has no {self._LIFETIMES[need]}(); "
                                 "use a BG/NBD, Pareto/NBD or MBG/NBD model.")
        if self.fitter is not None and need == "pmf" and not (
                callable(getattr(self.fitter, "probability_of_n_purchases_up_to_time", None))
                or callable(getattr(self.fitter, "conditional_probability_of_n_purchases_up_to_time", None))):
            raise ParameterError(f"{where}: {type(self.fitter).__name__} has no "
                                 "probability_of_n_purchases_up_to_time(); use a BG/NBD, Pareto/NBD or MBG/NBD model.")
        kind = getattr(model, "model", None)
        self.name = (_MODEL_NAMES.get(type(self.fitter).__name__, type(self.fitter).__name__) if self.fitter is not None
                     else _WRAPPER_NAMES.get(kind, str(kind) if kind else type(model).__name__))

    @staticmethod
    def _is_fitted_lifetimes(obj: Any) -> bool:
        return (obj is not None and getattr(obj, "params_", None) is not None
                and callable(getattr(obj, "expected_number_of_purchases_up_to_time", None)))

    def expected(self, t: np.ndarray) -> np.ndarray:
        """E[X(t)] of a new customer."""
        f = self.fitter.expected_number_of_purchases_up_to_time if self.fitter is not None \
            else self.wrapper.expected_purchases
        return np.asarray(f(t), dtype="float64").reshape(np.shape(t))

    def conditional(self, t: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        """E[X(T, T + t) | x, t_x, T]."""
        f = self.fitter.conditional_expected_number_of_purchases_up_to_time if self.fitter is not None \
            else self.wrapper.conditional_expected_purchases
        return np.asarray(f(t, x, tx, T), dtype="float64").reshape(np.shape(x))

    def alive(self, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
        """P(alive | x, t_x, T)."""
        f = self.fitter.conditional_probability_alive if self.fitter is not None else self.wrapper.probability_alive
        return np.asarray(f(x, tx, T), dtype="float64").reshape(np.shape(x))

    def pmf(self, t: float, max_frequency: int) -> np.ndarray:
        """``P(X(t) = n)`` for ``n < max_frequency``, then the tail ``P(X(t) >= max_frequency)``."""
        out = np.zeros(max_frequency + 1)
        if t <= 0:
            out[0] = 1.0  # nobody repeats in no time (lifetimes' Pareto/NBD pmf returns 0 at t=0)
            return out
        f = self.fitter
        if f is None:
            probs = self.wrapper.probability_of_purchases(t, np.arange(max_frequency))
        elif callable(getattr(f, "probability_of_n_purchases_up_to_time", None)):  # scalar t and n only
            probs = [f.probability_of_n_purchases_up_to_time(t, n) for n in range(max_frequency)]
        else:
            # Pareto/NBD in lifetimes has only the conditional pmf (Fader, Hardie & Shang's note 028,
            # eq. 16). Conditioning on x = t_x = T = 0 (no history yet) gives the unconditional pmf.
            probs = [f.conditional_probability_of_n_purchases_up_to_time(n, t, 0.0, 0.0, 0.0)
                     for n in range(max_frequency)]
        out[:max_frequency] = np.asarray(probs, dtype="float64").ravel()
        out[max_frequency] = max(0.0, 1.0 - out[:max_frequency].sum())
        return out

    def fitted_data(self) -> pd.DataFrame | None:
        """The (frequency, T) rows the lifetimes fitter was fitted on, one per customer, if it kept them."""
        data = getattr(self.fitter, "data", None)
        if not isinstance(data, pd.DataFrame) or not {"frequency", "T"} <= set(data.columns):
            return None
        if "weights" in data.columns:  # fitted on unique rows: expand to customers
            reps = data["weights"].to_numpy(dtype="float64").round().astype(np.int64)
            data = data.loc[data.index.repeat(reps)]
        return data[["frequency", "T"]].reset_index(drop=True)


def _unit_days(model: Any, unit_days: float | None, where: str, data: Any = None) -> float:
    """The model's time unit in days: ``unit_days``, else ``model.unit_days_``, else the data's
    ``attrs["unit_days"]`` (set by :func:`relmkt_helpers.clv.prep.rfm_summary`), else 7.
    Two of them that disagree raise: predictions would be on the wrong time scale."""
    sources = []
    if unit_days is not None:
        try:
            value = float(unit_days)
        except (TypeError, ValueError):
            value = float("nan")
        if not np.isfinite(value) or value <= 0:
            raise ParameterError(f"{where}: unit_days must be a positive number of days (7 for weeks); "
                                 f"got {unit_days!r}.")
        sources.append((value, f"unit_days={value:g}"))
    own = getattr(model, "unit_days_", None)
    if own is not None:
        sources.append((float(own), f"the model's unit_days_ ({float(own):g} days)"))
    attrs = getattr(data, "attrs", None) or {}
    if attrs.get("unit_days") is not None:
        table_unit = float(attrs["unit_days"])
        sources.append((table_unit, f"the table's attrs['unit_days'] ({table_unit:g} days)"))
    for value, label in sources[1:]:
        if not np.isclose(value, sources[0][0]):
            raise ParameterError(
                f"{where}: {sources[0][1]} contradicts {label}: the model and the data must use one time unit. "
                "Rebuild the summary with the freq/freq_multiplier the model was fitted with, or leave unit_days out."
            )
    return sources[0][0] if sources else _DEFAULT_UNIT_DAYS


def _unit_word(unit_days: float) -> str:
    """'weeks', 'days', or 'units of 30.4 days'."""
    return {1.0: "days", 7.0: "weeks"}.get(float(unit_days), f"units of {unit_days:g} days")


def _period_word(period_days: int) -> str:
    return {1: "day", 7: "week"}.get(period_days, f"{period_days}-day period")


# ----------------------------------------------------------------------------
# validation of summaries (user-built tables, so checked here)
# ----------------------------------------------------------------------------

def _numeric_columns(df: Any, where: str, what: str, cols: dict[str, tuple[str, str]],
                     whole: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Resolve ``cols`` (role -> (column, parameter)) and return them as float arrays, checked."""
    if not isinstance(df, pd.DataFrame):
        raise ParameterError(f"{where}: {what} must be a pandas DataFrame, got {type(df).__name__}.")
    if len(df) == 0:
        raise DataValidationError(f"{where}: the {what} table has no rows; it needs one row per customer.")
    out = {}
    for role, (name, param) in cols.items():
        col = resolve_column(df, name, role=role, source=f"{where}: {what}", param=param)
        values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isfinite(values) | (values < 0)
        if role in whole:
            bad |= np.isfinite(values) & (values != np.round(values))
        if bad.any():
            shown = ", ".join(f"{k!r}: {v!r}" for k, v in df[col][bad].head(5).items())
            kind = "non-negative whole numbers" if role in whole else "non-negative numbers"
            raise DataValidationError(
                f"{where}: column {col!r} of {what} needs {kind}; {int(bad.sum()):,} of {len(df):,} rows "
                f"do not ({shown}). Rebuild the summary from the transactions."
            )
        out[role] = values
    if "recency" in out and "T" in out and (out["recency"] > out["T"] + 1e-9).any():
        n = int((out["recency"] > out["T"] + 1e-9).sum())
        raise DataValidationError(
            f"{where}: {n:,} rows of {what} have recency > T (a last purchase after the end of the "
            f"period). Check that {cols['recency'][0]!r} and {cols['T'][0]!r} are not swapped and "
            "are in the same time unit."
        )
    return out


def _check_max_frequency(value: Any, where: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ParameterError(f"{where}: max_frequency must be a whole number >= 1 (the tail bin "
                             f"'max_frequency+'); got {value!r}.")
    return int(value)


def _bin_labels(max_frequency: int) -> pd.Index:
    return pd.Index([str(i) for i in range(max_frequency)] + [f"{max_frequency}+"], name="repeat purchases")


# ----------------------------------------------------------------------------
# 1. repeat purchases per customer in calibration
# ----------------------------------------------------------------------------

def repeat_purchase_distribution(model: Any, summary: pd.DataFrame, *, max_frequency: int = 7,
                                 frequency_col: str = "frequency", T_col: str = "T") -> pd.DataFrame:
    """Customers with 0, 1, ..., ``max_frequency``+ repeat purchases: actual vs model.

    The expected count of bin ``n`` is ``sum_i P(X(T_i) = n)``: each customer is
    weighed with their own age ``T_i`` (customers joined on different days), as in
    FHL 2005, Figure 1. ``P`` is evaluated once per distinct ``T`` and weighted by
    the number of customers of that age.

    Parameters
    ----------
    model : RepeatPurchaseModel or lifetimes fitter
        Fitted on ``summary``.
    summary : DataFrame
        One row per customer, calibration period: ``frequency`` (repeat purchases)
        and ``T`` (age at the calibration end, in the model's time unit).
    max_frequency : int, default 7
        The last bin holds ``max_frequency`` or more repeat purchases.
    frequency_col, T_col : str
        Column names in ``summary`` (``"frequency_cal"``, ``"T_cal"`` for a
        calibration/holdout frame).

    Returns
    -------
    DataFrame
        Index ``"0"``, ``"1"``, ..., ``"7+"`` (name ``repeat purchases``); columns
        ``actual`` (customers, int) and ``expected`` (float). Both sum to the number of
        customers.

    Raises
    ------
    ParameterError
        Unfitted model, bad ``max_frequency``.
    DataValidationError
        Missing column, negative or fractional frequency, negative ``T``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()  # with the FHL 2005 CDNOW estimates (p. 279), in weeks
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> summary = pd.DataFrame({"frequency": [0, 0, 1, 9], "T": [38.9, 30.0, 38.9, 38.9]})
    >>> dist = repeat_purchase_distribution(bg, summary, max_frequency=3)
    >>> dist["actual"].tolist(), round(float(dist["expected"].sum()), 6)
    ([2, 1, 0, 1], 4.0)
    """
    where = "repeat_purchase_distribution"
    max_frequency = _check_max_frequency(max_frequency, where)
    m = _Model(model, where, "pmf")
    _unit_days(model, None, where, summary)  # the summary and the model must share a time unit
    cols = _numeric_columns(summary, where, "summary", {
        "frequency": (frequency_col, "frequency_col"), "T": (T_col, "T_col")}, whole=("frequency",))
    freq = np.minimum(cols["frequency"].astype(np.int64), max_frequency)
    actual = np.bincount(freq, minlength=max_frequency + 1)
    ages, counts = np.unique(cols["T"], return_counts=True)
    expected = np.zeros(max_frequency + 1)
    for t, k in zip(ages, counts):
        expected += k * m.pmf(float(t), max_frequency)
    out = pd.DataFrame({"actual": actual.astype("int64"), "expected": expected}, index=_bin_labels(max_frequency))
    out.attrs.update(model=m.name, max_T=float(ages.max()))
    return out


def plot_repeat_purchase_distribution(model: Any, summary: pd.DataFrame, *, max_frequency: int = 7,
                                      frequency_col: str = "frequency", T_col: str = "T",
                                      unit_days: float | None = None, ax: Axes | None = None,
                                      **kwargs: Any) -> Axes:
    """Grouped bars: customers by number of repeat purchases in calibration, actual vs model.

    FHL 2005, Figure 1. The table behind it is :func:`repeat_purchase_distribution`.

    Parameters
    ----------
    model, summary, max_frequency, frequency_col, T_col
        As in :func:`repeat_purchase_distribution`.
    unit_days : float, optional
        The model's time unit in days, for the title (default ``model.unit_days_``, else 7).
    ax : Axes, optional
        Where to draw; a new figure if omitted.
    **kwargs
        Passed to both ``ax.bar`` calls (e.g. ``alpha``, ``edgecolor``).

    Returns
    -------
    Axes
        The first ``max_frequency + 1`` patches are the actual bars, the next the
        expected bars.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> summary = pd.DataFrame({"frequency": [0, 0, 1, 9], "T": [38.9, 30.0, 38.9, 38.9]})
    >>> ax = plot_repeat_purchase_distribution(bg, summary, max_frequency=3)
    >>> [float(p.get_height()) for p in ax.patches[:4]]
    [2.0, 1.0, 0.0, 1.0]
    """
    table = repeat_purchase_distribution(model, summary, max_frequency=max_frequency,
                                         frequency_col=frequency_col, T_col=T_col)
    unit = _unit_word(_unit_days(model, unit_days, "plot_repeat_purchase_distribution", summary))
    ax = get_ax(ax)
    x = np.arange(len(table))
    width = 0.4
    ax.bar(x - width / 2, table["actual"].to_numpy(dtype=float), width, color=PALETTE[0], label="actual", **kwargs)
    ax.bar(x + width / 2, table["expected"].to_numpy(), width, color=PALETTE[1],
           label=f"expected ({table.attrs['model']})", **kwargs)
    ax.set_xticks(x)
    ax.set_xticklabels(table.index.tolist())
    ax.set_xlabel("repeat purchases in the calibration period (first purchase not counted)")
    ax.set_ylabel("customers")
    ax.set_title(f"Customers by repeat purchases in calibration (up to {table.attrs['max_T']:.1f} {unit}): "
                 f"actual vs {table.attrs['model']}")
    ax.legend(frameon=False)
    return ax


# ----------------------------------------------------------------------------
# 2. holdout purchases conditional on calibration frequency
# ----------------------------------------------------------------------------

def calibration_holdout_table(model: Any, calibration_holdout: pd.DataFrame, *, max_frequency: int = 6,
                              frequency_col: str = "frequency_cal", recency_col: str = "recency_cal",
                              T_col: str = "T_cal", holdout_col: str = "frequency_holdout",
                              duration_col: str = "duration_holdout") -> pd.DataFrame:
    """Mean holdout purchases per calibration frequency: actual vs the model's conditional expectation.

    For each customer the model predicts ``E[X(duration) | frequency, recency, T]``
    (lifetimes' ``conditional_expected_number_of_purchases_up_to_time``); customers are
    grouped by calibration frequency (``max_frequency`` or more in the last group) and
    both are averaged. FHL 2005, Figure 4.

    Parameters
    ----------
    model : RepeatPurchaseModel or lifetimes fitter
        Fitted on the calibration columns.
    calibration_holdout : DataFrame
        One row per customer, lifetimes' layout: ``frequency_cal``, ``recency_cal``,
        ``T_cal`` (calibration, model time unit), ``frequency_holdout`` (repeat purchase
        days in the holdout) and ``duration_holdout`` (holdout length, model time unit).
    max_frequency : int, default 6
        The last group holds customers with ``max_frequency`` or more calibration repeats.
    frequency_col, recency_col, T_col, holdout_col, duration_col : str
        Column names.

    Returns
    -------
    DataFrame
        Index ``"0"`` .. ``"6+"`` (name ``repeat purchases``); columns ``customers``,
        ``actual`` and ``expected`` (mean holdout repeat purchases per customer; NaN
        for an empty group).

    Examples
    --------
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ch = pd.DataFrame({"frequency_cal": [0, 2, 2], "recency_cal": [0.0, 30.43, 10.0],
    ...     "T_cal": [38.86] * 3, "frequency_holdout": [0, 3, 1], "duration_holdout": [39.0] * 3})
    >>> table = calibration_holdout_table(bg, ch, max_frequency=2)
    >>> table["customers"].tolist(), table["actual"].tolist()
    ([1, 0, 2], [0.0, nan, 2.0])
    """
    where = "calibration_holdout_table"
    max_frequency = _check_max_frequency(max_frequency, where)
    m = _Model(model, where, "conditional")
    _unit_days(model, None, where, calibration_holdout)  # the table and the model must share a time unit
    c = _numeric_columns(calibration_holdout, where, "calibration_holdout", {
        "frequency": (frequency_col, "frequency_col"), "recency": (recency_col, "recency_col"),
        "T": (T_col, "T_col"), "holdout frequency": (holdout_col, "holdout_col"),
        "holdout duration": (duration_col, "duration_col")}, whole=("frequency", "holdout frequency"))
    predicted = m.conditional(c["holdout duration"], c["frequency"], c["recency"], c["T"])
    group = np.minimum(c["frequency"].astype(np.int64), max_frequency)
    n = np.bincount(group, minlength=max_frequency + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        actual = np.bincount(group, weights=c["holdout frequency"], minlength=max_frequency + 1) / n
        expected = np.bincount(group, weights=predicted, minlength=max_frequency + 1) / n
    out = pd.DataFrame({"customers": n.astype("int64"), "actual": actual, "expected": expected},
                       index=_bin_labels(max_frequency))
    durations = np.unique(c["holdout duration"])
    out.attrs.update(model=m.name, duration=float(durations[0]) if len(durations) == 1 else None)
    return out


def plot_calibration_holdout(model: Any, calibration_holdout: pd.DataFrame, *, max_frequency: int = 6,
                             frequency_col: str = "frequency_cal", recency_col: str = "recency_cal",
                             T_col: str = "T_cal", holdout_col: str = "frequency_holdout",
                             duration_col: str = "duration_holdout", unit_days: float | None = None,
                             ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Lines: mean holdout purchases by calibration frequency, actual vs conditional expectation.

    FHL 2005, Figure 4. The table behind it is :func:`calibration_holdout_table`.

    Parameters
    ----------
    model, calibration_holdout, max_frequency, frequency_col, recency_col, T_col, holdout_col, duration_col
        As in :func:`calibration_holdout_table`.
    unit_days : float, optional
        The model's time unit in days, for the title (default ``model.unit_days_``, else 7).
    ax : Axes, optional
    **kwargs
        Passed to both ``ax.plot`` calls.

    Returns
    -------
    Axes
        Line 0 is actual, line 1 expected.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ch = pd.DataFrame({"frequency_cal": [0, 2, 2], "recency_cal": [0.0, 30.43, 10.0],
    ...     "T_cal": [38.86] * 3, "frequency_holdout": [0, 3, 1], "duration_holdout": [39.0] * 3})
    >>> ax = plot_calibration_holdout(bg, ch, max_frequency=2)
    >>> ax.lines[0].get_ydata().tolist()
    [0.0, nan, 2.0]
    """
    table = calibration_holdout_table(model, calibration_holdout, max_frequency=max_frequency,
                                      frequency_col=frequency_col, recency_col=recency_col, T_col=T_col,
                                      holdout_col=holdout_col, duration_col=duration_col)
    unit = _unit_word(_unit_days(model, unit_days, "plot_calibration_holdout", calibration_holdout))
    ax = get_ax(ax)
    x = np.arange(len(table))
    ax.plot(x, table["actual"].to_numpy(), marker="o", color=PALETTE[0], label="actual", **kwargs)
    ax.plot(x, table["expected"].to_numpy(), marker="s", linestyle="--", color=PALETTE[1],
            label=f"expected ({table.attrs['model']})", **kwargs)
    ax.set_xticks(x)
    ax.set_xticklabels(table.index.tolist())
    ax.set_xlabel("repeat purchases in the calibration period")
    span = f"{table.attrs['duration']:g} {unit}" if table.attrs["duration"] is not None else unit
    ax.set_ylabel(f"mean repeat purchases in the holdout ({span})")
    ax.set_title(f"Holdout purchases ({span}) by calibration frequency: actual vs {table.attrs['model']}")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    return ax


# ----------------------------------------------------------------------------
# 3. tracking repeat transactions over calibration and holdout
# ----------------------------------------------------------------------------

def _day(value: Any, name: str, where: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise ParameterError(f"{where}: {name} must be a date such as '1997-09-30'; got {value!r}.")
    if ts.tzinfo is not None:
        raise ParameterError(f"{where}: {name} must be a calendar day without a time zone; got {value!r}.")
    return ts.normalize()


def tracking_table(tx: pd.DataFrame, model: Any, *, calibration_end: Any, observation_end: Any,
                   unit_days: float | None = None, period_days: int = 7, engine: str = "auto") -> pd.DataFrame:
    """Repeat transactions per period across the customer base: actual vs the model.

    Every customer first seen on day ``d0_i`` is expected to make
    ``E[X((d - d0_i) / unit_days)]`` repeat purchases by day ``d`` (the model's
    population-level expectation, ``expected_number_of_purchases_up_to_time``), so
    the expected cumulative total on day ``d`` is the sum over customers first seen by
    ``d``. This is FHL 2005, Figure 2 (weekly cumulative repeat transactions; Figure 3
    is the incremental version). Customers are grouped by first-purchase day, so the
    cost is one convolution of daily arrays, not a loop over customers.

    Customers first seen after ``calibration_end`` are included (their first order is
    not a repeat; their later orders are) and so is their expectation: the holdout
    checks the model's *repeat* behaviour, given the acquisitions that happened.

    Parameters
    ----------
    tx : DataFrame
        The canonical transaction frame (:func:`relmkt_helpers.io.load_transactions`).
        Orders after ``observation_end`` are ignored. Time starts on the first order date.
    model : RepeatPurchaseModel or lifetimes fitter
        Fitted on the calibration period.
    calibration_end, observation_end : date-like
        Last day (inclusive) of the calibration period and of the data used.
    unit_days : float, optional
        The model's time unit in days. Default: ``model.unit_days_``; for a bare
        lifetimes fitter, 7 (weeks, as in FHL 2005). Passing a value that contradicts
        ``model.unit_days_`` raises.
    period_days : int, default 7
        Length of a reporting period. Periods are aligned so that one ends exactly on
        ``calibration_end``; the first and the last period may be shorter (see ``days``).
    engine : {"auto", "pandas", "duckdb"}
        Where the per-order counts run (:func:`relmkt_helpers.clv.prep.daily_purchases`).

    Returns
    -------
    DataFrame
        Index ``period`` (1, 2, ...); columns ``period_start``, ``period_end``
        (inclusive days), ``days``, ``in_calibration`` (period ends on or before
        ``calibration_end``), ``new_customers``, ``actual`` and ``expected`` (repeat
        transactions in the period), ``actual_cumulative`` and ``expected_cumulative``
        (from the start to ``period_end``). ``attrs`` holds ``model``, ``unit_days``,
        ``period_days``, ``calibration_end`` and ``observation_end``.

    Raises
    ------
    ParameterError
        Dates not parseable or out of order, ``period_days`` not a positive whole
        number, unfitted model, ``unit_days`` contradicting the model.
    DataValidationError
        No orders on or before ``observation_end``.

    Examples
    --------
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> tx = pd.DataFrame({"customer_id": pd.array(["a", "a", "a", "b"], dtype="string"),
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-10", "2024-01-03"]),
    ...     "amount": [5.0, 1.0, 7.0, 3.0]})
    >>> t = tracking_table(tx, bg, calibration_end="2024-01-07", observation_end="2024-01-14")
    >>> t[["days", "in_calibration", "new_customers", "actual", "actual_cumulative"]]  # doctest: +NORMALIZE_WHITESPACE
            days  in_calibration  new_customers  actual  actual_cumulative
    period
    1          7            True              2       0                  0
    2          7           False              0       1                  1
    """
    where = "tracking_table"
    m = _Model(model, where, "expected")
    u = _unit_days(model, unit_days, where)
    if (isinstance(period_days, (bool, np.bool_)) or not isinstance(period_days, (int, np.integer))
            or period_days < 1):
        raise ParameterError(f"{where}: period_days must be a whole number of days >= 1 (7 for weeks); "
                             f"got {period_days!r}.")
    p = int(period_days)
    cal_end = _day(calibration_end, "calibration_end", where)
    obs_end = _day(observation_end, "observation_end", where)
    if cal_end > obs_end:
        raise ParameterError(f"{where}: calibration_end ({cal_end.date()}) is after observation_end "
                             f"({obs_end.date()}); the holdout follows the calibration period.")
    first_day, births, repeats = daily_purchases(tx, observation_end=obs_end, engine=engine)
    start = pd.Timestamp(0) + pd.Timedelta(days=first_day)
    if cal_end < start:
        raise ParameterError(f"{where}: calibration_end ({cal_end.date()}) is before the first order "
                             f"({start.date()}); the model cannot have been fitted on this data.")
    n_days = len(births)
    lag = np.arange(n_days, dtype="float64")
    ex = np.zeros(n_days)
    if n_days > 1:
        ex[1:] = m.expected(lag[1:] / u)
    expected_daily_cum = np.convolve(births, ex)[:n_days]
    c = (cal_end - start).days
    ends = np.arange(c % p, n_days, p)
    if ends.size == 0 or ends[-1] != n_days - 1:
        ends = np.append(ends, n_days - 1)
    starts = np.concatenate([[0], ends[:-1] + 1])
    actual_cum = np.cumsum(repeats)[ends]
    expected_cum = expected_daily_cum[ends]
    births_cum = np.cumsum(births)[ends]
    out = pd.DataFrame({
        "period_start": (start + pd.to_timedelta(starts, unit="D")).astype("datetime64[ns]"),
        "period_end": (start + pd.to_timedelta(ends, unit="D")).astype("datetime64[ns]"),
        "days": (ends - starts + 1).astype("int64"),
        "in_calibration": ends <= c,
        "new_customers": np.diff(births_cum, prepend=0.0).astype("int64"),
        "actual": np.diff(actual_cum, prepend=0.0).astype("int64"),
        "expected": np.diff(expected_cum, prepend=0.0),
        "actual_cumulative": actual_cum.astype("int64"),
        "expected_cumulative": expected_cum,
    }, index=pd.RangeIndex(1, len(ends) + 1, name="period"))
    out.attrs.update(model=m.name, unit_days=u, period_days=p, calibration_end=cal_end,
                     observation_end=obs_end)
    return out


def _check_tracking(table: Any, where: str) -> pd.DataFrame:
    need = ("period_end", "in_calibration", "actual", "expected", "actual_cumulative", "expected_cumulative")
    if not isinstance(table, pd.DataFrame) or any(col not in table.columns for col in need):
        raise ParameterError(f"{where} expects the DataFrame returned by tracking_table(tx, model, "
                             f"calibration_end=..., observation_end=...); got {type(table).__name__}.")
    if len(table) == 0:
        raise DataValidationError(f"{where}: the tracking table has no periods.")
    return table


def _plot_tracking(table: pd.DataFrame, ax: Axes | None, cumulative: bool, where: str, **kwargs: Any) -> Axes:
    table = _check_tracking(table, where)
    ax = get_ax(ax)
    suffix = "_cumulative" if cumulative else ""
    x = table["period_end"].to_numpy()
    name = table.attrs.get("model", "model")
    word = _period_word(int(table.attrs.get("period_days", 7)))
    ax.plot(x, table["actual" + suffix].to_numpy(dtype=float), color=PALETTE[0], label="actual", **kwargs)
    ax.plot(x, table["expected" + suffix].to_numpy(dtype=float), color=PALETTE[1], linestyle="--",
            label=f"expected ({name})", **kwargs)
    cal_end = table.attrs.get("calibration_end")
    if cal_end is None and table["in_calibration"].any():
        cal_end = table.loc[table["in_calibration"], "period_end"].max()
    if cal_end is not None:
        ax.axvline(cal_end, color="grey", linestyle=":", linewidth=1.2, label="end of calibration")
    ax.set_xlabel(f"{word} ending")
    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if cumulative:
        ax.set_ylabel("cumulative repeat transactions")
        ax.set_title(f"Cumulative repeat transactions by {word}: actual vs {name}")
    else:
        ax.set_ylabel(f"repeat transactions per {word}")
        ax.set_title(f"Repeat transactions per {word}: actual vs {name}")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False)
    return ax


def plot_cumulative_tracking(table: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Lines: cumulative repeat transactions by period, actual vs model, calibration end marked.

    FHL 2005, Figure 2.

    Parameters
    ----------
    table : DataFrame
        From :func:`tracking_table`.
    ax : Axes, optional
    **kwargs
        Passed to both ``ax.plot`` calls.

    Returns
    -------
    Axes
        Line 0 is actual, line 1 expected, line 2 the calibration end.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> tx = pd.DataFrame({"customer_id": pd.array(["a", "a", "b"], dtype="string"),
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-03"]), "amount": [5.0, 7.0, 3.0]})
    >>> t = tracking_table(tx, bg, calibration_end="2024-01-07", observation_end="2024-01-14")
    >>> plot_cumulative_tracking(t).lines[0].get_ydata().tolist()
    [0.0, 1.0]
    """
    return _plot_tracking(table, ax, True, "plot_cumulative_tracking", **kwargs)


def plot_incremental_tracking(table: pd.DataFrame, *, ax: Axes | None = None, **kwargs: Any) -> Axes:
    """Lines: repeat transactions in each period, actual vs model, calibration end marked.

    FHL 2005, Figure 3. A shorter first or last period (see ``table["days"]``) shows
    fewer transactions for both series.

    Parameters
    ----------
    table : DataFrame
        From :func:`tracking_table`.
    ax : Axes, optional
    **kwargs
        Passed to both ``ax.plot`` calls.

    Returns
    -------
    Axes
        Line 0 is actual, line 1 expected, line 2 the calibration end.

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> tx = pd.DataFrame({"customer_id": pd.array(["a", "a", "b"], dtype="string"),
    ...     "order_date": pd.to_datetime(["2024-01-01", "2024-01-10", "2024-01-03"]), "amount": [5.0, 7.0, 3.0]})
    >>> t = tracking_table(tx, bg, calibration_end="2024-01-07", observation_end="2024-01-14")
    >>> plot_incremental_tracking(t).get_ylabel()
    'repeat transactions per week'
    """
    return _plot_tracking(table, ax, False, "plot_incremental_tracking", **kwargs)


# ----------------------------------------------------------------------------
# 4. matrices over (frequency, recency)
# ----------------------------------------------------------------------------

def _grid_args(max_frequency: Any, T: Any, n_recency: Any, where: str) -> tuple[int, float, int]:
    if (isinstance(max_frequency, (bool, np.bool_)) or not isinstance(max_frequency, (int, np.integer))
            or max_frequency < 0):
        raise ParameterError(f"{where}: max_frequency must be a whole number >= 0; got {max_frequency!r}.")
    try:
        T = float(T)
    except (TypeError, ValueError):
        T = float("nan")
    if not np.isfinite(T) or T <= 0:
        raise ParameterError(f"{where}: T (the customers' age, in the model's time unit) must be a "
                             f"positive number; got {T!r}.")
    if isinstance(n_recency, (bool, np.bool_)) or not isinstance(n_recency, (int, np.integer)) or n_recency < 2:
        raise ParameterError(f"{where}: n_recency must be a whole number >= 2; got {n_recency!r}.")
    return int(max_frequency), T, int(n_recency)


def _mesh(max_frequency: int, T: float, n_recency: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    freqs = np.arange(max_frequency + 1, dtype="float64")
    recs = np.linspace(0.0, T, n_recency)
    F, R = np.meshgrid(freqs, recs, indexing="ij")
    return freqs, recs, np.stack([F.ravel(), R.ravel()])


def _as_matrix(values: Any, freqs: np.ndarray, recs: np.ndarray, name: str, **attrs: Any) -> pd.DataFrame:
    Z = np.asarray(values, dtype="float64").reshape(len(freqs), len(recs))
    Z[0, 1:] = np.nan  # a customer with no repeat purchase has recency 0 by definition
    out = pd.DataFrame(Z, index=pd.Index(freqs.astype(np.int64), name="frequency"),
                       columns=pd.Index(recs, name="recency"))
    out.attrs.update(value=name, **attrs)
    return out


def probability_alive_matrix(model: Any, *, max_frequency: int, T: float, n_recency: int = 40) -> pd.DataFrame:
    """P(alive) for customers of age ``T`` over a (frequency, recency) grid.

    One vectorised call of the model's ``conditional_probability_alive`` on the whole
    mesh. Cells with frequency 0 and recency > 0 cannot occur (with no repeat
    purchase, recency is 0) and are NaN.

    Parameters
    ----------
    model : RepeatPurchaseModel or lifetimes fitter
    max_frequency : int
        Rows are frequencies ``0 .. max_frequency`` (repeat purchases).
    T : float
        The customers' age (time since first purchase), model time unit; usually the
        longest age in the calibration data.
    n_recency : int, default 40
        Columns are ``n_recency`` recencies evenly spaced from 0 to ``T``.

    Returns
    -------
    DataFrame
        Index ``frequency``, columns ``recency`` (model time unit), values in [0, 1].

    Examples
    --------
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> m = probability_alive_matrix(bg, max_frequency=2, T=38.86, n_recency=3)
    >>> m.shape, float(m.iloc[0, 0]), bool(m.iloc[2, 2] > m.iloc[2, 0])
    ((3, 3), 1.0, True)
    """
    where = "probability_alive_matrix"
    m = _Model(model, where, "alive")
    max_frequency, T, n_recency = _grid_args(max_frequency, T, n_recency, where)
    freqs, recs, (F, R) = _mesh(max_frequency, T, n_recency)
    values = m.alive(F, R, np.full(F.shape, T))
    return _as_matrix(values, freqs, recs, "P(alive)", model=m.name, T=T)


def expected_purchases_matrix(model: Any, t: float, *, max_frequency: int, T: float,
                              n_recency: int = 40) -> pd.DataFrame:
    """Expected repeat purchases in the next ``t`` for customers of age ``T`` over (frequency, recency).

    One vectorised call of ``conditional_expected_number_of_purchases_up_to_time`` on
    the mesh. Cells with frequency 0 and recency > 0 are NaN (they cannot occur).

    Parameters
    ----------
    model : RepeatPurchaseModel or lifetimes fitter
    t : float
        Horizon, model time unit (e.g. 52 for the next year when the unit is weeks).
    max_frequency, T, n_recency
        As in :func:`probability_alive_matrix`.

    Returns
    -------
    DataFrame
        Index ``frequency``, columns ``recency``; expected repeat purchases.

    Examples
    --------
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> m = expected_purchases_matrix(bg, 39.0, max_frequency=5, T=38.86, n_recency=2)
    >>> m.columns.tolist(), m.iloc[0].tolist()[1:]  # frequency 0 implies recency 0
    ([0.0, 38.86], [nan])
    >>> bool(m.iloc[1:, -1].is_monotonic_increasing)  # bought recently: more is more
    True
    """
    where = "expected_purchases_matrix"
    m = _Model(model, where, "conditional")
    max_frequency, T, n_recency = _grid_args(max_frequency, T, n_recency, where)
    try:
        t = float(t)
    except (TypeError, ValueError):
        t = float("nan")
    if not np.isfinite(t) or t <= 0:
        raise ParameterError(f"{where}: t (the horizon, in the model's time unit) must be a positive number; "
                             f"got {t!r}.")
    freqs, recs, (F, R) = _mesh(max_frequency, T, n_recency)
    values = m.conditional(np.full(F.shape, t), F, R, np.full(F.shape, T))
    return _as_matrix(values, freqs, recs, "expected purchases", model=m.name, T=T, t=t)


def _grid_defaults(model: Any, summary: pd.DataFrame | None, max_frequency: int | None, T: float | None,
                   frequency_col: str, T_col: str, where: str) -> tuple[int, float]:
    """Fill ``max_frequency`` (99th percentile of frequency) and ``T`` (max age) from the data."""
    if max_frequency is not None and T is not None:
        return max_frequency, T
    if summary is None:
        data = _Model(model, where, "alive").fitted_data()  # lifetimes keeps the data it was fitted on
        if data is None:
            raise ParameterError(f"{where}: pass the calibration summary (summary=...), or both "
                                 "max_frequency= and T=, to set the grid.")
        summary, frequency_col, T_col = data, "frequency", "T"
    cols = _numeric_columns(summary, where, "summary", {
        "frequency": (frequency_col, "frequency_col"), "T": (T_col, "T_col")}, whole=("frequency",))
    if max_frequency is None:
        max_frequency = max(1, int(np.ceil(np.quantile(cols["frequency"], 0.99))))
    if T is None:
        T = float(cols["T"].max())
    return max_frequency, T


def _plot_matrix(matrix: pd.DataFrame, ax: Axes | None, cmap: str, label: str, title: str, unit: str,
                 **kwargs: Any) -> Axes:
    ax = get_ax(ax, figsize=(8.0, 5.5))
    recs = matrix.columns.to_numpy(dtype=float)
    freqs = matrix.index.to_numpy(dtype=float)
    mid = (recs[1:] + recs[:-1]) / 2
    step = recs[1] - recs[0]
    x_edges = np.concatenate([[recs[0] - step / 2], mid, [recs[-1] + step / 2]])
    y_edges = np.concatenate([freqs - 0.5, [freqs[-1] + 0.5]])
    mesh = ax.pcolormesh(x_edges, y_edges, np.ma.masked_invalid(matrix.to_numpy()), cmap=cmap, **kwargs)
    ax.figure.colorbar(mesh, ax=ax, label=label)
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    ax.set_xlabel(f"recency: time of the last repeat purchase ({unit} after the first purchase)")
    ax.set_ylabel("frequency: repeat purchases")
    ax.set_title(title)
    return ax


def plot_probability_alive_matrix(model: Any, summary: pd.DataFrame | None = None, *,
                                  max_frequency: int | None = None, T: float | None = None,
                                  n_recency: int = 40, frequency_col: str = "frequency", T_col: str = "T",
                                  unit_days: float | None = None, ax: Axes | None = None,
                                  cmap: str = "Blues", **kwargs: Any) -> Axes:
    """Heatmap of P(alive) over frequency and recency, for customers of age ``T``.

    Parameters
    ----------
    model : RepeatPurchaseModel or lifetimes fitter
    summary : DataFrame, optional
        Calibration summary; sets the defaults ``max_frequency`` (99th percentile of
        frequency, so one heavy buyer does not squash the chart) and ``T`` (the
        longest age). Without it, a lifetimes fitter's own ``data`` is used.
    max_frequency, T, n_recency
        The grid, as in :func:`probability_alive_matrix`.
    frequency_col, T_col : str
        Columns of ``summary``.
    unit_days : float, optional
        The model's time unit in days, for the labels (default ``model.unit_days_``, else 7).
    ax : Axes, optional
    cmap : str, default "Blues"
    **kwargs
        Passed to ``ax.pcolormesh``. The colour scale is fixed to 0 .. 1.

    Returns
    -------
    Axes
        ``ax.collections[0].get_array()`` holds the matrix (masked where impossible).

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ax = plot_probability_alive_matrix(bg, max_frequency=10, T=38.86)
    >>> ax.get_xlabel()
    'recency: time of the last repeat purchase (weeks after the first purchase)'
    """
    where = "plot_probability_alive_matrix"
    max_frequency, T = _grid_defaults(model, summary, max_frequency, T, frequency_col, T_col, where)
    matrix = probability_alive_matrix(model, max_frequency=max_frequency, T=T, n_recency=n_recency)
    unit = _unit_word(_unit_days(model, unit_days, where, summary))
    kwargs.setdefault("vmin", 0.0)
    kwargs.setdefault("vmax", 1.0)
    title = f"P(alive) by frequency and recency, customers aged {T:.1f} {unit} ({matrix.attrs['model']})"
    return _plot_matrix(matrix, ax, cmap, "P(alive)", title, unit, **kwargs)


def plot_frequency_recency_matrix(model: Any, summary: pd.DataFrame | None = None, *, t: float,
                                  max_frequency: int | None = None, T: float | None = None,
                                  n_recency: int = 40, frequency_col: str = "frequency", T_col: str = "T",
                                  unit_days: float | None = None, ax: Axes | None = None,
                                  cmap: str = "Oranges", **kwargs: Any) -> Axes:
    """Heatmap of expected repeat purchases in the next ``t`` by frequency and recency (age ``T``).

    Parameters
    ----------
    model : RepeatPurchaseModel or lifetimes fitter
    summary : DataFrame, optional
        Sets the grid defaults, as in :func:`plot_probability_alive_matrix`.
    t : float
        Horizon in the model's time unit (required, so that the unit is a choice).
    max_frequency, T, n_recency, frequency_col, T_col, unit_days, ax
        As in :func:`plot_probability_alive_matrix`.
    cmap : str, default "Oranges"
    **kwargs
        Passed to ``ax.pcolormesh``.

    Returns
    -------
    Axes

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from lifetimes import BetaGeoFitter
    >>> bg = BetaGeoFitter()
    >>> bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    >>> ax = plot_frequency_recency_matrix(bg, t=52, max_frequency=10, T=38.86)
    >>> ax.get_title()
    'Expected repeat purchases in the next 52 weeks, customers aged 38.9 weeks (BG/NBD)'
    """
    where = "plot_frequency_recency_matrix"
    max_frequency, T = _grid_defaults(model, summary, max_frequency, T, frequency_col, T_col, where)
    matrix = expected_purchases_matrix(model, t, max_frequency=max_frequency, T=T, n_recency=n_recency)
    unit = _unit_word(_unit_days(model, unit_days, where, summary))
    kwargs.setdefault("vmin", 0.0)
    title = (f"Expected repeat purchases in the next {matrix.attrs['t']:g} {unit}, customers aged "
             f"{T:.1f} {unit} ({matrix.attrs['model']})")
    return _plot_matrix(matrix, ax, cmap, f"expected repeat purchases in the next {matrix.attrs['t']:g} {unit}",
                        title, unit, **kwargs)
