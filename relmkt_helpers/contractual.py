"""Contractual churn: the shifted-beta-geometric (sBG) retention model, DERL and Kaplan-Meier curves.

A subscription business sees its customers leave: it knows *when* each one
cancels. Two questions are asked every month: how will a cohort's renewals
decay, and what is a subscriber of a given tenure still worth? This module
answers both.

* :class:`SBGModel` / :func:`fit_sbg`: the shifted-beta-geometric model of
  Fader & Hardie (2007), fitted by maximum likelihood to survivor counts of one
  cohort or of several cohorts of different ages (right-censored), or to one
  tenure per subscriber (:meth:`SBGModel.fit_durations`). It projects survival
  and retention rates beyond the data and values subscribers by tenure with the
  discounted expected residual lifetime (DERL) of Fader & Hardie (2010).
* :func:`subscription_tenures`, :func:`survivor_table`: from a subscription
  table (``start_date``, ``end_date``; empty end = still active) to tenures in
  months and to survivor counts by monthly start cohort.
* :func:`product_limit`, :func:`kaplan_meier`, :func:`median_survival`: the
  Kaplan-Meier (product-limit) estimator of tenure with Greenwood confidence
  intervals, by plan or channel; no model assumed.
* :func:`contractual_churn`: everything notebook 02 shows, from the
  subscription table, as one :class:`ContractualChurnResult`.

The model (Fader & Hardie 2007)
-------------------------------
At the end of each period an active customer cancels with probability
``theta`` (constant for her); ``theta ~ Beta(alpha, beta)`` across customers.
The tenure ``T >= 1`` (periods paid) then has

* ``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``,
* ``S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta)`` (``S(0) = 1``),
* retention rate ``r_t = S(t) / S(t - 1) = (beta + t - 1) / (alpha + beta + t - 1)``,
  which rises with ``t``: the customers who are left are the loyal ones (the
  *sorting effect* of heterogeneity), not customers who became more loyal.

Conventions a reader could misread
----------------------------------
**Survivors.** ``survivors[t]`` is the number of customers still active at the
*start* of period ``t + 1``, i.e. after ``t`` renewal decisions;
``survivors[0]`` is the cohort size. A customer lost in period ``t`` has
``T = t``; those still active at a cohort's last observed period are
right-censored (they contribute ``S(t_last)``).

**Tenure of a subscription (months).** ``end_date`` is the first unpaid day:
a subscription started on ``s`` and ending on ``s + T`` calendar months (day
clipped to the month's end, as ``pd.DateOffset(months=T)``) paid ``T`` months,
exactly how :mod:`relmkt_helpers.datasets` generates the sample shop. An end
that is not a whole number of months after the start is rounded *up* (the
month in which the customer cancelled was paid); an end on the start day
counts as one month. A subscription with no end, or ending after ``as_of``, is
right-censored at ``k`` = the whole months from its start to ``as_of``
(``s + k months <= as_of``): it is known that ``T > k``.

**DERL timing** (Fader & Hardie 2010). ``derl(d, renewals=n - 1)`` is
evaluated for a customer in her ``n``-th period (``n - 1`` renewals made),
just before her next renewal decision. The current period's payment is *not*
included; the next payment (made if she renews) is counted undiscounted and
each later one is discounted by a further ``1 / (1 + d)``::

    DERL = sum_{t >= n} S(t) / S(n - 1) / (1 + d) ** (t - n)
         = (beta + n - 1) / (alpha + beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))

The expected discounted value of a *new* subscriber, first payment included,
is ``margin * 2F1(1, beta; alpha + beta; 1 / (1 + d)) = margin * (1 + DERL(0) / (1 + d))``
(:meth:`SBGModel.clv`).

References
----------
Fader, P. S. & Hardie, B. G. S. (2007). How to project customer retention.
*Journal of Interactive Marketing* 21(1), 76-90.
Fader, P. S. & Hardie, B. G. S. (2010). Customer-base valuation in a
contractual setting: the perils of ignoring heterogeneity. *Marketing Science*
29(1), 85-93.
Kaplan, E. L. & Meier, P. (1958). Nonparametric estimation from incomplete
observations. *JASA* 53(282), 457-481. Greenwood, M. (1926). The natural
duration of cancer. *Reports on Public Health and Medical Subjects* 33.
Kalbfleisch, J. D. & Prentice, R. L. (2002). *The Statistical Analysis of
Failure Time Data*, 2nd ed., section 1.4 (the log-log confidence interval).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .errors import ConvergenceError, DataValidationError, ParameterError

__all__ = [
    "SBGConvergenceError",
    "SBGModel",
    "fit_sbg",
    "subscription_tenures",
    "survivor_table",
    "product_limit",
    "kaplan_meier",
    "median_survival",
    "ContractualChurnResult",
    "contractual_churn",
]

_Z95 = float(stats.norm.ppf(0.975))
_BOUND = 1e6  # alpha or beta beyond this (or below 1 / _BOUND): the MLE is at infinity
_MAX_SHOWN = 5
ALL = "all"


class SBGConvergenceError(ConvergenceError):
    """The sBG maximum-likelihood fit did not converge (the message says why and what to try).

    A :class:`relmkt_helpers.errors.ConvergenceError`, like the CLV models' failed fits.

    Examples
    --------
    >>> from relmkt_helpers.errors import ConvergenceError
    >>> issubclass(SBGConvergenceError, ConvergenceError)
    True
    """


# ----------------------------------------------------------------------------
# input checks
# ----------------------------------------------------------------------------

def _check_discount(discount: Any) -> float:
    try:
        d = float(discount)
    except (TypeError, ValueError):
        raise ParameterError(f"discount must be a number > 0 (rate per period, 0.01 = 1 %), got {discount!r}.") from None
    if not np.isfinite(d) or d <= 0:
        raise ParameterError(
            f"discount must be a finite rate > 0 per period (e.g. 0.01 per month), got {discount!r}; "
            "with no discounting the residual lifetime can be infinite."
        )
    return d


def _check_int(value: Any, name: str, minimum: int) -> int:
    try:
        ok = float(value) == int(value)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok or isinstance(value, bool) or int(value) < minimum:
        raise ParameterError(f"{name} must be a whole number >= {minimum}, got {value!r}.")
    return int(value)


def _periods(t: Any, name: str, minimum: int) -> tuple[np.ndarray, bool]:
    """``t`` as an int64 array (and whether it was a scalar); whole numbers >= ``minimum``."""
    try:
        arr = np.asarray(t, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be whole numbers of periods, got {t!r}.") from None
    if arr.size and (not np.isfinite(arr).all() or (arr != np.round(arr)).any() or arr.min() < minimum):
        raise ParameterError(f"{name} must be whole numbers of periods >= {minimum}, got {t!r}.")
    return arr.astype(np.int64), arr.ndim == 0


def _out(values: np.ndarray, scalar: bool) -> Any:
    return float(values) if scalar else values


# ----------------------------------------------------------------------------
# the likelihood, on counts
# ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Counts:
    """Sufficient statistics of the sBG likelihood.

    ``lost[t - 1]``: customers observed to cancel in period ``t`` (``T = t``), t = 1..K.
    ``censored[k]``: customers still active after ``k`` periods when observation ended, k = 0..K.
    """

    lost: np.ndarray
    censored: np.ndarray
    n_cohorts: int

    @property
    def n_customers(self) -> int:
        return int(round(self.lost.sum() + self.censored.sum()))

    @property
    def n_periods(self) -> int:
        """Last period with information: a loss in it or a customer censored after it."""
        idx = [np.flatnonzero(self.lost) + 1, np.flatnonzero(self.censored)]
        return int(max((i.max() for i in idx if i.size), default=0))


def _loglik_grad_hess(a: float, b: float, c: _Counts) -> tuple[float, np.ndarray, np.ndarray]:
    """Log-likelihood (Fader & Hardie 2007), its gradient and Hessian in (alpha, beta): digamma and trigamma."""
    t = np.flatnonzero(c.lost) + 1
    w = c.lost[t - 1]
    k = np.flatnonzero(c.censored)
    v = c.censored[k]
    n = w.sum() + v.sum()
    ps = special.psi

    def t1(x: Any) -> Any:  # trigamma
        return special.polygamma(1, x)

    # lost in period t: betaln(a + 1, b + t - 1); censored after k: betaln(a, b + k); minus n * betaln(a, b)
    ll = (w @ special.betaln(a + 1, b + t - 1) + v @ special.betaln(a, b + k) - n * special.betaln(a, b))
    ab_t, ab_k = a + b + t, a + b + k
    g = np.array([
        w @ (ps(a + 1) - ps(ab_t)) + v @ (ps(a) - ps(ab_k)) - n * (ps(a) - ps(a + b)),
        w @ (ps(b + t - 1) - ps(ab_t)) + v @ (ps(b + k) - ps(ab_k)) - n * (ps(b) - ps(a + b)),
    ])
    h_ab = -(w @ t1(ab_t)) - v @ t1(ab_k) + n * t1(a + b)
    h_aa = w @ (t1(a + 1) - t1(ab_t)) + v @ (t1(a) - t1(ab_k)) - n * (t1(a) - t1(a + b))
    h_bb = w @ (t1(b + t - 1) - t1(ab_t)) + v @ (t1(b + k) - t1(ab_k)) - n * (t1(b) - t1(a + b))
    return float(ll), g, np.array([[h_aa, h_ab], [h_ab, h_bb]])


def _geometric_loglik(c: _Counts) -> tuple[float, float]:
    """Log-likelihood of the homogeneous limit (every customer churns with the same ``p``) at its MLE, and ``p``.

    ``p = losses / periods at risk``; a customer lost in period ``t`` was at risk ``t`` periods, one censored
    after ``k`` periods ``k`` periods. This is the sBG likelihood's limit as ``alpha, beta -> infinity`` with
    ``alpha / (alpha + beta) = p``.
    """
    d = float(c.lost.sum())
    exposure = float(c.lost @ np.arange(1, c.lost.size + 1) + c.censored @ np.arange(c.censored.size))
    p = d / exposure
    ll = d * np.log(p) + ((exposure - d) * np.log1p(-p) if exposure > d else 0.0)
    return float(ll), p


def _observed_table(c: _Counts) -> pd.DataFrame:
    """Product-limit table of the counts: at risk, lost, censored and survival per period."""
    K = max(c.n_periods, 1)
    lost = np.zeros(K + 1)
    lost[1:] = c.lost[:K]
    cens = np.zeros(K + 1)
    cens[: min(K + 1, c.censored.size)] = c.censored[: K + 1]
    # at risk in period t: everyone not yet lost and observed through t: lost at >= t or censored at >= t
    at_risk = np.cumsum((lost + cens)[::-1])[::-1]
    at_risk[0] = lost.sum() + cens.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.where(at_risk > 0, lost / at_risk, 0.0)
    surv = np.cumprod(1.0 - q)
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.where(at_risk > 0, 1.0 - q, np.nan)
    ret[0] = np.nan
    return pd.DataFrame({"at_risk": at_risk, "lost": lost, "censored": cens, "survival": surv,
                         "retention_rate": ret}, index=pd.RangeIndex(K + 1, name="period"))


# ----------------------------------------------------------------------------
# survivor input -> counts
# ----------------------------------------------------------------------------

def _rows_of(survivors: Any) -> tuple[list[tuple[Any, Any]], bool]:
    """``[(cohort label, values), ...]`` and whether the input held several cohorts."""
    if isinstance(survivors, Mapping):
        return list(survivors.items()), True
    if isinstance(survivors, pd.DataFrame):
        return [(idx, row.to_numpy()) for idx, row in survivors.iterrows()], True
    if isinstance(survivors, pd.Series):
        return [(survivors.name, survivors.to_numpy())], False
    if isinstance(survivors, (str, bytes)) or not isinstance(survivors, (Sequence, np.ndarray)):
        raise ParameterError(
            "survivors must be a sequence of counts (one cohort), a 2-d array or DataFrame (one row per "
            f"cohort, NaN after its last observed period) or a dict cohort -> sequence; got {type(survivors).__name__}."
        )
    if isinstance(survivors, np.ndarray):
        if survivors.ndim == 2:
            return list(enumerate(survivors)), True
        return [(None, survivors)], False
    if len(survivors) and all(isinstance(r, (Sequence, np.ndarray)) and not isinstance(r, str) for r in survivors):
        return list(enumerate(survivors)), True
    return [(None, survivors)], False


def _clean_row(label: Any, values: Any, multi: bool) -> np.ndarray:
    where = f"cohort {label!r}: " if multi else ""
    try:
        s = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError):
        raise DataValidationError(f"survivors: {where}counts must be numbers, got {values!r}.") from None
    nan = np.isnan(s)
    last = int(np.flatnonzero(~nan).max()) if (~nan).any() else -1
    s = s[: last + 1]
    if last < 0 or np.isnan(s[0]):
        raise DataValidationError(f"survivors: {where}the first value (the cohort size) is missing. "
                                  "Start each cohort with the number of customers acquired.")
    if np.isnan(s).any():
        p = int(np.flatnonzero(np.isnan(s))[0])
        raise DataValidationError(
            f"survivors: {where}period {p} is missing (NaN) but a later period has a count. Only the periods "
            "after a cohort's last observation may be missing; fill in the count or cut the later periods."
        )
    bad = ~np.isfinite(s) | (s < 0)
    if bad.any():
        p = int(np.flatnonzero(bad)[0])
        raise DataValidationError(f"survivors: {where}period {p} has {s[p]:g}; counts must be finite and >= 0.")
    frac = np.abs(s - np.round(s)) > 1e-9
    if frac.any():
        p = int(np.flatnonzero(frac)[0])
        raise DataValidationError(
            f"survivors: {where}period {p} has the non-integer count {s[p]:g}. Give numbers of customers, "
            "not shares (multiply percentages by the cohort size and round)."
        )
    if s[0] <= 0:
        raise DataValidationError(f"survivors: {where}the cohort size (period 0) is {s[0]:g}; it must be > 0.")
    rise = np.flatnonzero(np.diff(s) > 0)
    if rise.size:
        p = int(rise[0]) + 1
        raise DataValidationError(
            f"survivors: {where}the count rises from {s[p - 1]:g} at period {p - 1} to {s[p]:g} at period {p}. "
            "Survivors are the customers of the cohort still active at the start of each period, so they can "
            "only stay level or fall; returning or new customers belong to another cohort. Check period "
            f"{p}{' of this cohort' if multi else ''}."
        )
    return np.round(s)


def _counts_from_survivors(survivors: Any) -> _Counts:
    rows, multi = _rows_of(survivors)
    if not rows:
        raise DataValidationError("survivors: no cohort given. Pass the counts of at least one cohort.")
    clean = [_clean_row(label, values, multi) for label, values in rows]
    K = max(r.size for r in clean) - 1
    if K < 1:
        raise DataValidationError(
            f"survivors: {'every cohort has' if multi else 'got'} only the cohort size; the sBG needs at least 2 "
            "periods (the cohort size and the number still active after one period)."
        )
    lost, cens = np.zeros(K), np.zeros(K + 1)
    for r in clean:
        lost[: r.size - 1] += -np.diff(r)
        cens[r.size - 1] += r[-1]
    return _Counts(lost, cens, n_cohorts=len(clean))


def _counts_from_durations(durations: Any, churned: Any) -> _Counts:
    d, _ = _periods(np.ravel(durations), "durations", 0)
    try:
        e = np.asarray(churned).ravel().astype(bool)
    except (TypeError, ValueError):
        raise ParameterError("churned must be booleans (True = the cancellation was observed).") from None
    if d.size != e.size:
        raise ParameterError(f"durations ({d.size}) and churned ({e.size}) must have the same length.")
    if d.size == 0:
        raise DataValidationError("durations: no subscriber given.")
    bad = e & (d < 1)
    if bad.any():
        raise DataValidationError(
            f"durations: {int(bad.sum())} churned subscriber(s) (positions {np.flatnonzero(bad)[:_MAX_SHOWN].tolist()}) "
            "have tenure 0; a subscriber who cancels pays at least one period (tenure >= 1)."
        )
    K = max(int(d.max()), 1)
    lost = np.bincount(d[e], minlength=K + 1)[1:].astype(float)
    cens = np.bincount(d[~e], minlength=K + 1).astype(float)
    return _Counts(lost, cens, n_cohorts=1)


# ----------------------------------------------------------------------------
# the Gauss hypergeometric series 2F1(1, b; c; z), 0 < z < 1, c > b > 0
# ----------------------------------------------------------------------------

def _hyp2f1_1(b: np.ndarray, c: np.ndarray, z: float) -> np.ndarray:
    """``2F1(1, b; c; z)``: scipy's ``hyp2f1``, summing the series directly where scipy returns NaN or inf.

    scipy's ``hyp2f1`` returns NaN for large ``b, c`` (e.g. ``alpha = 50, beta = 100``). The series
    ``sum_k (b)_k / (c)_k z^k`` has positive terms whose ratio ``(b + k) / (c + k) z`` is below ``z``,
    so after ``K`` terms the remainder is below ``z^K / (1 - z)`` (relative, the sum is >= 1).
    """
    b, c = np.broadcast_arrays(np.asarray(b, dtype=float), np.asarray(c, dtype=float))
    with np.errstate(all="ignore"):
        out = np.asarray(special.hyp2f1(1.0, b, c, z), dtype=float).copy()
    bad = ~np.isfinite(out)
    if bad.any():
        bb, cc = b[bad], c[bad]
        total = np.ones(bb.size)
        log_term = np.zeros(bb.size)
        k0, block, log_z = 0, 4096, np.log(z)
        n_terms = int(np.ceil((np.log(1e-17) + np.log1p(-z)) / log_z)) + 1
        while k0 < n_terms:
            k = np.arange(k0, min(k0 + block, n_terms))
            steps = np.log(bb[:, None] + k) - np.log(cc[:, None] + k) + log_z
            logs = log_term[:, None] + np.cumsum(steps, axis=1)
            total += np.exp(logs).sum(axis=1)
            log_term = logs[:, -1]
            k0 += block
        out[bad] = total
    return out


# ----------------------------------------------------------------------------
# the estimator
# ----------------------------------------------------------------------------

class SBGModel:
    """Shifted-beta-geometric model of contract renewals (Fader & Hardie 2007), fitted by maximum likelihood.

    ``fit`` returns ``self``; fitted state ends in ``_``. The likelihood
    (Fader & Hardie 2007, extended to several cohorts by multiplying over
    cohorts) is maximised over ``(log alpha, log beta)`` with scipy's
    ``trust-exact`` method and the exact gradient and Hessian (digamma and
    trigamma functions); convergence is checked.

    Parameters
    ----------
    initial : tuple of float, default (1.0, 1.0)
        Starting ``(alpha, beta)``.
    max_iter : int, default 200
        Iterations allowed to the optimiser.

    Attributes
    ----------
    alpha_, beta_ : float
        Maximum-likelihood estimates; ``theta ~ Beta(alpha, beta)`` is the churn probability per period.
    params_ : Series
        ``alpha``, ``beta``.
    log_likelihood_ : float
        Maximised log-likelihood.
    variance_matrix_ : DataFrame
        Inverse of the observed information (minus the Hessian of the log-likelihood in ``alpha, beta``).
    standard_errors_ : Series
        Square roots of its diagonal.
    n_periods_ : int
        Last period with data (a loss in it, or customers observed to survive it); projections beyond it are
        extrapolations.
    n_customers_, n_cohorts_ : int
        Customers (cohort sizes summed) and cohorts fitted.
    observed_ : DataFrame
        Per period ``0..n_periods_``: ``at_risk``, ``lost``, ``censored``, the observed ``survival``
        (product-limit over the cohorts; ``survivors / cohort size`` for one cohort) and ``retention_rate``.
    n_iter_ : int
        Optimiser iterations.

    Examples
    --------
    >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]  # Fader & Hardie (2007), years 0-7
    >>> m = SBGModel().fit(regular)
    >>> round(m.alpha_, 3), round(m.beta_, 3), m.n_periods_
    (0.704, 1.182, 7)
    >>> m.survival([8, 12]).round(3)  # actual (the paper's data): 0.223, 0.173
    array([0.22, 0.17])
    """

    def __init__(self, *, initial: tuple[float, float] = (1.0, 1.0), max_iter: int = 200) -> None:
        try:
            init = np.asarray(initial, dtype=float)
        except (TypeError, ValueError):
            init = np.zeros(0)
        if init.shape != (2,) or not np.isfinite(init).all() or (init <= 0).any():
            raise ParameterError(f"initial must be two positive numbers (alpha, beta), got {initial!r}.")
        self.initial = (float(init[0]), float(init[1]))
        self.max_iter = _check_int(max_iter, "max_iter", 1)

    def __repr__(self) -> str:
        state = f", fitted: alpha={self.alpha_:.4g}, beta={self.beta_:.4g}" if hasattr(self, "alpha_") else ""
        return f"SBGModel(initial={self.initial}, max_iter={self.max_iter}{state})"

    # -- fitting ------------------------------------------------------------
    def fit(self, survivors: Any) -> "SBGModel":
        """Fit to survivor counts of one cohort or of several cohorts of different ages.

        Parameters
        ----------
        survivors : sequence, 2-d array, DataFrame or dict
            One cohort: the customers still active at the start of each period,
            starting with the cohort size (``[1000, 631, 468, ...]``). Several
            cohorts: a DataFrame or 2-d array with one row per cohort and
            columns = periods 0, 1, ..., NaN after a cohort's last observed
            period; or a dict cohort -> sequence. Counts are whole numbers.

        Returns
        -------
        SBGModel
            ``self``, fitted.

        Raises
        ------
        DataValidationError
            Counts that rise over time (the period is named), are negative,
            non-integer or missing in the middle; fewer than 2 periods; no
            customer lost.
        SBGConvergenceError
            The likelihood has no finite maximum (e.g. a constant retention
            rate) or the optimiser failed.

        Examples
        --------
        >>> import numpy as np
        >>> cohorts = {"2024-01": [100, 60, 45, 38], "2024-02": [80, 50, 37], "2024-03": [90, 55]}
        >>> m = SBGModel().fit(cohorts)
        >>> m.n_cohorts_, m.n_customers_, m.n_periods_
        (3, 270, 3)
        """
        return self._fit_counts(_counts_from_survivors(survivors))

    def fit_durations(self, durations: Any, churned: Any) -> "SBGModel":
        """Fit to one tenure per subscriber, right-censored where the cancellation is not yet observed.

        Parameters
        ----------
        durations : array-like of int
            Periods paid (``T``) if ``churned``, else the periods the subscriber
            is known to have survived (``T > duration``).
        churned : array-like of bool
            ``True`` if the cancellation was observed.

        Returns
        -------
        SBGModel
            ``self``, fitted; the same likelihood as :meth:`fit` on the survivor
            counts of these subscribers.

        Examples
        --------
        >>> m = SBGModel().fit_durations([1, 1, 2, 3, 1, 5, 4, 4, 2, 6], [1, 1, 1, 1, 1, 0, 0, 0, 1, 0])
        >>> m.n_customers_, m.n_periods_
        (10, 6)
        """
        return self._fit_counts(_counts_from_durations(durations, churned))

    def _fit_counts(self, c: _Counts) -> "SBGModel":
        n_lost = c.lost.sum()
        if c.n_customers == 0 or c.n_periods == 0:
            raise DataValidationError("sBG: no customer was observed for a full period; nothing to fit. "
                                      "Use cohorts observed for at least one period.")
        if n_lost == 0:
            raise DataValidationError(
                f"sBG: none of the {c.n_customers:,} customers was lost, so the churn rate cannot be estimated "
                "(its maximum-likelihood value is 0). Wait for more periods or pool cohorts."
            )
        if c.censored[1:].sum() == 0 and c.lost[1:].sum() == 0:
            raise DataValidationError(
                "sBG: every customer observed for a full period was lost in period 1, so the churn rate is 1 "
                "and the model is degenerate. Check that the counts are survivors, not losses."
            )
        n = float(c.n_customers)

        def fun(u: np.ndarray) -> float:
            a, b = np.exp(u)
            return -_loglik_grad_hess(a, b, c)[0] / n

        def jac(u: np.ndarray) -> np.ndarray:
            p = np.exp(u)
            return -_loglik_grad_hess(p[0], p[1], c)[1] * p / n

        def hess(u: np.ndarray) -> np.ndarray:
            p = np.exp(u)
            _, g, h = _loglik_grad_hess(p[0], p[1], c)
            return -(h * np.outer(p, p) + np.diag(g * p)) / n

        with np.errstate(all="ignore"):
            res = optimize.minimize(fun, np.log(self.initial), jac=jac, hess=hess, method="trust-exact",
                                    options={"maxiter": self.max_iter, "gtol": 1e-9})
        a, b = (float(x) for x in np.exp(res.x))
        obs = _observed_table(c)
        hint = (" The sBG needs retention rates that rise with tenure (heterogeneity across customers). "
                f"Observed retention rates: {np.round(obs['retention_rate'].iloc[1:6].to_numpy(), 3).tolist()}. "
                "With a constant rate use a geometric model (retention = 1 - lost / at risk); otherwise add "
                "periods or cohorts, or try another `initial`.")
        if not np.isfinite([a, b, res.fun]).all():
            raise SBGConvergenceError(f"sBG fit did not converge: the optimiser returned non-finite values.{hint}")
        if max(a, b) > _BOUND or min(a, b) < 1 / _BOUND:
            raise SBGConvergenceError(
                f"sBG fit did not converge: the likelihood keeps rising as alpha, beta -> {a:.3g}, {b:.3g} "
                f"(no finite maximum).{hint}"
            )
        ll, g, h = _loglik_grad_hess(a, b, c)
        ll_geo, p_geo = _geometric_loglik(c)
        if ll - ll_geo <= 1e-7 * abs(ll_geo):
            # the supremum is the homogeneous limit alpha, beta -> infinity: the optimiser only drifts along the ridge
            raise SBGConvergenceError(
                f"sBG fit did not converge: the data are fitted as well by one constant retention rate "
                f"({1 - p_geo:.3f} per period) as by any sBG, so alpha and beta grow without bound (reached "
                f"alpha={a:.3g}, beta={b:.3g}).{hint}"
            )
        try:
            cov = np.linalg.inv(-h)
            pos_def = bool(np.all(np.linalg.eigvalsh(-h) > 0))
        except np.linalg.LinAlgError:
            pos_def = False
        # converged: the gradient in (log alpha, log beta) per customer vanishes and the maximum is strict
        # (scipy may stop with "bad approximation" at the optimum, when no further improvement is measurable)
        if not pos_def or np.abs(g * np.array([a, b])).max() > 1e-6 * n:
            raise SBGConvergenceError(
                f"sBG fit did not converge after {res.nit} iterations ({res.message}; alpha={a:.4g}, "
                f"beta={b:.4g}). Try SBGModel(max_iter=1000) or another `initial`.{hint}"
            )
        names = pd.Index(["alpha", "beta"], name="parameter")
        self.alpha_, self.beta_ = a, b
        self.params_ = pd.Series([a, b], index=names, name="estimate")
        self.log_likelihood_ = ll
        self.variance_matrix_ = pd.DataFrame(cov, index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(cov)), index=names, name="se")
        self.n_periods_ = c.n_periods
        self.n_customers_ = c.n_customers
        self.n_cohorts_ = c.n_cohorts
        self.observed_ = obs
        self.n_iter_ = int(res.nit)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "alpha_"):
            raise ParameterError("this SBGModel is not fitted yet; call .fit(survivors) first.")

    # -- results ------------------------------------------------------------
    @property
    def summary(self) -> pd.DataFrame:
        """``estimate``, ``se``, ``lower_95``, ``upper_95`` for ``alpha`` and ``beta``.

        The interval is computed on the log scale (``estimate * exp(+-1.96 se / estimate)``), so it stays positive.

        Examples
        --------
        >>> SBGModel().fit([1000, 631, 468, 382, 326, 289, 262, 241]).summary.columns.tolist()
        ['estimate', 'se', 'lower_95', 'upper_95']
        """
        self._check_fitted()
        est, se = self.params_.to_numpy(), self.standard_errors_.to_numpy()
        se_log = se / est
        return pd.DataFrame({"estimate": est, "se": se, "lower_95": est * np.exp(-_Z95 * se_log),
                             "upper_95": est * np.exp(_Z95 * se_log)}, index=self.params_.index)

    def survival(self, t: Any) -> Any:
        """``S(t) = P(T > t) = B(alpha, beta + t) / B(alpha, beta)``: share of a cohort still active after ``t`` periods.

        Parameters
        ----------
        t : int or array-like of int
            Periods, ``>= 0`` (``S(0) = 1``); any horizon, beyond the data too.

        Returns
        -------
        float or ndarray

        Examples
        --------
        >>> m = SBGModel().fit([1000, 869, 743, 653, 593, 551, 517, 491])
        >>> m.survival(0), round(m.survival(12), 3)
        (1.0, 0.378)
        """
        self._check_fitted()
        tt, scalar = _periods(t, "t", 0)
        return _out(np.exp(special.betaln(self.alpha_, self.beta_ + tt) - special.betaln(self.alpha_, self.beta_)),
                    scalar)

    def retention_rate(self, t: Any) -> Any:
        """``r_t = P(T > t | T > t - 1) = (beta + t - 1) / (alpha + beta + t - 1)``, rising with ``t``.

        Parameters
        ----------
        t : int or array-like of int
            Periods, ``>= 1``.

        Returns
        -------
        float or ndarray

        Examples
        --------
        >>> m = SBGModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> m.retention_rate([1, 2, 12]).round(3)
        array([0.627, 0.756, 0.945])
        """
        self._check_fitted()
        tt, scalar = _periods(t, "t", 1)
        return _out((self.beta_ + tt - 1) / (self.alpha_ + self.beta_ + tt - 1), scalar)

    def churn_probability(self, t: Any) -> Any:
        """``P(T = t) = B(alpha + 1, beta + t - 1) / B(alpha, beta)``: share of a new cohort lost in period ``t``.

        Examples
        --------
        >>> m = SBGModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> round(m.churn_probability(1), 3) == round(1 - m.survival(1), 3)
        True
        """
        self._check_fitted()
        tt, scalar = _periods(t, "t", 1)
        a, b = self.alpha_, self.beta_
        return _out(np.exp(special.betaln(a + 1, b + tt - 1) - special.betaln(a, b)), scalar)

    def median_lifetime(self) -> float:
        """Smallest ``t`` with ``S(t) <= 0.5`` (periods); ``inf`` if never within 100,000 periods.

        Examples
        --------
        >>> SBGModel().fit([1000, 631, 468, 382, 326, 289, 262, 241]).median_lifetime()
        2.0
        """
        self._check_fitted()
        t = np.arange(0, 100_001)
        below = np.flatnonzero(self.survival(t) <= 0.5)
        return float(t[below[0]]) if below.size else float("inf")

    def derl(self, discount: float, renewals: Any = 0) -> Any:
        """Discounted expected residual lifetime (Fader & Hardie 2010), in periods.

        For a customer who has made ``renewals`` renewals (she is in period
        ``n = renewals + 1``), evaluated just before her next renewal decision:
        the current period's payment is not included, the next one counts
        undiscounted, later ones are discounted by ``1 / (1 + discount)`` per
        period (see the module docstring)::

            DERL = (beta + n - 1) / (alpha + beta + n - 1) * 2F1(1, beta + n; alpha + beta + n; 1 / (1 + d))

        Parameters
        ----------
        discount : float
            Discount rate per period (> 0), e.g. 0.01 per month.
        renewals : int or array-like of int, default 0
            Renewals made so far (``>= 0``).

        Returns
        -------
        float or ndarray
            Multiply by the margin per period for the expected residual value.

        Examples
        --------
        >>> m = SBGModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> m.derl(0.1, [0, 4]).round(2)
        array([2.96, 5.89])
        """
        self._check_fitted()
        d = _check_discount(discount)
        r, scalar = _periods(renewals, "renewals", 0)
        n = r + 1
        a, b = self.alpha_, self.beta_
        val = (b + n - 1) / (a + b + n - 1) * _hyp2f1_1(b + n, a + b + n, 1.0 / (1.0 + d))
        return _out(val, scalar)

    def clv(self, margin_per_period: float, discount: float) -> float:
        """Expected discounted value of a new subscriber, first payment included (Fader & Hardie 2010).

        ``margin * sum_{t >= 0} S(t) / (1 + d) ** t = margin * 2F1(1, beta; alpha + beta; 1 / (1 + d))``:
        one margin is paid at the start of each period the customer is active.

        Examples
        --------
        >>> m = SBGModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> round(m.clv(100.0, 0.1), 2) == round(100 * (1 + m.derl(0.1) / 1.1), 2)
        True
        """
        self._check_fitted()
        d = _check_discount(discount)
        m = float(margin_per_period)
        return m * float(_hyp2f1_1(self.beta_, self.alpha_ + self.beta_, 1.0 / (1.0 + d)))

    def value_by_tenure(self, margin_per_period: float, discount: float, max_tenure: int) -> pd.DataFrame:
        """Expected discounted residual value of an active subscriber by tenure: ``margin * DERL``.

        It rises with tenure, because long-tenured subscribers are those with
        low churn probabilities (the sorting effect of heterogeneity; Fader &
        Hardie 2010).

        Parameters
        ----------
        margin_per_period : float
            Margin earned per paid period.
        discount : float
            Discount rate per period (> 0).
        max_tenure : int
            Last tenure shown (>= 1).

        Returns
        -------
        DataFrame
            Index ``tenure`` = periods paid so far (1..max_tenure; the
            customer is in her ``tenure``-th period, ``renewals = tenure - 1``);
            columns ``renewals``, ``renewal_probability`` (``r_tenure``, the
            probability of her next renewal), ``derl`` and ``residual_value``.

        Examples
        --------
        >>> m = SBGModel().fit([1000, 631, 468, 382, 326, 289, 262, 241])
        >>> v = m.value_by_tenure(10.0, 0.1, 5)
        >>> v["residual_value"].is_monotonic_increasing, v.index.tolist()
        (True, [1, 2, 3, 4, 5])
        """
        self._check_fitted()
        k = _check_int(max_tenure, "max_tenure", 1)
        margin = float(margin_per_period)
        tenure = np.arange(1, k + 1)
        derl = self.derl(discount, tenure - 1)
        return pd.DataFrame({"renewals": tenure - 1, "renewal_probability": self.retention_rate(tenure),
                             "derl": derl, "residual_value": margin * derl},
                            index=pd.Index(tenure, name="tenure"))

    def projection(self, horizon: int) -> pd.DataFrame:
        """Fitted survival and retention rate for periods ``0..horizon`` beside the observed ones.

        Returns
        -------
        DataFrame
            Index ``period``; ``survival``, ``retention_rate`` (sBG), ``observed_survival``,
            ``observed_retention_rate`` (NaN beyond ``n_periods_``) and ``in_data`` (bool).

        Examples
        --------
        >>> p = SBGModel().fit([1000, 631, 468, 382, 326, 289, 262, 241]).projection(12)
        >>> p.loc[[7, 12], ["survival", "observed_survival", "in_data"]].round(3)  # doctest: +NORMALIZE_WHITESPACE
                survival  observed_survival  in_data
        period
        7          0.239              0.241     True
        12         0.170                NaN    False
        """
        self._check_fitted()
        h = _check_int(horizon, "horizon", 1)
        t = np.arange(h + 1)
        ret = np.full(h + 1, np.nan)
        ret[1:] = self.retention_rate(t[1:])
        obs = self.observed_.reindex(t)
        return pd.DataFrame({"survival": self.survival(t), "retention_rate": ret,
                             "observed_survival": obs["survival"].to_numpy(),
                             "observed_retention_rate": obs["retention_rate"].to_numpy(),
                             "in_data": t <= self.n_periods_}, index=pd.Index(t, name="period"))


def fit_sbg(survivors: Any, **kwargs: Any) -> SBGModel:
    """Fit the shifted-beta-geometric model (Fader & Hardie 2007) to survivor counts.

    Shorthand for ``SBGModel(**kwargs).fit(survivors)``; see :meth:`SBGModel.fit`
    for the accepted inputs (one cohort, or several cohorts of different ages).

    Examples
    --------
    >>> m = fit_sbg([1000, 869, 743, 653, 593, 551, 517, 491])  # "High End", Fader & Hardie (2007)
    >>> round(m.alpha_, 3), round(m.beta_, 3)
    (0.668, 3.806)
    """
    return SBGModel(**kwargs).fit(survivors)


# ----------------------------------------------------------------------------
# subscription table -> tenures
# ----------------------------------------------------------------------------

def _add_months(days: np.ndarray, months: np.ndarray) -> np.ndarray:
    """``days`` (datetime64[D]) plus whole ``months``, the day clipped to the target month's end."""
    m0 = days.astype("datetime64[M]")
    dom = (days - m0.astype("datetime64[D]")).astype(np.int64)
    target = m0 + months.astype("timedelta64[M]")
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(dom, length - 1).astype("timedelta64[D]")


def _month_diff(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (b.astype("datetime64[M]") - a.astype("datetime64[M]")).astype(np.int64)


def _as_day(value: Any, name: str) -> np.datetime64:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = pd.NaT
    if value is None or pd.isna(ts):
        raise ParameterError(f"{name} must be a date such as '2025-12-31' (the last day of the data), got {value!r}.")
    if ts.tzinfo is not None:
        ts = ts.tz_localize(None)
    return np.datetime64(ts.normalize().date(), "D")


def _row_names(df: pd.DataFrame, mask: np.ndarray, id_col: str | None, cols: Sequence[str]) -> str:
    idx = np.flatnonzero(mask)
    parts = []
    for i in idx[:_MAX_SHOWN]:
        label = f"row {df.index[i]!r}"
        if id_col is not None and id_col in df.columns:
            label += f" ({id_col} {df[id_col].iloc[i]!r})"
        vals = ", ".join(f"{c} {_fmt(df[c].iloc[i])}" for c in cols)
        parts.append(f"{label}: {vals}")
    more = idx.size - min(idx.size, _MAX_SHOWN)
    return "; ".join(parts) + (f"; and {more:,} more" if more else "")


def _fmt(v: Any) -> str:
    if isinstance(v, pd.Timestamp):
        return str(v.date())
    return "empty" if v is None or (not isinstance(v, str) and pd.isna(v)) else repr(v)


def _dates(df: pd.DataFrame, col: str, id_col: str | None, *, required: bool) -> np.ndarray:
    s = df[col]
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(s):
        parsed = s
    else:
        text = s.astype("string").str.strip()
        text = text.mask(text == "")
        parsed = pd.to_datetime(text, errors="coerce", format="ISO8601")
        bad = (parsed.isna() & text.notna()).to_numpy()
        if bad.any():
            raise DataValidationError(
                f"subscriptions: column {col!r} has values that are not dates ({_row_names(df, bad, id_col, [col])}). "
                "Use YYYY-MM-DD, or load the table with relmkt_helpers.load_subscriptions."
            )
    if getattr(parsed.dtype, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    out = parsed.dt.normalize().to_numpy(dtype="datetime64[D]")
    if required and np.isnat(out).any():
        raise DataValidationError(
            f"subscriptions: column {col!r} is empty in {_row_names(df, np.isnat(out), id_col, [col])}. "
            "Every subscription needs a start date."
        )
    return out


def _check_frame(subscriptions: Any, cols: Sequence[str]) -> pd.DataFrame:
    if not isinstance(subscriptions, pd.DataFrame):
        raise ParameterError(
            f"subscriptions must be a DataFrame (one row per subscription), got {type(subscriptions).__name__}. "
            "Load it with relmkt_helpers.load_subscriptions."
        )
    missing = [c for c in cols if c not in subscriptions.columns]
    if missing:
        raise DataValidationError(
            f"subscriptions: column(s) {', '.join(repr(c) for c in missing)} missing; the columns are "
            f"{list(map(str, subscriptions.columns))}. Pass start_col= / end_col= with the names used in your table."
        )
    if len(subscriptions) == 0:
        raise DataValidationError("subscriptions: the table has no rows.")
    return subscriptions


def _check_group_col(subscriptions: pd.DataFrame, group_col: str | None) -> None:
    if group_col is not None and group_col not in subscriptions.columns:
        raise ParameterError(
            f"group_col={group_col!r} is not a column of the subscription table; its columns are "
            f"{list(map(str, subscriptions.columns))}. Use e.g. group_col='plan' or 'channel', or None for one group."
        )


def subscription_tenures(subscriptions: pd.DataFrame, *, as_of: Any, start_col: str = "start_date",
                         end_col: str = "end_date", id_col: str | None = "subscription_id") -> pd.DataFrame:
    """Tenure in months of each subscription started on or before ``as_of``, right-censored where still active.

    Parameters
    ----------
    subscriptions : DataFrame
        One row per subscription (:func:`relmkt_helpers.load_subscriptions`).
        ``end_col`` is the first unpaid day; empty (NaT) = still active.
    as_of : date-like
        Last day of observation (inclusive). Subscriptions starting after it
        are left out; ends after it are treated as not yet observed.
    start_col, end_col : str
        Date columns.
    id_col : str or None
        Column used to name rows in error messages (if present).

    Returns
    -------
    DataFrame
        The input rows (started on or before ``as_of``) plus ``cohort``
        (``Period[M]`` of the start), ``tenure`` (int64 months: ``T`` if
        ``churned``, else the whole months survived so far, ``T > tenure``),
        ``churned`` (bool) and ``months_observed`` (whole months from the start
        to ``as_of``). See the module docstring for the month arithmetic.

    Raises
    ------
    DataValidationError
        Missing columns, unparseable or missing start dates, or an end before
        its start (the rows are named).

    Examples
    --------
    >>> import pandas as pd
    >>> subs = pd.DataFrame({"subscription_id": ["a", "b", "c"],
    ...     "start_date": pd.to_datetime(["2025-01-31", "2025-03-15", "2025-06-10"]),
    ...     "end_date": pd.to_datetime(["2025-04-30", None, "2025-06-25"])})
    >>> subscription_tenures(subs, as_of="2025-12-31")[["tenure", "churned", "months_observed"]]
       tenure  churned  months_observed
    0       3     True               11
    1       9    False                9
    2       1     True                6
    """
    df = _check_frame(subscriptions, [start_col, end_col])
    start = _dates(df, start_col, id_col, required=True)
    end = _dates(df, end_col, id_col, required=False)
    bad = ~np.isnat(end) & (end < start)
    if bad.any():
        raise DataValidationError(
            f"subscriptions: {int(bad.sum()):,} subscription(s) end before they start "
            f"({_row_names(df, bad, id_col, [start_col, end_col])}). Check {start_col!r} and {end_col!r} for "
            "swapped columns or typing errors; leave the end empty for an active subscription."
        )
    day = _as_day(as_of, "as_of")
    keep = start <= day
    if not keep.any():
        raise DataValidationError(
            f"subscriptions: no subscription starts on or before as_of={str(day)}; the first starts on "
            f"{str(start.min())}. Check as_of."
        )
    df, start, end = df.loc[keep].copy(), start[keep], end[keep]
    # whole months from start to as_of: the largest k with start + k months <= as_of
    k = _month_diff(start, np.full(start.shape, day))
    k -= _add_months(start, k) > day
    churned = ~np.isnat(end) & (end <= day)
    # paid months: the smallest T with start + T months >= end (at least 1)
    e = np.where(churned, end, start)
    T = _month_diff(start, e)
    T += _add_months(start, T) < e
    T = np.maximum(T, 1)
    df["cohort"] = pd.PeriodIndex(start.astype("datetime64[M]"), freq="M")
    df["tenure"] = np.where(churned, T, k).astype(np.int64)
    df["churned"] = churned
    df["months_observed"] = k.astype(np.int64)
    return df


def _groups(df: pd.DataFrame, group_col: str | None) -> pd.Series:
    if group_col is None:
        return pd.Series(ALL, index=df.index, dtype=object)
    return df[group_col].astype(object).where(df[group_col].notna(), "(missing)").astype(str)


def survivor_table(subscriptions: pd.DataFrame, *, as_of: Any, group_col: str | None = None,
                   start_col: str = "start_date", end_col: str = "end_date",
                   id_col: str | None = "subscription_id") -> pd.DataFrame:
    """Survivors by monthly start cohort: subscriptions still active at the start of each month of tenure.

    Column ``t`` counts the cohort's subscriptions with ``T > t`` (after ``t``
    renewals); column 0 is the cohort size. A cohort is observed up to the
    whole months between its *latest* start and ``as_of`` (all its members
    are, when ``as_of`` is a month's last day); later columns are NaN. This is
    the input :func:`fit_sbg` takes for several cohorts.

    Parameters
    ----------
    subscriptions : DataFrame
        See :func:`subscription_tenures`.
    as_of : date-like
        Last day of observation.
    group_col : str, optional
        Split by this column (e.g. ``"plan"``); the index is then ``(group, cohort)``.
    start_col, end_col, id_col : str
        Column names.

    Returns
    -------
    DataFrame
        Index ``cohort`` (``Period[M]``) or ``(group, cohort)``; columns
        ``0..max age``; float (NaN where unobserved).

    Examples
    --------
    >>> import pandas as pd
    >>> subs = pd.DataFrame({"start_date": pd.to_datetime(["2025-01-05", "2025-01-20", "2025-02-03"]),
    ...                      "end_date": pd.to_datetime(["2025-03-05", None, "2025-03-03"])})
    >>> survivor_table(subs, as_of="2025-03-31")  # doctest: +NORMALIZE_WHITESPACE
             0    1    2
    cohort
    2025-01  2.0  2.0  1.0
    2025-02  1.0  0.0  NaN
    """
    _check_group_col(subscriptions, group_col)
    ten = subscription_tenures(subscriptions, as_of=as_of, start_col=start_col, end_col=end_col, id_col=id_col)
    keys = ["cohort"] if group_col is None else ["group", "cohort"]
    ten = ten.assign(group=_groups(ten, group_col))
    codes = ten.groupby(keys, sort=True).ngroup().to_numpy()
    idx = ten.groupby(keys, sort=True).size().index
    n_c = idx.size
    age = np.full(n_c, np.iinfo(np.int64).max)
    np.minimum.at(age, codes, ten["months_observed"].to_numpy())
    K = int(age.max())
    size = np.bincount(codes, minlength=n_c).astype(float)
    T = ten["tenure"].to_numpy()
    lost_in = ten["churned"].to_numpy() & (T <= age[codes])
    lost = np.zeros((n_c, K + 1))
    np.add.at(lost, (codes[lost_in], T[lost_in]), 1.0)
    table = size[:, None] - np.cumsum(lost, axis=1)
    table[np.arange(K + 1)[None, :] > age[:, None]] = np.nan
    return pd.DataFrame(table, index=idx, columns=pd.RangeIndex(K + 1, name=None))


# ----------------------------------------------------------------------------
# Kaplan-Meier
# ----------------------------------------------------------------------------

def _z(ci_level: Any) -> float:
    try:
        lv = float(ci_level)
    except (TypeError, ValueError):
        lv = np.nan
    if not 0 < lv < 1:
        raise ParameterError(f"ci_level must be between 0 and 1 (e.g. 0.95), got {ci_level!r}.")
    return float(stats.norm.ppf(0.5 + lv / 2))


def product_limit(durations: Any, churned: Any, *, ci_level: float = 0.95,
                  ci_method: str = "log-log") -> pd.DataFrame:
    """Kaplan-Meier (product-limit) survival of discrete tenures, with Greenwood confidence intervals.

    ``S(t) = prod_{j <= t} (1 - d_j / n_j)`` where ``d_j`` subscribers cancel
    at tenure ``j`` and ``n_j`` are at risk (tenure ``>= j``, cancelled or
    still active: a subscriber censored at ``k`` survived period ``k``).
    Greenwood's variance ``S(t)^2 sum_{j <= t} d_j / (n_j (n_j - d_j))``.

    Parameters
    ----------
    durations : array-like of int
        Tenure (periods) of each subscriber: ``T`` if ``churned``, else the periods survived so far.
    churned : array-like of bool
        ``True`` if the cancellation was observed.
    ci_level : float, default 0.95
        Confidence level of the pointwise interval.
    ci_method : {"log-log", "plain"}
        ``"log-log"`` (default; Kalbfleisch & Prentice 2002, stays in [0, 1])
        or ``"plain"`` (``S +- z sqrt(var)``, clipped to [0, 1]).

    Returns
    -------
    DataFrame
        Index ``tenure`` 0..max; ``at_risk``, ``churned``, ``censored``,
        ``survival``, ``variance`` (Greenwood), ``lower``, ``upper``.

    Examples
    --------
    >>> km = product_limit([1, 2, 2, 3, 2, 4], [1, 1, 1, 1, 0, 0])
    >>> km[["at_risk", "churned", "survival"]]  # doctest: +NORMALIZE_WHITESPACE
            at_risk  churned  survival
    tenure
    0             6        0  1.000000
    1             6        1  0.833333
    2             5        2  0.500000
    3             2        1  0.250000
    4             1        0  0.250000
    """
    if ci_method not in ("log-log", "plain"):
        raise ParameterError(f"ci_method must be 'log-log' or 'plain', got {ci_method!r}.")
    z = _z(ci_level)
    d, _ = _periods(np.asarray(durations, dtype=float).ravel(), "durations", 0)
    e = np.asarray(churned).ravel().astype(bool)
    if d.size != e.size:
        raise ParameterError(f"durations ({d.size}) and churned ({e.size}) must have the same length.")
    if d.size == 0:
        raise DataValidationError("durations: no subscriber given.")
    K = int(d.max())
    ev = np.bincount(d[e], minlength=K + 1)
    ce = np.bincount(d[~e], minlength=K + 1)
    at_risk = np.cumsum((ev + ce)[::-1])[::-1]
    q = ev / at_risk
    surv = np.cumprod(1.0 - q)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(ev > 0, ev / (at_risk * (at_risk - ev)), 0.0)  # inf once everyone is gone (S = 0)
        cum = np.cumsum(terms)
        var = np.where(surv > 0, surv**2 * cum, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ci_method == "plain":
            half = z * np.sqrt(var)
            lower, upper = np.clip(surv - half, 0, 1), np.clip(surv + half, 0, 1)
        else:
            se_loglog = np.sqrt(cum) / np.abs(np.log(surv))
            inner = (surv > 0) & (surv < 1)
            lower = np.where(inner, surv ** np.exp(z * se_loglog), surv)
            upper = np.where(inner, surv ** np.exp(-z * se_loglog), surv)
    return pd.DataFrame({"at_risk": at_risk, "churned": ev, "censored": ce, "survival": surv,
                         "variance": var, "lower": lower, "upper": upper},
                        index=pd.RangeIndex(K + 1, name="tenure"))


def kaplan_meier(subscriptions: pd.DataFrame, *, as_of: Any, group_col: str | None = None,
                 ci_level: float = 0.95, ci_method: str = "log-log", start_col: str = "start_date",
                 end_col: str = "end_date", id_col: str | None = "subscription_id") -> pd.DataFrame:
    """Kaplan-Meier survival of subscription tenure (months) by group, right-censoring handled.

    Tenures come from :func:`subscription_tenures`; each group's curve from
    :func:`product_limit`. ``survival`` at tenure ``t`` estimates
    ``P(T > t)``, the same quantity as :meth:`SBGModel.survival`.

    Parameters
    ----------
    subscriptions : DataFrame
        See :func:`subscription_tenures`.
    as_of : date-like
        Last day of observation.
    group_col : str, optional
        One curve per value of this column (e.g. ``"plan"``, ``"channel"``);
        ``None``: one curve, group ``"all"``.
    ci_level, ci_method
        See :func:`product_limit`.
    start_col, end_col, id_col : str
        Column names.

    Returns
    -------
    DataFrame
        Long: ``group``, ``tenure`` (months), ``at_risk``, ``churned``,
        ``censored``, ``survival``, ``variance``, ``lower``, ``upper``.

    Raises
    ------
    ParameterError
        ``group_col`` is not a column.

    Examples
    --------
    >>> from relmkt_helpers.datasets import load_sample_shop
    >>> km = kaplan_meier(load_sample_shop().subscriptions, as_of="2025-12-31", group_col="plan")
    >>> km.groupby("group")["at_risk"].first().to_dict()
    {'basic': 3303, 'plus': 1460}
    """
    _check_group_col(subscriptions, group_col)
    ten = subscription_tenures(subscriptions, as_of=as_of, start_col=start_col, end_col=end_col, id_col=id_col)
    grp = _groups(ten, group_col)
    parts = []
    for g in sorted(grp.unique()):
        sel = (grp == g).to_numpy()
        km = product_limit(ten["tenure"].to_numpy()[sel], ten["churned"].to_numpy()[sel],
                           ci_level=ci_level, ci_method=ci_method)
        parts.append(km.reset_index().assign(group=g))
    out = pd.concat(parts, ignore_index=True)
    return out[["group", "tenure", "at_risk", "churned", "censored", "survival", "variance", "lower", "upper"]]


def median_survival(km: pd.DataFrame) -> pd.Series:
    """Median tenure per group: the smallest tenure with Kaplan-Meier survival ``<= 0.5`` (``inf`` if not reached).

    Parameters
    ----------
    km : DataFrame
        From :func:`kaplan_meier` (long, with ``group``) or :func:`product_limit` (one curve).

    Returns
    -------
    Series
        Index ``group``; months (float, ``inf`` when the curve stays above 0.5).

    Examples
    --------
    >>> median_survival(product_limit([1, 2, 2, 3, 2, 4], [1, 1, 1, 1, 0, 0])).to_dict()
    {'all': 2.0}
    """
    if not isinstance(km, pd.DataFrame) or "survival" not in km.columns:
        raise ParameterError("km must be the DataFrame returned by kaplan_meier() or product_limit().")
    df = km if "group" in km.columns else km.reset_index().assign(group=ALL)
    if "tenure" not in df.columns:
        raise ParameterError("km must have a 'tenure' column or index (from kaplan_meier() or product_limit()).")
    out = {}
    for g, part in df.groupby("group", sort=True):
        hit = part.loc[part["survival"] <= 0.5, "tenure"]
        out[g] = float(hit.min()) if len(hit) else float("inf")
    return pd.Series(out, name="median_tenure", dtype=float).rename_axis("group")


# ----------------------------------------------------------------------------
# everything for the notebook
# ----------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class ContractualChurnResult:
    """Everything :func:`contractual_churn` computed.

    Attributes
    ----------
    as_of : Timestamp
        Last day of observation.
    group_col : str or None
        Column the subscriptions were split by.
    discount : float
        Discount rate per month.
    tenures : DataFrame
        :func:`subscription_tenures` plus ``group``.
    survivors : DataFrame
        :func:`survivor_table` by ``(group, cohort)``.
    models : dict of str to SBGModel
        Fitted sBG per group (``"all"`` first when included); a group whose fit
        failed is missing and explained in ``notes``.
    sbg : DataFrame
        One row per group: counts, ``alpha``, ``beta`` (and ``_se``),
        ``log_likelihood``, retention rates, survival at 12 and 24 months,
        median tenure (sBG and Kaplan-Meier), margin and values.
    projection : DataFrame
        Long: ``group``, ``period`` 0..horizon, sBG ``survival`` and
        ``retention_rate``, the observed ones (NaN beyond the data), ``in_data``.
    km : DataFrame
        :func:`kaplan_meier` by group.
    km_median : Series
        :func:`median_survival` of ``km``.
    value_by_tenure : DataFrame
        Long: ``group``, ``tenure`` 1..max_tenure, ``renewals``,
        ``renewal_probability``, ``derl``, ``residual_value``.
    notes : tuple of str
        What was skipped and why.
    """

    as_of: pd.Timestamp
    group_col: str | None
    discount: float
    tenures: pd.DataFrame
    survivors: pd.DataFrame
    models: dict[str, SBGModel]
    sbg: pd.DataFrame
    projection: pd.DataFrame
    km: pd.DataFrame
    km_median: pd.Series
    value_by_tenure: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def summary(self) -> pd.DataFrame:
        """The per-group table ``sbg``."""
        return self.sbg

    @property
    def headline(self) -> dict[str, Any]:
        """Flat ``contractual_<group>_<figure> -> number`` for :func:`relmkt_helpers.save_metrics`.

        Figures: ``alpha``, ``beta``, ``retention_month_1``, ``retention_month_12``,
        ``survival_month_12``, ``median_months_km`` and ``clv_new`` (None when not finite).
        """
        out: dict[str, Any] = {}
        for g, row in self.sbg.iterrows():
            for col in ("alpha", "beta", "retention_month_1", "retention_month_12", "survival_month_12",
                        "median_months_km", "clv_new"):
                v = float(row[col])
                out[f"contractual_{g}_{col}"] = v if np.isfinite(v) else None
        return out

    def _repr_html_(self) -> str:
        return self.sbg._repr_html_()


def contractual_churn(subscriptions: pd.DataFrame, *, as_of: Any, group_col: str | None = "plan",
                      include_all: bool = True, discount: float = 0.01, margin_rate: float = 1.0,
                      price_col: str | None = "monthly_price", max_tenure: int = 36, horizon: int = 36,
                      ci_level: float = 0.95, start_col: str = "start_date", end_col: str = "end_date",
                      id_col: str | None = "subscription_id") -> ContractualChurnResult:
    """Contractual churn of a subscription table: sBG per group, projections, Kaplan-Meier, value by tenure.

    Time unit: **months**. Each group's sBG is fitted to the exact tenure of
    every subscription (:meth:`SBGModel.fit_durations`): the multi-cohort
    likelihood, each monthly start cohort right-censored at its age. When
    ``as_of`` is a month's last day this is the same likelihood as
    :func:`fit_sbg` on :func:`survivor_table`.

    Parameters
    ----------
    subscriptions : DataFrame
        From :func:`relmkt_helpers.load_subscriptions` (``end_date`` empty = active).
    as_of : date-like
        Last day of observation (inclusive), e.g. ``"2025-12-31"`` for the sample shop.
    group_col : str or None, default "plan"
        Split by this column (``"plan"``, ``"channel"``); None: one group.
    include_all : bool, default True
        Also fit all subscriptions together (group ``"all"``, first).
    discount : float, default 0.01
        Discount rate per month (0.01 = about 12.7 % a year).
    margin_rate : float, default 1.0
        Margin as a share of the price.
    price_col : str or None, default "monthly_price"
        Price per month; a group's margin per month is ``margin_rate`` times its
        mean price. None: margin 1 per month (values in months of margin).
    max_tenure : int, default 36
        Last tenure (months) in ``value_by_tenure``.
    horizon : int, default 36
        Last month of ``projection``.
    ci_level : float, default 0.95
        Kaplan-Meier confidence level.
    start_col, end_col, id_col : str
        Column names.

    Returns
    -------
    ContractualChurnResult

    Raises
    ------
    ParameterError
        Unknown ``group_col`` or ``price_col``, bad numbers.
    DataValidationError
        Bad dates, an end before its start (rows named), no subscriptions.

    Examples
    --------
    >>> from relmkt_helpers.datasets import load_sample_shop
    >>> res = contractual_churn(load_sample_shop().subscriptions, as_of="2025-12-31")
    >>> list(res.models), res.sbg.loc["basic", "subscriptions"]
    (['all', 'basic', 'plus'], np.int64(3303))
    """
    _check_group_col(subscriptions, group_col)
    if price_col is not None and isinstance(subscriptions, pd.DataFrame) and price_col not in subscriptions.columns:
        raise ParameterError(
            f"price_col={price_col!r} is not a column of the subscription table ({list(map(str, subscriptions.columns))}); "
            "name the monthly price column, or pass price_col=None to value subscribers in months of margin."
        )
    d = _check_discount(discount)
    try:
        mr = float(margin_rate)
    except (TypeError, ValueError):
        mr = np.nan
    if not np.isfinite(mr) or mr < 0:
        raise ParameterError(f"margin_rate must be a number >= 0 (share of the price), got {margin_rate!r}.")
    k_max = _check_int(max_tenure, "max_tenure", 1)
    h = _check_int(horizon, "horizon", 1)
    ten = subscription_tenures(subscriptions, as_of=as_of, start_col=start_col, end_col=end_col, id_col=id_col)
    ten["group"] = _groups(ten, group_col)
    if price_col is not None:
        price = pd.to_numeric(ten[price_col], errors="coerce")
        if price.isna().any() or (price < 0).any():
            bad = (price.isna() | (price < 0)).to_numpy()
            raise DataValidationError(f"subscriptions: column {price_col!r} needs prices >= 0; found "
                                      f"{_row_names(ten, bad, id_col, [price_col])}.")
        ten["_price"] = price.astype(float)
    else:
        ten["_price"] = 1.0
    groups = sorted(ten["group"].unique())
    selections = ([(ALL, np.ones(len(ten), dtype=bool))] if include_all and group_col is not None else []) + \
        [(g, (ten["group"] == g).to_numpy()) for g in groups]
    survivors = survivor_table(subscriptions, as_of=as_of, group_col=group_col, start_col=start_col,
                               end_col=end_col, id_col=id_col)
    km_parts, models, rows, proj, values, notes = [], {}, [], [], [], []
    for g, sel in selections:
        part = ten.loc[sel]
        km = product_limit(part["tenure"].to_numpy(), part["churned"].to_numpy(), ci_level=ci_level)
        km_parts.append(km.reset_index().assign(group=g))
        median_km = median_survival(km).iloc[0]
        margin = mr * float(part["_price"].mean())
        row: dict[str, Any] = {"group": g, "subscriptions": len(part), "churned": int(part["churned"].sum()),
                               "active": int((~part["churned"]).sum()),
                               "max_months_observed": int(part["months_observed"].max()),
                               "median_months_km": median_km, "margin_per_month": margin}
        try:
            m = SBGModel().fit_durations(part["tenure"].to_numpy(), part["churned"].to_numpy())
        except (SBGConvergenceError, DataValidationError) as exc:
            notes.append(f"group {g!r}: no sBG fit ({exc})")
            rows.append(row)
            continue
        models[g] = m
        se = m.standard_errors_
        row.update({"alpha": m.alpha_, "beta": m.beta_, "alpha_se": se["alpha"], "beta_se": se["beta"],
                    "log_likelihood": m.log_likelihood_,
                    "churn_month_1": m.churn_probability(1),
                    "retention_month_1": m.retention_rate(1), "retention_month_12": m.retention_rate(12),
                    "survival_month_12": m.survival(12), "survival_month_24": m.survival(24),
                    "median_months_sbg": m.median_lifetime(),
                    "clv_new": m.clv(margin, d), "residual_value_month_12": margin * m.derl(d, 11)})
        rows.append(row)
        proj.append(m.projection(h).reset_index().assign(group=g))
        values.append(m.value_by_tenure(margin, d, k_max).reset_index().assign(group=g))
    if not models:
        raise SBGConvergenceError("no group could be fitted: " + "; ".join(notes))
    cols = ["subscriptions", "churned", "active", "max_months_observed", "alpha", "alpha_se", "beta", "beta_se",
            "log_likelihood", "churn_month_1", "retention_month_1", "retention_month_12", "survival_month_12",
            "survival_month_24", "median_months_sbg", "median_months_km", "margin_per_month", "clv_new",
            "residual_value_month_12"]
    sbg = pd.DataFrame(rows).set_index("group").reindex(columns=cols)
    km_all = pd.concat(km_parts, ignore_index=True)
    km_all = km_all[["group", "tenure", "at_risk", "churned", "censored", "survival", "variance", "lower", "upper"]]
    projection = pd.concat(proj, ignore_index=True)
    projection = projection[["group"] + [c for c in projection.columns if c != "group"]]
    vbt = pd.concat(values, ignore_index=True)
    vbt = vbt[["group"] + [c for c in vbt.columns if c != "group"]]
    return ContractualChurnResult(
        as_of=pd.Timestamp(_as_day(as_of, "as_of")), group_col=group_col, discount=d,
        tenures=ten.drop(columns="_price"), survivors=survivors, models=models, sbg=sbg,
        projection=projection, km=km_all, km_median=median_survival(km_all), value_by_tenure=vbt,
        notes=tuple(notes))
