"""Repeat-purchase models (BG/NBD, Pareto/NBD, MBG/NBD) and the Gamma-Gamma spend model.

The estimators follow lifelines' convention: ``fit()`` returns ``self``, the
fitted state ends in ``_`` and ``summary`` is a DataFrame property. The
optimisation itself is done by lifetimes' fitters (kept in ``fitter_``); the
kit adds what lifetimes lacks:

* **Fit on unique rows.** Customers with the same ``(frequency, recency, T)``
  (or, for spend, ``(frequency, monetary_value)``) have the same likelihood, so
  the table is compressed to its unique rows with their counts as weights
  before fitting. The likelihood is identical and the fit is much faster.
* **Pareto/NBD from a good start.** lifetimes' Pareto/NBD fitter runs
  Nelder-Mead from a random point and evaluates a hypergeometric function per
  row hundreds of times. The kit first maximises its own log-likelihood (the
  same function, with the hypergeometric terms computed once per distinct
  ``(frequency, recency)`` and ``(frequency, T)`` pair): by BFGS, on a fixed
  random thinning of about 50,000 customers when the table has more than
  50,000 unique rows, then by Newton steps (numerical Hessian) on the whole
  table. lifetimes' Nelder-Mead is then started inside a tiny simplex at that
  point: lifetimes' fitter finishes the fit (and would walk on if the point
  were not the optimum), and the checks below verify the result.
* **The full log-likelihood as printed in the papers**, from the kit's own
  vectorised formulas (``log_likelihood_``), and ``aic_``.
* **Standard errors from the kit's own numerical Hessian** of that
  log-likelihood at the optimum (lifetimes' ``variance_matrix_`` is not
  symmetric on CDNOW, and its Pareto/NBD fitter computes none). The Hessian is
  taken in log-parameter space, ``theta = log(params)``; its inverse is the
  covariance of ``theta`` (``variance_matrix_log_``, used by the bootstrap of
  :func:`relmkt_helpers.clv.value.customer_value`) and the delta method gives
  the covariance of the parameters, ``variance_matrix_ = D cov(theta) D`` with
  ``D = diag(params)``. At the optimum (zero gradient) this equals the inverse
  of the Hessian in natural space. The 95 % intervals in ``summary`` are
  ``exp(theta +/- 1.96 se(theta))``, so they stay positive.
* **Convergence checks.** A fit raises :class:`ConvergenceError` when the
  optimiser fails, the log-likelihood is not finite, a parameter runs to an
  absurd value (below 1e-6 or above 1e6 with time rescaled so that the oldest
  customer's age is 1, as lifetimes does), the Hessian is not positive definite
  (a flat likelihood: the parameters are not identified), or the optimiser
  stopped short of the maximum. "Short" is measured by the Newton decrement
  ``g' H^-1 g / 2`` (the log-likelihood still to gain, estimated from the
  gradient ``g`` and Hessian ``H``): above 1e-4 the fitter is restarted from
  where it stopped (at most three restarts) and then an error is raised.

Time units are those of the summary table (``summary.attrs["unit_days"]`` days
per unit, 7 by default): ``recency``, ``T`` and every ``t`` argument are in
these units, and ``alpha`` and ``beta`` are rates per unit. ``frequency`` is
the number of *repeat* purchase periods (the first purchase is not counted),
as in lifetimes and the papers.

Penalizer: the objective minimised is ``-LL / N + penalizer * sum(params**2)``
with ``N`` customers and the parameters in lifetimes' rescaled time (the
convention of lifetimes' BG/NBD and Gamma-Gamma fitters). lifetimes' Pareto/NBD
fitter scales its objective differently; the kit converts the penalizer so
that the same number means the same thing for all three models, compressed or
not. With a penalizer, standard errors come from the Hessian of the penalised
objective (a Laplace approximation around the penalised estimate).

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting your customers"
the easy way: An alternative to the Pareto/NBD model. *Marketing Science*
24(2), 275-284 (BG/NBD: likelihood eq. 6, P(X(t)=x) eq. 8, E[X(t)] eq. 9,
conditional expectation eq. 10).
Fader, P. S. & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model
and related expressions. http://brucehardie.com/notes/009/ (likelihood eqs.
18-20, E[X(t)] eq. 27, P(alive) eq. 37, conditional expectation eq. 41).
Schmittlein, D. C., Morrison, D. G. & Colombo, R. (1987). Counting your
customers: Who are they and what will they do next? *Management Science*
33(1), 1-24.
Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). Empirical validation and
comparison of models for customer base analysis. *International Journal of
Research in Marketing* 24(3), 201-209 (MBG/NBD).
Fader, P. S. & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary
value. http://www.brucehardie.com/notes/025/ (likelihood eq. 1a, conditional
expectation eq. 5).

Examples
--------
>>> from relmkt_helpers.clv.models import RepeatPurchaseModel
>>> bg = RepeatPurchaseModel.from_params("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
>>> round(float(bg.conditional_expected_purchases(39, 2, 30.43, 38.86)), 3)
1.226
"""
from __future__ import annotations

import contextlib
import io
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Sequence

import numpy as np
import pandas as pd
from scipy import integrate, special, stats

from ..errors import ConvergenceError, DataValidationError, ParameterError
from .prep import compress_summary

__all__ = [
    "ConvergenceError",
    "NotFittedError",
    "RepeatPurchaseModel",
    "SpendModel",
    "compare_models",
]

#: Newton decrement (log-likelihood units) below which a fit counts as converged.
_DECREMENT_TOL = 1e-4
#: Restarts of the lifetimes fitter from where it stopped, before giving up.
_MAX_RESTARTS = 3
#: Rescaled parameters outside [1/_ABSURD, _ABSURD] mean the fit ran away (a shape parameter of 1e4
#: is a population without heterogeneity: the model's limit, not an estimate).
_ABSURD = 1e4
_Z95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975)
#: Relative size of the Nelder-Mead simplex placed around the quick Pareto/NBD optimum.
_SIMPLEX_STEP = 1e-5
#: Pareto/NBD on more unique rows than this starts from a fit to a thinning of about _SUBSAMPLE customers.
_SUBSAMPLE_ROWS = 50_000
_SUBSAMPLE = 50_000
#: Unique rows per block of holdout forecasts in compare_models (bounds Pareto/NBD's quadrature memory).
_FORECAST_BLOCK = 50_000


class NotFittedError(ParameterError):
    """A model was used before ``fit()`` (or ``from_params``).

    Examples
    --------
    >>> issubclass(NotFittedError, ParameterError)
    True
    """


@dataclass(frozen=True)
class _Spec:
    label: str
    params: tuple[str, ...]
    time_params: tuple[str, ...]  # rates per time unit: rescaled by lifetimes
    fitter: str  # class name in lifetimes


_SPECS: dict[str, _Spec] = {
    "bgnbd": _Spec("BG/NBD", ("r", "alpha", "a", "b"), ("alpha",), "BetaGeoFitter"),
    "pnbd": _Spec("Pareto/NBD", ("r", "alpha", "s", "beta"), ("alpha", "beta"), "ParetoNBDFitter"),
    "mbgnbd": _Spec("MBG/NBD", ("r", "alpha", "a", "b"), ("alpha",), "ModifiedBetaGeoFitter"),
}
_GG_PARAMS = ("p", "q", "gamma")
_EXTRA_HINT = {
    "bgnbd": " If customers hardly ever drop out, or drop-out is not tied to purchases, try 'pnbd'.",
    "mbgnbd": " If customers hardly ever drop out, or drop-out is not tied to purchases, try 'pnbd'.",
    "pnbd": " Pareto/NBD cannot separate the spread of drop-out rates across customers when everyone was "
            "observed for about as long (similar T): try 'bgnbd', or a longer acquisition window.",
}


def _lifetimes_class(name: str) -> type:
    """Import a lifetimes fitter lazily, undoing the warning filters lifetimes sets at import.

    Importing lifetimes also sets ``pd.options.mode.chained_assignment = None``
    (a no-op on pandas 3 that warns); the warning is silenced here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import lifetimes  # noqa: PLC0415  (slow import: only when fitting)

    return getattr(lifetimes, name)


# ----------------------------------------------------------------------------
# the formulas (vectorised; parameters may be arrays that broadcast with the data)
# ----------------------------------------------------------------------------

def _ll_terms(kind: str, P: Mapping[str, Any], x, tx, T, pairs: "_Pairs | None" = None):
    """``(A, t1, t2)`` with per-customer log-likelihood ``A + logaddexp(t1, t2)``.

    ``t1`` is the "still alive at T" branch and ``t2`` the "dropped out after
    the last purchase" branch, so ``P(alive) = expit(t1 - t2)``.
    """
    r, alpha = P["r"], P["alpha"]
    x = np.asarray(x, dtype=float)
    A = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    if kind == "pnbd":
        s, beta = P["s"], P["beta"]
        A = A + s * np.log(beta)
        t1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        t2 = np.log(s) - np.log(r + s + x) + _pnbd_log_a0(r, alpha, s, beta, x, tx, T, pairs)
        return A, t1, t2
    a, b = P["a"], P["b"]
    if kind == "bgnbd":  # FHL (2005) eq. 6: no drop-out before the first repeat purchase
        xs = np.maximum(x, 1.0)
        t1 = special.betaln(a, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
        t2 = special.betaln(a + 1, b + xs - 1) - special.betaln(a, b) - (r + x) * np.log(alpha + tx)
        t2 = np.where(x > 0, t2, -np.inf)
    else:  # MBG/NBD (Batislam et al. 2007): drop-out possible at time 0 too
        t1 = special.betaln(a, b + x + 1) - special.betaln(a, b) - (r + x) * np.log(alpha + T)
        t2 = special.betaln(a + 1, b + x) - special.betaln(a, b) - (r + x) * np.log(alpha + tx)
    return A, t1, t2


def _log_hyp2f1_a_a1(a, b, z):
    """``log 2F1(a, b; a + 1; z)`` for ``0 <= z < 1`` through Euler's transformation.

    ``2F1(a, b; a+1; z) = (1-z)^(1-b) 2F1(1, a+1-b; a+1; z)``; the second series
    has positive terms no larger than ``z^n`` whenever ``a + 1 - b > 0`` (always
    the case in the Pareto/NBD likelihood), so it is well conditioned.
    """
    return (1.0 - b) * np.log1p(-z) + np.log(special.hyp2f1(1.0, a + 1.0 - b, a + 1.0, z))


@dataclass(frozen=True)
class _Pairs:
    """Unique ``(x, t_x)`` and ``(x, T)`` pairs of a table, for the Pareto/NBD hypergeometric terms.

    ``A_0`` is a difference of two terms, one a function of ``(x, t_x)`` and one
    of ``(x, T)``; each pair takes far fewer distinct values than the triples, so
    computing ``2F1`` per pair and gathering makes the likelihood several times
    faster on large tables.
    """

    x_tx: np.ndarray
    tx: np.ndarray
    inv_tx: np.ndarray
    x_T: np.ndarray
    T: np.ndarray
    inv_T: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> "_Pairs":
        (a, b), _, ia = _compress([x, tx])
        (c, d), _, ic = _compress([x, T])
        return cls(a, b, ia, c, d, ic)


@dataclass(frozen=True)
class _RowIndex:
    """A weighted ``(x, t_x, T)`` table with the distinct values of each column, for fast likelihoods.

    Terms that depend on ``x`` alone (gamma and beta functions), on ``T`` alone
    or on ``t_x`` alone are computed once per distinct value and gathered.
    """

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    w: np.ndarray
    xv: np.ndarray
    ix: np.ndarray
    wx: np.ndarray  # total weight per distinct x
    Tv: np.ndarray
    iT: np.ndarray
    txv: np.ndarray
    itx: np.ndarray
    pairs: _Pairs | None

    @classmethod
    def of(cls, x: np.ndarray, tx: np.ndarray, T: np.ndarray, w: np.ndarray, *, pairs: bool) -> "_RowIndex":
        xv, ix = np.unique(x, return_inverse=True)
        Tv, iT = np.unique(T, return_inverse=True)
        txv, itx = np.unique(tx, return_inverse=True)
        return cls(x, tx, T, w, xv, ix, np.bincount(ix, weights=w, minlength=xv.size), Tv, iT, txv, itx,
                   _Pairs.of(x, tx, T) if pairs else None)


def _loglik_sum(kind: str, P: Mapping[str, float], idx: _RowIndex) -> float:
    """``sum(w * loglik)`` for scalar parameters: :func:`_loglik` reorganised for speed."""
    r, alpha = P["r"], P["alpha"]
    xv, ix, x = idx.xv, idx.ix, idx.x
    A = special.gammaln(r + xv) - special.gammaln(r) + r * np.log(alpha)
    lT, ltx = np.log(alpha + idx.Tv)[idx.iT], np.log(alpha + idx.txv)[idx.itx]
    if kind == "pnbd":
        s, beta = P["s"], P["beta"]
        A = A + s * np.log(beta)
        t1 = -(r + x) * lT - s * np.log(beta + idx.Tv)[idx.iT]
        t2 = (np.log(s) - np.log(r + s + xv))[ix] + _pnbd_log_a0(r, alpha, s, beta, x, idx.tx, idx.T, idx.pairs)
    else:
        a, b = P["a"], P["b"]
        if kind == "bgnbd":
            xs = np.maximum(xv, 1.0)
            b1 = special.betaln(a, b + xv) - special.betaln(a, b)
            b2 = np.where(xv > 0, special.betaln(a + 1, b + xs - 1) - special.betaln(a, b), -np.inf)
        else:
            b1 = special.betaln(a, b + xv + 1) - special.betaln(a, b)
            b2 = special.betaln(a + 1, b + xv) - special.betaln(a, b)
        t1 = b1[ix] - (r + x) * lT
        t2 = b2[ix] - (r + x) * ltx
    return float(idx.wx @ A + idx.w @ np.logaddexp(t1, t2))


def _exp_sinh(step: float = 1.0 / 12, lo: float = -4.5, hi: float = 3.5) -> tuple[np.ndarray, np.ndarray]:
    """Exp-sinh rule for ``int_0^inf``: nodes ``u = exp(pi/2 sinh(t))`` and log-weights ``log(du/dt * step)``."""
    tau = np.arange(lo, hi + step / 2, step)
    y = np.pi / 2 * np.sinh(tau)
    return y, y + np.log(np.pi / 2 * np.cosh(tau) * step)  # log u, log weight


_ES_LOGU, _ES_LOGW = _exp_sinh()


def _pnbd_log_tail(r, alpha, s, beta, x, y):
    """``log[(r+s+x) int_y^inf (alpha+tau)^-(r+x) (beta+tau)^-(s+1) dtau]`` by exp-sinh quadrature (vectorised).

    This integral is what the hypergeometric term of ``A_0`` stands for (the
    customer drops out at ``tau > y``): ``2F1(r+s+x, k; r+s+x+1; |alpha-beta|/(m+y))
    / (m+y)^(r+s+x)`` equals it exactly (substitute ``t = |alpha-beta|/(m+tau)``).
    Used where scipy's ``hyp2f1`` is slow or fails (``r+s+x > 200`` with its
    argument above 0.9, where it returns NaN). The integration variable is scaled by the
    integrand's decay length at ``tau = y`` so the rule sees a unit-scale function
    with algebraic decay, which exp-sinh integrates to near machine precision.
    """
    p, q = r + x, s + 1.0
    ay, by = alpha + y, beta + y
    scale = 1.0 / (p / ay + q / by)
    log_u = np.log(scale)[..., None] + _ES_LOGU
    u = np.exp(log_u)
    terms = (-p[..., None] * np.log1p(u / ay[..., None]) - q[..., None] * np.log1p(u / by[..., None])
             + np.log(scale)[..., None] + _ES_LOGW)
    return np.log(r + s + x) - p * np.log(ay) - q * np.log(by) + special.logsumexp(terms, axis=-1)


def _pnbd_log_a0(r, alpha, s, beta, x, tx, T, pairs: _Pairs | None = None):
    """``log A_0`` of Fader & Hardie's Pareto/NBD note (eqs. 19 and 20)."""
    a_ge_b = alpha >= beta
    m = np.where(a_ge_b, alpha, beta)
    d = np.abs(alpha - beta)

    def f(xx, y):
        rsx = r + s + xx
        k = np.where(a_ge_b, s + 1.0, r + xx)
        z = d / (m + y)
        # scipy's hyp2f1 is slow, then NaN, for large parameters near z = 1: integrate there instead
        hard = (rsx > 200) & (z > 0.9)
        with np.errstate(all="ignore"):
            val = np.where(hard, np.nan, _log_hyp2f1_a_a1(rsx, k, np.where(hard, 0.0, z)) - rsx * np.log(m + y))
        bad = ~np.isfinite(val)
        if bad.any():
            args = [np.asarray(v, dtype=float)[bad] for v in np.broadcast_arrays(r, alpha, s, beta, xx, y)]
            val[bad] = _pnbd_log_tail(*args)
        return val

    if pairs is not None:
        f_tx, f_T = f(pairs.x_tx, pairs.tx)[pairs.inv_tx], f(pairs.x_T, pairs.T)[pairs.inv_T]
    else:
        f_tx, f_T = f(x, tx), f(x, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        return f_tx + np.log1p(-np.exp(np.minimum(f_T - f_tx, 0.0)))


def _loglik(kind: str, P: Mapping[str, Any], x, tx, T, pairs: _Pairs | None = None) -> np.ndarray:
    """Per-customer log-likelihood (the full one, as printed in the papers)."""
    A, t1, t2 = _ll_terms(kind, P, x, tx, T, pairs)
    return A + np.logaddexp(t1, t2)


def _p_alive(kind: str, P: Mapping[str, Any], x, tx, T) -> np.ndarray:
    """P(alive at T | x, t_x, T): ``expit(t1 - t2)`` of :func:`_ll_terms`.

    For BG/NBD and MBG/NBD the beta functions cancel to a ratio, so the closed
    form ``1 / (1 + a/(b + x - 1) ((alpha+T)/(alpha+t_x))^(r+x))`` (FHL 2005 eq.
    13; MBG/NBD: ``b + x`` instead of ``b + x - 1``) is used: no special functions,
    which matters in the CLV bootstrap (draws x customers evaluations).
    """
    x = np.asarray(x, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "pnbd":
            _, t1, t2 = _ll_terms(kind, P, x, tx, T)
            return special.expit(t1 - t2)
        r, alpha, a, b = P["r"], P["alpha"], P["a"], P["b"]
        bx = b + x - 1.0 if kind == "bgnbd" else b + x
        log_odds_dead = (np.log(a) - np.log(np.where(bx > 0, bx, 1.0))
                         + (r + x) * np.log1p((np.asarray(T, dtype=float) - tx) / (alpha + tx)))
        pa = special.expit(-log_odds_dead)
        return np.where(x > 0, pa, 1.0) if kind == "bgnbd" else pa


def _one_minus_pow_over(c, log_base):
    """``(1 - base**c) / c`` with its limit ``-log(base)`` at ``c = 0``."""
    c = np.asarray(c, dtype=float)
    safe = np.where(np.abs(c) < 1e-10, 1.0, c)
    return np.where(np.abs(c) < 1e-10, -log_base, -np.expm1(c * log_base) / safe)


def _hyp2f1(a, b, c, z):
    """scipy's ``hyp2f1``, with the Gauss series summed directly where it returns inf or NaN.

    scipy 1.17 returns ``inf`` when ``c - a - b`` is exactly an integer and ``c`` is
    large (for example BG/NBD with ``r == a`` exactly and ``x = 97``); the series
    converges for ``|z| < 1`` and, with large ``c``, quickly.
    """
    out = np.asarray(special.hyp2f1(a, b, c, z), dtype=float)
    bad = ~np.isfinite(out)
    if bad.any():
        out = out.copy()
        aa, bb, cc, zz = (np.broadcast_to(v, out.shape)[bad].astype(float) for v in (a, b, c, z))
        term = np.ones_like(zz)
        total = np.ones_like(zz)
        for n in range(1_000_000):
            term = term * (aa + n) * (bb + n) / ((cc + n) * (n + 1)) * zz
            total += term
            if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
                break
        out[bad] = total
    return out


def _bg_growth(P, c, x, z):
    """``c/(a-1) [1 - (1-z)^(a-1) 2F1(c-r-x, a-1; c; z)]``: BG/MBG expected purchases per alive customer.

    This is FHL (2005) eq. 10's bracket after Euler's transformation
    ``2F1(r+x, b'; c; z) = (1-z)^(c-r-x-b') 2F1(c-r-x, c-b'; c; z)``, which keeps the
    hypergeometric function near 1 even for large ``x`` (lifetimes' direct form
    overflows there).
    """
    r, a = P["r"], P["a"]
    am1 = a - 1.0
    am1 = np.where(np.abs(am1) < 1e-8, np.copysign(1e-8, am1), am1)  # a = 1 is a removable 0/0
    log_pw = am1 * np.log1p(-z)
    f_minus_1 = _hyp2f1(c - r - x, am1, c, z) - 1.0  # may be negative (c < 0 when a + b < 1)
    # 1 - (1-z)^(a-1) F = [1 - (1-z)^(a-1)] - (1-z)^(a-1) (F - 1): both parts are O(a - 1)
    return c / am1 * (-np.expm1(log_pw) - np.exp(log_pw) * f_minus_1)


def _alive_growth(kind: str, P: Mapping[str, Any], t, x, T) -> np.ndarray:
    """Expected purchases in ``(T, T + t]`` of a customer *known to be alive* at ``T``.

    Multiply by P(alive) to get the conditional expectation. Does not depend on recency.
    """
    x = np.asarray(x, dtype=float)
    if kind == "pnbd":  # Fader & Hardie (2005) note, eq. 41 without its P(alive) factor
        r, alpha, s, beta = P["r"], P["alpha"], P["s"], P["beta"]
        return (r + x) * (beta + T) / (alpha + T) * _one_minus_pow_over(
            s - 1.0, np.log(beta + T) - np.log(beta + T + t))
    a, b = P["a"], P["b"]
    c = a + b + x - 1.0 if kind == "bgnbd" else a + b + x
    return _bg_growth(P, c, x, t / (P["alpha"] + T + t))


def _cond_expected(kind: str, P: Mapping[str, Any], t, x, tx, T) -> np.ndarray:
    """E[X(T, T + t] | x, t_x, T]; with ``x = tx = T = 0`` the population E[X(t)]."""
    return _p_alive(kind, P, x, tx, T) * _alive_growth(kind, P, t, x, T)


def _tanh_sinh(step: float = 1.0 / 16, reach: float = 3.2) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tanh-sinh (double-exponential) rule on [-1, 1]: ``(1 + x, 1 - x, weights)``.

    ``1 + x`` and ``1 - x`` are returned separately, computed without
    cancellation, because the integrands are evaluated right next to the ends.
    The rule integrates functions with endpoint singularities such as
    ``(1 - x)^0.01`` to near machine precision.
    """
    tau = np.arange(-reach, reach + step / 2, step)
    y = np.pi / 2 * np.sinh(tau)
    one_minus = 2.0 * special.expit(-2.0 * y)  # 1 - tanh(y)
    one_plus = 2.0 * special.expit(2.0 * y)  # 1 + tanh(y)
    w = step * np.pi / 2 * np.cosh(tau) / np.cosh(y) ** 2
    return one_plus, one_minus, w


_TS_PLUS, _TS_MINUS, _TS_W = _tanh_sinh()


def _cond_p_zero(kind: str, P: Mapping[str, Any], t, x, tx, T) -> np.ndarray:
    """P(no purchase in (T, T + t] | x, t_x, T).

    Given alive at ``T``, lambda's posterior is Gamma(r + x, alpha + T). For
    BG/NBD and MBG/NBD nobody drops out before a purchase, so the customer makes
    none with probability ``((alpha+T)/(alpha+T+t))^(r+x)``. For Pareto/NBD
    (mu's posterior Gamma(s, beta + T), independent of lambda) the time ``U`` to
    the next purchase if the customer lived for ever is Lomax(r + x, alpha + T)
    and survival to ``u`` is ``(1 + u/(beta+T))^-s``, so the probability of a
    purchase within ``t`` is ``int_0^F(t) S(F^-1(v)) dv`` with ``F`` the CDF of
    ``U``; this bounded, monotone integrand (with a power-law end point when
    ``F(t)`` is close to 1) is integrated by tanh-sinh quadrature.
    """
    x = np.asarray(x, dtype=float)
    t = np.asarray(t, dtype=float)
    pa = _p_alive(kind, P, x, tx, T)
    r, alpha = P["r"], P["alpha"]
    ra, aa = r + x, alpha + T
    if kind != "pnbd":
        none_if_alive = np.exp(-ra * np.log1p(t / aa))
    else:
        ba, s = P["beta"] + T, P["s"]
        ra_, aa_, ba_, s_, t_ = (np.asarray(v, dtype=float)[..., None] for v in (ra, aa, ba, s, t))
        tail = np.exp(-ra_ * np.log1p(t_ / aa_))  # 1 - F(t) = P(U > t)
        V = 1.0 - tail
        one_minus_v = tail + V * _TS_MINUS / 2  # 1 - v at the nodes v = V (1 + x) / 2
        u = aa_ * np.expm1(-np.log(one_minus_v) / ra_)  # F^-1(v)
        none_if_alive = 1.0 - V[..., 0] / 2 * (np.exp(-s_ * np.log1p(u / ba_)) @ _TS_W)
    return 1.0 - pa + pa * none_if_alive


def _pmf(kind: str, P: Mapping[str, Any], t: float, n: np.ndarray) -> np.ndarray:
    """P(X(t) = n) for a new customer (repeat purchases in (0, t])."""
    r, alpha = P["r"], P["alpha"]
    n = np.asarray(n, dtype=float)
    if t == 0:
        return (n == 0).astype(float)
    nb = stats.nbinom(r, alpha / (alpha + t))
    if kind == "pnbd":
        # Lifetime tau is Lomax(s, beta); X(t) = NB count over min(tau, t).
        s, beta = P["s"], P["beta"]

        def integrand(u):
            return s / beta * np.exp(-(s + 1) * np.log1p(u / beta)) * stats.nbinom.pmf(n, r, alpha / (alpha + u))

        inner, _ = integrate.quad_vec(integrand, 0.0, t, epsabs=1e-13, epsrel=1e-10)
        return np.exp(-s * np.log1p(t / beta)) * nb.pmf(n) + inner
    a, b = P["a"], P["b"]
    if kind == "bgnbd":  # FHL (2005) eq. 8
        alive = np.exp(special.betaln(a, b + n) - special.betaln(a, b))
        ns = np.maximum(n, 1.0)
        died = np.where(n > 0, np.exp(special.betaln(a + 1, b + ns - 1) - special.betaln(a, b)), 0.0)
    else:  # MBG/NBD
        alive = np.exp(special.betaln(a, b + n + 1) - special.betaln(a, b))
        died = np.exp(special.betaln(a + 1, b + n) - special.betaln(a, b))
    return alive * nb.pmf(n) + died * nb.sf(n - 1)


def _gg_loglik(P: Mapping[str, Any], x, m) -> np.ndarray:
    """Gamma-Gamma log-likelihood of a customer's mean spend ``m`` over ``x`` orders (F&H 2013 eq. 1a)."""
    p, q, g = P["p"], P["q"], P["gamma"]
    px = p * x
    return (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(g)
            + (px - 1) * np.log(m) + px * np.log(x) - (px + q) * np.log(g + x * m))


def _gg_loglik_sum(P: Mapping[str, float], x: np.ndarray, m: np.ndarray, w: np.ndarray,
                   xv: np.ndarray, ix: np.ndarray, wx: np.ndarray, wlogm: float) -> float:
    """``sum(w * _gg_loglik)`` with the ``x``-only terms computed once per distinct ``x``.

    ``wlogm`` is ``sum(w * x * log m)`` and ``wx`` the weight per distinct ``x``;
    ``sum(w * log m)`` is a constant of the data, added by the caller when needed.
    """
    p, q, g = P["p"], P["q"], P["gamma"]
    pxv = p * xv
    per_x = special.gammaln(pxv + q) - special.gammaln(pxv) - special.gammaln(q) + q * np.log(g) + pxv * np.log(xv)
    return float(wx @ per_x + p * wlogm - w @ ((p * x + q) * np.log(g + x * m)))


def _gg_expected_spend(P: Mapping[str, Any], x, m) -> np.ndarray:
    """E[spend per order | x, m] (F&H 2013 eq. 5); the population mean ``p gamma/(q-1)`` when ``x = 0``."""
    p, q, g = P["p"], P["q"], P["gamma"]
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, np.asarray(m, dtype=float), 0.0)
    return p * (g + x * m) / (p * x + q - 1.0)


# ----------------------------------------------------------------------------
# numerical derivatives and the convergence check
# ----------------------------------------------------------------------------

def _grad_hess(f: Callable[[np.ndarray], float], theta: np.ndarray, h: float = 1e-4):
    """Central-difference gradient and Hessian of ``f`` at ``theta`` (symmetric by construction)."""
    k = theta.size
    f0 = f(theta)
    g = np.empty(k)
    H = np.empty((k, k))
    e = np.eye(k) * h
    fp = np.array([f(theta + e[i]) for i in range(k)])
    fm = np.array([f(theta - e[i]) for i in range(k)])
    g[:] = (fp - fm) / (2 * h)
    H[np.diag_indices(k)] = (fp - 2 * f0 + fm) / h**2
    for i in range(k):
        for j in range(i):
            v = (f(theta + e[i] + e[j]) - f(theta + e[i] - e[j]) - f(theta - e[i] + e[j])
                 + f(theta - e[i] - e[j])) / (4 * h**2)
            H[i, j] = H[j, i] = v
    return f0, g, H


def _quick_optimum(objective: Callable[[np.ndarray], float], theta0: np.ndarray, n: float,
                   log_scale: np.ndarray) -> np.ndarray:
    """Minimise ``objective / n`` (penalised -LL per customer) over log-parameters by BFGS.

    Gradients by central differences. Part of the start of lifetimes' Pareto/NBD
    Nelder-Mead. Stops early when a parameter runs away (rescaled by
    ``log_scale``, beyond ``_ABSURD``); the caller checks. A failure here is not
    fatal: the lifetimes fit and the checks that follow decide.
    """
    h = 1e-6

    def fun(th: np.ndarray) -> float:
        v = objective(th) / n
        return v if np.isfinite(v) else 1e300

    def jac(th: np.ndarray) -> np.ndarray:
        e = np.eye(th.size) * h
        return np.array([(fun(th + e[i]) - fun(th - e[i])) / (2 * h) for i in range(th.size)])

    def runaway(intermediate_result: Any) -> None:  # stop BFGS once a parameter runs off
        if np.max(np.abs(intermediate_result.x + log_scale)) > np.log(_ABSURD):
            raise StopIteration

    from scipy.optimize import minimize  # noqa: PLC0415

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(fun, theta0, jac=jac, method="BFGS", options={"gtol": 1e-6, "maxiter": 300},
                       callback=runaway)
    return res.x if np.all(np.isfinite(res.x)) else theta0


def _newton_polish(objective: Callable[[np.ndarray], float], theta: np.ndarray, max_steps: int = 20) -> np.ndarray:
    """Newton steps with the numerical Hessian and step halving, until the Newton decrement is tiny.

    From a start near the maximum (a fit to a thinning of the data) this takes a
    few steps of 33 likelihood evaluations each. Stops quietly where the Hessian
    is not positive definite or no step improves: the checks that follow decide.
    """
    for _ in range(max_steps):
        f0, g, H = _grad_hess(objective, theta)
        if not (np.isfinite(f0) and np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
            break
        try:
            np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            break
        step = -np.linalg.solve(H, g)
        if -0.5 * float(g @ step) < _DECREMENT_TOL / 100:
            break
        t = 1.0
        while t > 1e-4 and not objective(theta + t * step) < f0:
            t /= 2
        if t <= 1e-4:
            break
        theta = theta + t * step
    return theta


def _fit_hint(model_kw: str, n: int, extra: str = "") -> str:
    return (f" Try: a penalizer (for example {model_kw}(..., penalizer=0.001)); another time unit "
            f"(weeks rather than days: rfm_summary(..., freq='W')); or more data (this fit used {n:,} "
            f"customers).{extra}")


def _check_absurd(theta: np.ndarray, log_scale: np.ndarray, names: Sequence[str], label: str, hint: str) -> None:
    """Raise :class:`ConvergenceError` if a rescaled parameter left [1/_ABSURD, _ABSURD]."""
    scaled = theta + log_scale
    bad = [n for n, v in zip(names, scaled) if abs(v) > np.log(_ABSURD)]
    if bad:
        shown = ", ".join(f"{n}={v:.4g}" for n, v in zip(names, np.exp(theta)))
        raise ConvergenceError(
            f"{label} fit did not converge: parameter(s) {bad} ran away to an absurd value ({shown}); "
            "the data do not pin them down." + hint)


def _optimise(*, label: str, fit_once: Callable[[np.ndarray | None], tuple[Any, np.ndarray]],
              objective: Callable[[np.ndarray], float], log_scale: np.ndarray, names: Sequence[str],
              hint: str) -> tuple[Any, np.ndarray, float, np.ndarray, int]:
    """Run ``fit_once`` (a lifetimes fit) with checks and restarts.

    ``objective(theta)`` is the penalised negative log-likelihood in full
    log-likelihood units, ``theta`` = log parameters in model units;
    ``log_scale`` converts ``theta`` to lifetimes' rescaled units for the
    "absurd value" check. Returns ``(fitter, theta, objective, hessian, restarts)``.
    """
    init = None
    for attempt in range(_MAX_RESTARTS + 1):
        fitter, theta = fit_once(init)
        if not np.all(np.isfinite(theta)):
            raise ConvergenceError(f"{label} fit did not converge: the optimiser returned non-finite "
                                   f"parameters {dict(zip(names, np.exp(theta)))}." + hint)
        _check_absurd(theta, log_scale, names, label, hint)
        f0, g, H = _grad_hess(objective, theta)
        if not np.isfinite(f0) or not np.all(np.isfinite(H)):
            raise ConvergenceError(f"{label} fit did not converge: the log-likelihood is not finite at "
                                   f"{dict(zip(names, np.exp(theta)))}." + hint)
        try:
            chol = np.linalg.cholesky(H)
        except np.linalg.LinAlgError:
            chol = None
        if chol is not None:
            step = np.linalg.solve(H, g)
            decrement = 0.5 * float(g @ step)
            if decrement <= _DECREMENT_TOL:
                return fitter, theta, f0, H, attempt
        init = theta
    if chol is None:
        raise ConvergenceError(
            f"{label} fit did not converge: the log-likelihood is flat or not at a maximum "
            f"(Hessian not positive definite) at {dict(zip(names, np.round(np.exp(theta), 6)))}, "
            "so the parameters are not identified." + hint)
    raise ConvergenceError(
        f"{label} fit did not converge: after {_MAX_RESTARTS} restarts the optimiser still stops "
        f"{decrement:.3g} log-likelihood units short of the maximum." + hint)


# ----------------------------------------------------------------------------
# input handling
# ----------------------------------------------------------------------------

def _require_columns(df: Any, cols: Iterable[str], where: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataValidationError(f"{where} needs a DataFrame (one row per customer), got {type(df).__name__}.")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataValidationError(
            f"{where}: the summary table is missing column(s) {missing} (it has {list(map(str, df.columns))}). "
            "Build it with relmkt_helpers.clv.prep.rfm_summary (columns frequency, recency, T, monetary_value).")


def _first_ids(df: pd.DataFrame, mask: np.ndarray, k: int = 5) -> str:
    ids = [str(i) for i in df.index[mask][:k]]
    more = int(mask.sum()) - len(ids)
    return ", ".join(ids) + (f" (and {more:,} more)" if more > 0 else "")


def _rfm_arrays(summary: pd.DataFrame, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validated float arrays ``frequency, recency, T`` of a summary table."""
    _require_columns(summary, ("frequency", "recency", "T"), where)
    if len(summary) == 0:
        raise DataValidationError(f"{where}: the summary table has no customers.")
    out = []
    for col in ("frequency", "recency", "T"):
        try:
            v = summary[col].to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(f"{where}: column {col!r} must be numeric ({exc}).") from None
        bad = ~np.isfinite(v)
        if bad.any():
            raise DataValidationError(f"{where}: column {col!r} has missing or infinite values for customer(s) "
                                      f"{_first_ids(summary, bad)}; drop or fix those rows.")
        out.append(v)
    x, tx, T = out
    checks = [
        ((x < 0) | (x != np.round(x)), "frequency must be a non-negative whole number (repeat purchase periods)"),
        (tx < 0, "recency must be >= 0"),
        (tx > T * (1 + 1e-9) + 1e-12, "recency must not exceed T (the customer's age)"),
        ((x == 0) & (tx != 0), "recency must be 0 when frequency is 0"),
    ]
    for mask, what in checks:
        if mask.any():
            raise DataValidationError(f"{where}: {what}; customer(s) {_first_ids(summary, mask)} break this. "
                                      "Rebuild the table with relmkt_helpers.clv.prep.rfm_summary.")
    if T.max() <= 0:
        raise DataValidationError(f"{where}: every customer has T = 0 (all first purchased on the last day); "
                                  "use a later observation_end.")
    return x, np.minimum(tx, T), T


def _unit_days(summary: pd.DataFrame) -> float:
    return float(summary.attrs.get("unit_days", 7.0))


def _compress(cols: Sequence[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Unique rows of the given columns: ``(unique columns, counts, inverse index)``.

    Delegates to :func:`relmkt_helpers.clv.prep.compress_summary`.
    """
    names = [f"c{i}" for i in range(len(cols))]
    unique, inverse = compress_summary(pd.DataFrame(dict(zip(names, cols)), copy=False), names)
    return [unique[c].to_numpy(dtype=float) for c in names], unique["weights"].to_numpy(dtype=float), inverse


def _wrap(result: Any, *inputs: Any) -> Any:
    """Return a Series if any input is one (with its index), a float for all-scalar input, else an array."""
    for v in inputs:
        if isinstance(v, pd.Series):
            return pd.Series(np.broadcast_to(result, (len(v),)).astype(float), index=v.index)
    arr = np.asarray(result, dtype=float)
    if arr.ndim == 0 and all(np.ndim(v) == 0 for v in inputs):
        return float(arr)
    return arr


def _arr(v: Any, name: str, *, nonneg: bool = True) -> np.ndarray:
    try:
        a = np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be numeric, got {v!r}.") from None
    if nonneg and np.any(~(a >= 0)):
        raise ParameterError(f"{name} must be >= 0 (in the model's time unit / counts); got {v!r}.")
    return a


def _param_table(params: pd.Series, cov_log: np.ndarray | None) -> pd.DataFrame:
    est = params.to_numpy(dtype=float)
    if cov_log is None:
        se_log = np.full(est.size, np.nan)
    else:
        se_log = np.sqrt(np.clip(np.diag(cov_log), 0.0, None))
    return pd.DataFrame({
        "estimate": est,
        "se": est * se_log,
        "lower_95": est * np.exp(-_Z95 * se_log),
        "upper_95": est * np.exp(_Z95 * se_log),
    }, index=pd.Index(params.index, name="parameter"))


# ----------------------------------------------------------------------------
# repeat purchases
# ----------------------------------------------------------------------------

class RepeatPurchaseModel:
    """BG/NBD, Pareto/NBD or MBG/NBD model of repeat purchases (non-contractual, continuous time).

    Parameters
    ----------
    model : {"bgnbd", "pnbd", "mbgnbd"}
        BG/NBD (Fader, Hardie & Lee 2005), Pareto/NBD (Schmittlein, Morrison &
        Colombo 1987) or MBG/NBD (Batislam, Denizel & Filiztekin 2007).
    penalizer : float
        L2 penalty on the parameters (0 = maximum likelihood). See the module
        docstring for its exact meaning.

    Attributes
    ----------
    params_ : Series
        ``r, alpha, a, b`` (BG/NBD, MBG/NBD) or ``r, alpha, s, beta``
        (Pareto/NBD); ``alpha``/``beta`` per time unit of the summary.
    fitter_ : lifetimes fitter
        The fitted lifetimes object (fitted on the unique rows with weights).
    log_likelihood_ : float
        The full log-likelihood at ``params_`` (kit's own formula).
    aic_ : float
        ``2 k - 2 log_likelihood_`` with ``k = 4``.
    n_customers_, n_unique_rows_ : int
        Customers in the table and unique ``(frequency, recency, T)`` rows fitted.
    unit_days_ : float
        Days per time unit (``summary.attrs["unit_days"]``, default 7).
    variance_matrix_ : DataFrame
        Covariance of the parameters (delta method from ``variance_matrix_log_``).
    variance_matrix_log_ : DataFrame
        Covariance of the log-parameters: inverse of the kit's numerical Hessian.
    standard_errors_ : Series
        Square roots of the diagonal of ``variance_matrix_``.
    n_restarts_ : int
        Times the lifetimes fitter was restarted before the convergence check passed.

    Examples
    --------
    >>> from relmkt_helpers import load_cdnow
    >>> from relmkt_helpers.clv.models import RepeatPurchaseModel
    >>> from relmkt_helpers.clv.prep import rfm_summary
    >>> tx, _ = load_cdnow(sample=True)
    >>> cal = tx[tx["order_date"] <= "1997-09-30"]
    >>> s = rfm_summary(cal, observation_end="1997-09-30", freq="D", freq_multiplier=7)
    >>> bg = RepeatPurchaseModel("bgnbd").fit(s)
    >>> bg.params_.round(3).to_dict()
    {'r': 0.243, 'alpha': 4.414, 'a': 0.793, 'b': 2.426}
    >>> round(bg.log_likelihood_, 1), bg.n_customers_
    (-9582.4, 2357)
    >>> bg.summary.columns.tolist()
    ['estimate', 'se', 'lower_95', 'upper_95']
    """

    def __init__(self, model: str = "bgnbd", *, penalizer: float = 0.0) -> None:
        if model not in _SPECS:
            raise ParameterError(f"model must be one of {sorted(_SPECS)} (BG/NBD, Pareto/NBD, MBG/NBD), got {model!r}.")
        try:
            pen = float(penalizer)
        except (TypeError, ValueError):
            raise ParameterError(f"penalizer must be a number >= 0, got {penalizer!r}.") from None
        if not np.isfinite(pen) or pen < 0:
            raise ParameterError(f"penalizer must be a finite number >= 0, got {penalizer!r}.")
        self.model = model
        self.penalizer = pen

    def __repr__(self) -> str:
        state = ""
        if hasattr(self, "params_"):
            state = ", fitted: " + ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"RepeatPurchaseModel({self.model!r}, penalizer={self.penalizer}{state})"

    @property
    def _spec(self) -> _Spec:
        return _SPECS[self.model]

    # -- fitting -------------------------------------------------------------
    def fit(self, summary: pd.DataFrame) -> "RepeatPurchaseModel":
        """Fit the model to a customer summary table.

        Parameters
        ----------
        summary : DataFrame
            One row per customer with ``frequency`` (repeat purchase periods),
            ``recency`` and ``T`` in one time unit (``summary.attrs["unit_days"]``
            days, 7 when absent), as made by
            :func:`relmkt_helpers.clv.prep.rfm_summary`.

        Returns
        -------
        RepeatPurchaseModel
            ``self``, fitted.

        Raises
        ------
        DataValidationError
            Missing columns or values that no summary can have (recency > T ...).
        ConvergenceError
            The fit did not reach a usable maximum (see the module docstring).

        Examples
        --------
        >>> from relmkt_helpers import load_cdnow
        >>> from relmkt_helpers.clv.prep import rfm_summary
        >>> tx, _ = load_cdnow(sample=True)
        >>> s = rfm_summary(tx[tx["order_date"] <= "1997-09-30"], observation_end="1997-09-30",
        ...                 freq="D", freq_multiplier=7)
        >>> pn = RepeatPurchaseModel("pnbd").fit(s)
        >>> pn.params_.round(3).to_dict(), round(pn.log_likelihood_, 1)
        ({'r': 0.553, 'alpha': 10.578, 's': 0.606, 'beta': 11.669}, -9595.0)
        """
        spec = self._spec
        x, tx, T = _rfm_arrays(summary, f"RepeatPurchaseModel({self.model!r}).fit")
        (ux, utx, uT), w, _ = _compress([x, tx, T])
        n = int(x.size)
        scale = 1.0 / uT.max()  # lifetimes rescales time so that the oldest customer has T = 1
        log_scale = np.array([np.log(scale) if p in spec.time_params else 0.0 for p in spec.params])
        pen = self.penalizer
        cls = _lifetimes_class(spec.fitter)
        kind = self.model

        idx = _RowIndex.of(ux, utx, uT, w, pairs=kind == "pnbd")

        def objective(theta: np.ndarray) -> float:
            P = dict(zip(spec.params, np.exp(theta)))
            with np.errstate(all="ignore"):
                nll = -_loglik_sum(kind, P, idx)
            return nll + pen * n * float(np.sum(np.exp(2 * (theta + log_scale))))

        # Start lifetimes' fitter at the optimum of the kit's own (compressed) likelihood, found by BFGS
        # (on a thinning of a large table) and Newton steps. Pareto/NBD: lifetimes runs Nelder-Mead on a
        # likelihood that evaluates 2F1 per row, hundreds of times; from a tiny simplex around the kit's
        # optimum it only has to confirm it. BG/NBD and MBG/NBD: lifetimes' BFGS from its default start
        # takes 2-3x longer on large tables and has failed there (750k customers in days/7). Either way
        # the checks in _optimise verify the result.
        start = -log_scale  # rescaled parameters all 1, as lifetimes starts
        if ux.size > _SUBSAMPLE_ROWS:
            # a large table: first fit a fixed random thinning of it (about _SUBSAMPLE customers),
            # then the whole table from there; the result does not depend on the thinning
            rng = np.random.default_rng(0)
            ws = rng.binomial(w.astype(np.int64), min(1.0, _SUBSAMPLE / n)).astype(float)
            keep = ws > 0
            sub = _RowIndex.of(ux[keep], utx[keep], uT[keep], ws[keep], pairs=kind == "pnbd")
            n_sub = float(ws.sum())

            def sub_objective(theta: np.ndarray) -> float:
                with np.errstate(all="ignore"):
                    nll = -_loglik_sum(kind, dict(zip(spec.params, np.exp(theta))), sub)
                return nll + pen * n_sub * float(np.sum(np.exp(2 * (theta + log_scale))))

            sub_start = _quick_optimum(sub_objective, start, n_sub, log_scale)
            if np.max(np.abs(sub_start + log_scale)) <= np.log(_ABSURD):
                start = sub_start
        if np.array_equal(start, -log_scale):  # small table, or a runaway thinning
            start = _quick_optimum(objective, start, n, log_scale)
        quick = _newton_polish(objective, start)
        _check_absurd(quick, log_scale, spec.params, spec.label, _fit_hint("RepeatPurchaseModel", n,
                                                                           _EXTRA_HINT[kind]))

        def fit_once(init_theta: np.ndarray | None):
            # lifetimes' Pareto/NBD objective is -sum(w ll)/mean(w): convert the penalizer (module docstring)
            fitter = cls(penalizer_coef=pen * ux.size if kind == "pnbd" else pen)
            out = io.StringIO()
            kwargs: dict[str, Any] = {"weights": w}
            if kind == "pnbd" and init_theta is None:
                x0 = np.exp(quick + log_scale)
                with np.errstate(all="ignore"):  # lifetimes' own 2F1 can overflow at extreme values
                    start_value = cls._negative_log_likelihood(x0, ux.astype(int), utx * scale, uT * scale, w, 0.0)
                if not np.isfinite(start_value):
                    shown = ", ".join(f"{k}={v:.4g}" for k, v in zip(spec.params, np.exp(quick)))
                    raise ConvergenceError(
                        f"Pareto/NBD fit did not converge: lifetimes' likelihood cannot be evaluated at the "
                        f"maximum the kit found ({shown}); such extreme values mean the data do not pin the "
                        "model down." + _fit_hint("RepeatPurchaseModel", n, _EXTRA_HINT[kind]))
                simplex = np.vstack([x0, x0 * (1.0 + _SIMPLEX_STEP * np.eye(4))])
                kwargs.update(initial_params=x0, initial_simplex=simplex, xatol=2 * _SIMPLEX_STEP * x0.max(),
                              fatol=_DECREMENT_TOL * ux.size / n, maxiter=1_000)
            elif kind == "pnbd":  # a restart: Nelder-Mead from where it stopped, default simplex, tight
                kwargs.update(initial_params=np.exp(init_theta + log_scale), tol=1e-9, maxiter=4_000)
            else:  # BG/NBD, MBG/NBD: from the kit's optimum, or where a previous attempt stopped
                kwargs.update(initial_params=(quick if init_theta is None else init_theta) + log_scale)
            with contextlib.redirect_stdout(out), warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                try:
                    fitter.fit(ux, utx, uT, **kwargs)
                except Exception as exc:  # lifetimes raises its own ConvergenceError, or numpy errors
                    if type(exc).__name__ != "ConvergenceError" and not isinstance(
                            exc, (ValueError, FloatingPointError, np.linalg.LinAlgError)):
                        raise
                    retried = False
                    if kind != "pnbd" and init_theta is None:
                        # lifetimes' BFGS can stop with "precision loss" right at an optimum: run it
                        # once more from its own default start; _optimise still checks the result
                        fitter = cls(penalizer_coef=pen)
                        try:
                            fitter.fit(ux, utx, uT, weights=w)
                            retried = True
                        except Exception:  # noqa: BLE001 - reported below with the original error
                            retried = False
                    if not retried:
                        raise ConvergenceError(f"{spec.label} fit did not converge: lifetimes' optimiser failed "
                                               f"({' '.join(str(exc).split())})."
                                               + _fit_hint("RepeatPurchaseModel", n)) from None
            theta = np.log(fitter.params_[list(spec.params)].to_numpy(dtype=float))
            return fitter, theta

        fitter, theta, f0, H, restarts = _optimise(
            label=spec.label, fit_once=fit_once, objective=objective, log_scale=log_scale, names=spec.params,
            hint=_fit_hint("RepeatPurchaseModel", n, _EXTRA_HINT[kind]))
        params = pd.Series(np.exp(theta), index=list(spec.params), name="estimate")
        self._set_fitted(params, np.linalg.inv(H), unit_days=_unit_days(summary))
        self.fitter_ = fitter
        self.log_likelihood_ = float(w @ _loglik(kind, dict(params), ux, utx, uT))  # the plain formula
        self.aic_ = 2 * len(spec.params) - 2 * self.log_likelihood_
        self.n_customers_ = n
        self.n_unique_rows_ = int(ux.size)
        self.n_restarts_ = int(restarts)
        return self

    def _set_fitted(self, params: pd.Series, cov_log: np.ndarray | None, *, unit_days: float) -> None:
        names = list(params.index)
        self.params_ = params
        self.unit_days_ = float(unit_days)
        if cov_log is None:
            self.variance_matrix_log_ = None
            self.variance_matrix_ = None
            self.standard_errors_ = pd.Series(np.nan, index=names, name="se")
            return
        cov_log = (cov_log + cov_log.T) / 2
        self.variance_matrix_log_ = pd.DataFrame(cov_log, index=names, columns=names)
        d = params.to_numpy(dtype=float)
        self.variance_matrix_ = pd.DataFrame(cov_log * np.outer(d, d), index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(self.variance_matrix_.to_numpy())), index=names, name="se")

    @classmethod
    def from_params(cls, model: str, params: Mapping[str, float], *, unit_days: float = 7.0,
                    variance_matrix_log: Any = None) -> "RepeatPurchaseModel":
        """A model with given parameters (no data): for scenarios, published estimates and tests.

        Parameters
        ----------
        model : {"bgnbd", "pnbd", "mbgnbd"}
        params : dict
            Every parameter of the model, positive; rates per time unit.
        unit_days : float
            Days per time unit.
        variance_matrix_log : array-like, optional
            Covariance of the log-parameters (needed only for bootstrap intervals).

        Returns
        -------
        RepeatPurchaseModel
            With ``params_`` set; ``fitter_`` is ``None`` and ``log_likelihood_`` NaN.

        Examples
        --------
        >>> m = RepeatPurchaseModel.from_params("pnbd", {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
        >>> round(float(m.expected_purchases(39)), 4) > 0
        True
        """
        self = cls(model)
        names = list(self._spec.params)
        missing = [p for p in names if p not in params]
        if missing:
            raise ParameterError(f"params for {self._spec.label} must give {names}; missing {missing}.")
        vals = np.array([float(params[p]) for p in names])
        if not np.all(np.isfinite(vals) & (vals > 0)):
            raise ParameterError(f"{self._spec.label} parameters must be positive and finite, got {dict(params)}.")
        if float(unit_days) <= 0:
            raise ParameterError(f"unit_days must be > 0, got {unit_days!r}.")
        cov = None if variance_matrix_log is None else np.asarray(variance_matrix_log, dtype=float).reshape(4, 4)
        self._set_fitted(pd.Series(vals, index=names, name="estimate"), cov, unit_days=unit_days)
        self.fitter_ = None
        self.log_likelihood_ = float("nan")
        self.aic_ = float("nan")
        self.n_customers_ = 0
        self.n_unique_rows_ = 0
        self.n_restarts_ = 0
        return self

    def _params(self) -> dict[str, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this RepeatPurchaseModel({self.model!r}) is not fitted: call .fit(summary) first.")
        return {k: float(v) for k, v in self.params_.items()}

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors and 95 % intervals (from the log-parameter normal approximation).

        Examples
        --------
        >>> m = RepeatPurchaseModel.from_params("bgnbd", {"r": 1, "alpha": 2, "a": 3, "b": 4})
        >>> m.summary["estimate"].tolist()
        [1.0, 2.0, 3.0, 4.0]
        """
        self._params()
        cov = None if self.variance_matrix_log_ is None else self.variance_matrix_log_.to_numpy()
        out = _param_table(self.params_, cov)
        out.attrs = {"model": self._spec.label, "unit_days": self.unit_days_,
                     "log_likelihood": getattr(self, "log_likelihood_", np.nan)}
        return out

    # -- predictions ---------------------------------------------------------
    def expected_purchases(self, t: Any) -> Any:
        """E[X(t)]: expected repeat purchases in ``(0, t]`` of a customer who first bought at time 0.

        Parameters
        ----------
        t : float or array-like
            Time since the first purchase, in the model's time unit.

        Returns
        -------
        float, ndarray or Series
            Same shape as ``t``.

        Examples
        --------
        >>> bg = RepeatPurchaseModel.from_params("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
        >>> round(float(bg.expected_purchases(78)), 2)  # Hardie's BG/NBD spreadsheet (FHL 2005): 1.8576
        1.86
        """
        P = self._params()
        tt = _arr(t, "t")
        with np.errstate(all="ignore"):
            out = _cond_expected(self.model, P, tt, 0.0, 0.0, 0.0)
        return _wrap(out, t)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """Expected repeat purchases in the next ``t`` time units of a customer with history ``(frequency, recency, T)``.

        Parameters
        ----------
        t : float or array-like
            Length of the future period, in the model's time unit.
        frequency, recency, T : array-like
            The customer's history, as in the summary table.

        Returns
        -------
        float, ndarray or Series
            Broadcast shape of the inputs.

        Examples
        --------
        >>> bg = RepeatPurchaseModel.from_params("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
        >>> round(float(bg.conditional_expected_purchases(39, 2, 30.43, 38.86)), 3)
        1.226
        """
        P = self._params()
        tt, x, tx, TT = (_arr(v, nm) for v, nm in ((t, "t"), (frequency, "frequency"), (recency, "recency"), (T, "T")))
        with np.errstate(all="ignore"):
            out = _cond_expected(self.model, P, tt, x, tx, TT)
        return _wrap(out, t, frequency, recency, T)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> Any:
        """P(customer still alive at ``T`` | history).

        BG/NBD: a customer without repeat purchases is alive with probability 1
        (nobody drops out before a repeat purchase); not so for MBG/NBD and
        Pareto/NBD.

        Examples
        --------
        >>> bg = RepeatPurchaseModel.from_params("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
        >>> bg.probability_alive([0, 2], [0, 30.43], [38.86, 38.86])[0]  # no repeat purchase: alive
        np.float64(1.0)
        >>> by_hand = 1 / (1 + 0.793 / (2.426 + 2 - 1) * ((4.414 + 38.86) / (4.414 + 30.43)) ** (0.243 + 2))
        >>> bool(abs(bg.probability_alive(2, 30.43, 38.86) - by_hand) < 1e-12)  # FHL (2005) / Hardie note 021
        True
        """
        P = self._params()
        x, tx, TT = (_arr(v, nm) for v, nm in ((frequency, "frequency"), (recency, "recency"), (T, "T")))
        with np.errstate(all="ignore"):
            out = _p_alive(self.model, P, x, tx, TT)
        return _wrap(out, frequency, recency, T)

    def conditional_probability_no_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> Any:
        """P(no purchase in the next ``t`` time units | history).

        Examples
        --------
        >>> bg = RepeatPurchaseModel.from_params("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
        >>> 0 < bg.conditional_probability_no_purchases(39, 2, 30.43, 38.86) < 1
        True
        """
        P = self._params()
        tt, x, tx, TT = (_arr(v, nm) for v, nm in ((t, "t"), (frequency, "frequency"), (recency, "recency"), (T, "T")))
        tt, x, tx, TT = np.broadcast_arrays(tt, x, tx, TT)
        with np.errstate(all="ignore"):
            out = _cond_p_zero(self.model, P, tt, x, tx, TT)
        return _wrap(out, t, frequency, recency, T)

    def probability_of_purchases(self, t: float, n: Any) -> Any:
        """P(X(t) = n): the distribution of repeat purchases in ``(0, t]`` for a new customer.

        BG/NBD: FHL (2005) eq. 8; MBG/NBD: the same with drop-out possible at
        time 0; Pareto/NBD: the NBD count over ``min(lifetime, t)`` integrated
        over the Lomax lifetime numerically (``scipy.integrate.quad_vec``).

        Parameters
        ----------
        t : float
            Length of the period, in the model's time unit.
        n : int or array-like of int
            Numbers of repeat purchases.

        Examples
        --------
        >>> bg = RepeatPurchaseModel.from_params("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
        >>> p = bg.probability_of_purchases(39, range(200))
        >>> round(float(p.sum()), 6)
        1.0
        """
        P = self._params()
        tt = float(_arr(t, "t"))
        nn = _arr(n, "n")
        if np.any(nn != np.round(nn)):
            raise ParameterError(f"n must be whole numbers of purchases, got {n!r}.")
        with np.errstate(all="ignore"):
            out = _pmf(self.model, P, tt, nn)
        return _wrap(out, n)


# ----------------------------------------------------------------------------
# spend
# ----------------------------------------------------------------------------

def _independence(freq: np.ndarray, mv: np.ndarray) -> dict[str, Any]:
    """Correlation of frequency and average order value among repeat customers, with a verdict."""
    n = int(freq.size)
    if n < 3 or np.ptp(freq) == 0 or np.ptp(mv) == 0:
        return {"pearson": float("nan"), "spearman": float("nan"), "n": n,
                "verdict": "Cannot check: too few repeat customers, or no variation in frequency or spend."}
    pearson = float(stats.pearsonr(freq, mv).statistic)
    spearman = float(stats.spearmanr(freq, mv).statistic)
    worst = max(abs(pearson), abs(spearman))
    nums = f"Pearson {pearson:+.2f}, Spearman {spearman:+.2f}, {n:,} repeat customers"
    if worst < 0.1:
        verdict = (f"Independent enough ({nums}): how often customers buy says next to nothing about how much "
                   "they spend per order, as the Gamma-Gamma model assumes.")
    elif worst < 0.3:
        verdict = (f"Weakly related ({nums}): the Gamma-Gamma assumption of independence roughly holds; spend "
                   "forecasts for the most and least frequent buyers may be somewhat off.")
    else:
        verdict = (f"Related ({nums}): frequent buyers spend {'more' if pearson + spearman > 0 else 'less'} per "
                   "order, so the Gamma-Gamma independence assumption does not hold; treat its spend and CLV "
                   "figures with caution, or model spend separately by segment.")
    return {"pearson": pearson, "spearman": spearman, "n": n, "verdict": verdict}


class SpendModel:
    """Gamma-Gamma model of the average order value (Colombo & Jiang 1999; Fader & Hardie 2013).

    Each order value of a customer is Gamma(shape ``p``, rate ``nu``), and
    ``nu`` varies across customers as Gamma(shape ``q``, rate ``gamma``); the
    population mean order value is ``p gamma / (q - 1)``. It is fitted on the
    repeat customers (``frequency > 0``) with their mean *repeat* order value
    ``monetary_value`` (lifetimes' convention: the first order is not counted).
    The model assumes spend is independent of purchase frequency:
    ``independence_`` reports the check.

    Parameters
    ----------
    penalizer : float
        L2 penalty on ``p, q, gamma`` (lifetimes' ``penalizer_coef``); 0 = maximum likelihood.

    Attributes
    ----------
    params_ : Series
        ``p, q, gamma`` (lifetimes calls ``gamma`` ``v``).
    fitter_ : lifetimes.GammaGammaFitter
        Fitted on the unique ``(frequency, monetary_value)`` rows with weights.
    independence_ : dict
        ``pearson``, ``spearman`` (correlation of frequency and monetary_value
        among repeat customers), ``n`` and a plain-words ``verdict``.
    log_likelihood_ : float
        Gamma-Gamma log-likelihood (F&H 2013 eq. 1a) at ``params_``.
    n_customers_, n_unique_rows_ : int
        Repeat customers fitted, and unique rows.
    variance_matrix_, variance_matrix_log_, standard_errors_
        As for :class:`RepeatPurchaseModel` (the kit's own numerical Hessian).

    Examples
    --------
    >>> from relmkt_helpers import load_cdnow
    >>> from relmkt_helpers.clv.prep import rfm_summary
    >>> tx, _ = load_cdnow(sample=True)
    >>> s = rfm_summary(tx[tx["order_date"] <= "1997-09-30"], observation_end="1997-09-30",
    ...                 freq="D", freq_multiplier=7)
    >>> gg = SpendModel().fit(s)
    >>> gg.params_.round(2).to_dict(), gg.n_customers_
    ({'p': 6.25, 'q': 3.74, 'gamma': 15.44}, 946)
    """

    def __init__(self, *, penalizer: float = 0.0) -> None:
        try:
            pen = float(penalizer)
        except (TypeError, ValueError):
            raise ParameterError(f"penalizer must be a number >= 0, got {penalizer!r}.") from None
        if not np.isfinite(pen) or pen < 0:
            raise ParameterError(f"penalizer must be a finite number >= 0, got {penalizer!r}.")
        self.penalizer = pen

    def __repr__(self) -> str:
        state = ""
        if hasattr(self, "params_"):
            state = ", fitted: " + ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return f"SpendModel(penalizer={self.penalizer}{state})"

    def fit(self, summary: pd.DataFrame) -> "SpendModel":
        """Fit on the repeat customers of a summary table.

        Parameters
        ----------
        summary : DataFrame
            With ``frequency`` and ``monetary_value`` (mean value of the repeat
            orders; 0 for customers without repeat purchases), indexed by customer.

        Returns
        -------
        SpendModel
            ``self``, fitted.

        Raises
        ------
        DataValidationError
            Missing columns, no repeat customers, or a repeat customer whose
            ``monetary_value`` is not positive (the message names them).
        ConvergenceError
            The fit did not converge, or gave ``q <= 1`` (infinite mean spend).

        Examples
        --------
        >>> import pandas as pd
        >>> s = pd.DataFrame({"frequency": [1, 2, 0], "monetary_value": [10.0, -5.0, 0.0]},
        ...                  index=pd.Index(["a", "b", "c"], name="customer_id"))
        >>> SpendModel().fit(s)
        Traceback (most recent call last):
        ...
        relmkt_helpers.errors.DataValidationError: SpendModel.fit: the Gamma-Gamma model needs a positive monetary_value for every repeat customer (frequency > 0); 1 customer(s) have monetary_value <= 0: b. Drop them (for example summary[summary['monetary_value'] > 0]), or exclude refunds and free orders when building the summary.
        """
        where = "SpendModel.fit"
        _require_columns(summary, ("frequency", "monetary_value"), where)
        try:
            freq = summary["frequency"].to_numpy(dtype=float)
            mv = summary["monetary_value"].to_numpy(dtype=float)
        except (TypeError, ValueError) as exc:
            raise DataValidationError(f"{where}: frequency and monetary_value must be numeric ({exc}).") from None
        bad_freq = ~np.isfinite(freq) | (freq < 0) | (freq != np.round(freq))
        if bad_freq.any():
            raise DataValidationError(f"{where}: frequency must be a non-negative whole number; customer(s) "
                                      f"{_first_ids(summary, bad_freq)} break this.")
        rep = freq > 0
        if not rep.any():
            raise DataValidationError(f"{where}: no repeat customers (frequency > 0) to fit spend on; use a "
                                      "longer observation period.")
        bad = rep & ~(mv > 0)
        if bad.any():
            raise DataValidationError(
                f"{where}: the Gamma-Gamma model needs a positive monetary_value for every repeat customer "
                f"(frequency > 0); {int(bad.sum()):,} customer(s) have monetary_value <= 0: "
                f"{_first_ids(summary, bad)}. Drop them (for example "
                "summary[summary['monetary_value'] > 0]), or exclude refunds and free orders when building "
                "the summary.")
        bad_inf = rep & ~np.isfinite(mv)
        if bad_inf.any():
            raise DataValidationError(f"{where}: monetary_value is not finite for customer(s) "
                                      f"{_first_ids(summary, bad_inf)}.")
        x, m = freq[rep], mv[rep]
        (ux, um), w, _ = _compress([x, m])
        n = int(x.size)
        pen = self.penalizer
        names = list(_GG_PARAMS)
        log_scale = np.array([0.0, 0.0, -np.log(np.average(um, weights=w))])  # gamma relative to mean spend
        cls = _lifetimes_class("GammaGammaFitter")

        xv, ix = np.unique(ux, return_inverse=True)
        wx = np.bincount(ix, weights=w, minlength=xv.size)
        logm = np.log(um)
        wlogm, const = float(w @ (ux * logm)), -float(w @ logm)  # (p x - 1) log m = p (x log m) - log m

        def objective(theta: np.ndarray) -> float:
            P = dict(zip(names, np.exp(theta)))
            with np.errstate(all="ignore"):
                ll = _gg_loglik_sum(P, ux, um, w, xv, ix, wx, wlogm) + const
            return -ll + pen * n * float(np.sum(np.exp(2 * theta)))

        def fit_once(init_theta: np.ndarray | None):
            fitter = cls(penalizer_coef=pen)
            kwargs: dict[str, Any] = {"weights": w}
            if init_theta is not None:
                kwargs["initial_params"] = init_theta
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                try:
                    fitter.fit(ux, um, **kwargs)
                except Exception as exc:
                    if type(exc).__name__ != "ConvergenceError" and not isinstance(
                            exc, (ValueError, FloatingPointError, np.linalg.LinAlgError)):
                        raise
                    raise ConvergenceError(f"Gamma-Gamma fit did not converge: lifetimes' optimiser failed "
                                           f"({' '.join(str(exc).split())})."
                                           + hint) from None
            return fitter, np.log(fitter.params_[["p", "q", "v"]].to_numpy(dtype=float))

        hint = (f" Try a penalizer (SpendModel(penalizer=0.001)), removing extreme order values, or more "
                f"repeat customers (this fit used {n:,}).")
        fitter, theta, f0, H, restarts = _optimise(label="Gamma-Gamma", fit_once=fit_once, objective=objective,
                                                   log_scale=log_scale, names=names, hint=hint)
        params = pd.Series(np.exp(theta), index=names, name="estimate")
        if params["q"] <= 1:
            raise ConvergenceError(
                f"Gamma-Gamma fit gave q = {params['q']:.3g} <= 1: the population mean order value "
                "p*gamma/(q-1) is infinite, so spend cannot be forecast. This usually means a few huge order "
                "values; check them (or cap them), or use a penalizer." + hint)
        self.params_ = params
        cov_log = np.linalg.inv(H)
        cov_log = (cov_log + cov_log.T) / 2
        self.variance_matrix_log_ = pd.DataFrame(cov_log, index=names, columns=names)
        d = params.to_numpy()
        self.variance_matrix_ = pd.DataFrame(cov_log * np.outer(d, d), index=names, columns=names)
        self.standard_errors_ = pd.Series(np.sqrt(np.diag(self.variance_matrix_.to_numpy())), index=names, name="se")
        self.fitter_ = fitter
        self.independence_ = _independence(x, m)
        self.log_likelihood_ = float(w @ _gg_loglik(dict(params), ux, um))
        self.n_customers_ = n
        self.n_unique_rows_ = int(ux.size)
        self.n_restarts_ = int(restarts)
        return self

    @classmethod
    def from_params(cls, params: Mapping[str, float], *, variance_matrix_log: Any = None) -> "SpendModel":
        """A spend model with given ``p, q, gamma`` (no data).

        Examples
        --------
        >>> gg = SpendModel.from_params({"p": 6.25, "q": 3.74, "gamma": 15.44})
        >>> round(gg.population_mean_spend, 2)
        35.22
        """
        self = cls()
        missing = [p for p in _GG_PARAMS if p not in params]
        if missing:
            raise ParameterError(f"params must give p, q, gamma; missing {missing}.")
        vals = np.array([float(params[p]) for p in _GG_PARAMS])
        if not np.all(np.isfinite(vals) & (vals > 0)):
            raise ParameterError(f"Gamma-Gamma parameters must be positive and finite, got {dict(params)}.")
        self.params_ = pd.Series(vals, index=list(_GG_PARAMS), name="estimate")
        if variance_matrix_log is None:
            self.variance_matrix_log_ = self.variance_matrix_ = None
            self.standard_errors_ = pd.Series(np.nan, index=list(_GG_PARAMS), name="se")
        else:
            cov = np.asarray(variance_matrix_log, dtype=float).reshape(3, 3)
            self.variance_matrix_log_ = pd.DataFrame(cov, index=list(_GG_PARAMS), columns=list(_GG_PARAMS))
            self.variance_matrix_ = self.variance_matrix_log_ * np.outer(vals, vals)
            self.standard_errors_ = pd.Series(np.sqrt(np.diag(self.variance_matrix_.to_numpy())),
                                              index=list(_GG_PARAMS), name="se")
        self.fitter_ = None
        self.independence_ = None
        self.log_likelihood_ = float("nan")
        self.n_customers_ = self.n_unique_rows_ = self.n_restarts_ = 0
        return self

    def _params(self) -> dict[str, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("this SpendModel is not fitted: call .fit(summary) first.")
        return {k: float(v) for k, v in self.params_.items()}

    @property
    def population_mean_spend(self) -> float:
        """``p gamma / (q - 1)``: the expected order value of a customer with no repeat purchases.

        Examples
        --------
        >>> SpendModel.from_params({"p": 6, "q": 4, "gamma": 25}).population_mean_spend
        50.0
        """
        P = self._params()
        return P["p"] * P["gamma"] / (P["q"] - 1.0)

    @property
    def summary(self) -> pd.DataFrame:
        """Estimates, standard errors and 95 % intervals.

        Examples
        --------
        >>> SpendModel.from_params({"p": 6, "q": 4, "gamma": 25}).summary.index.tolist()
        ['p', 'q', 'gamma']
        """
        self._params()
        cov = None if self.variance_matrix_log_ is None else self.variance_matrix_log_.to_numpy()
        out = _param_table(self.params_, cov)
        out.attrs = {"model": "Gamma-Gamma", "log_likelihood": self.log_likelihood_}
        return out

    def conditional_expected_spend(self, frequency: Any, monetary_value: Any) -> Any:
        """Expected value of a future order of a customer with ``frequency`` repeat orders of mean ``monetary_value``.

        A weighted average of the customer's own mean and the population mean
        ``p gamma / (q - 1)``, with weight ``p x / (p x + q - 1)`` on the
        customer's own (F&H 2013 eq. 5). ``frequency = 0`` gives the
        population mean (``monetary_value`` is then ignored).

        Examples
        --------
        >>> gg = SpendModel.from_params({"p": 6, "q": 4, "gamma": 25})
        >>> gg.conditional_expected_spend([0, 1, 10], [0.0, 80.0, 80.0]).round(2).tolist()  # 150/3, 630/9, 4950/63
        [50.0, 70.0, 78.57]
        """
        P = self._params()
        x = _arr(frequency, "frequency")
        m = _arr(monetary_value, "monetary_value", nonneg=False)
        return _wrap(_gg_expected_spend(P, x, m), frequency, monetary_value)


# ----------------------------------------------------------------------------
# model comparison
# ----------------------------------------------------------------------------

_CAL_HOLDOUT_COLS = ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout")


class ModelComparison(NamedTuple):
    """What ``compare_models(..., return_models=True)`` returns: the table and the fitted models.

    Unpack it as ``table, models = compare_models(ch, return_models=True)``; ``models`` maps each
    model name to its :class:`RepeatPurchaseModel` fitted on the calibration period (example in
    :func:`compare_models`).
    """

    table: pd.DataFrame
    models: dict[str, "RepeatPurchaseModel"]


def compare_models(cal_holdout: pd.DataFrame, models: Sequence[str] = ("bgnbd", "pnbd", "mbgnbd"), *,
                   penalizer: float = 0.0, return_models: bool = False, max_customers: int | None = None,
                   random_state: int = 0) -> pd.DataFrame | ModelComparison:
    """Fit each repeat-purchase model on the calibration period and score it on the holdout.

    Parameters
    ----------
    cal_holdout : DataFrame
        From :func:`relmkt_helpers.clv.prep.calibration_holdout`: ``frequency_cal,
        recency_cal, T_cal, frequency_holdout, duration_holdout`` (time in the
        model unit, ``attrs["unit_days"]`` days).
    models : sequence of str
        Any of ``"bgnbd"``, ``"pnbd"``, ``"mbgnbd"``.
    penalizer : float
        Passed to every :class:`RepeatPurchaseModel`.
    return_models : bool
        Also return the models fitted on the calibration period (no need to fit
        the chosen one again): a :class:`ModelComparison` ``(table, models)``.
    max_customers : int, optional
        Compare on a random sample of at most this many customers (``None``: all).
        Which model fits best, and how far off its holdout forecast is, are
        population questions that 200,000 customers answer as well as a million
        (standard errors of the parameters shrink with the square root of the
        sample), at a fraction of the cost of fitting three models. Log-likelihood
        and AIC are then those of the sample; ``attrs`` record both sizes.
    random_state : int
        Seed of that sample.

    Returns
    -------
    DataFrame or ModelComparison
        One row per model (index ``model``), sorted by AIC (best first):
        ``log_likelihood`` and ``n_params`` (calibration), ``aic``;
        ``holdout_actual_total`` and ``holdout_expected_total`` (repeat purchase
        periods in the holdout, summed over customers), ``holdout_error_pct``
        (expected vs actual, in %), ``mae_per_customer`` (mean absolute error of
        the per-customer holdout forecast), ``zero_repeat_actual_share`` and
        ``zero_repeat_expected_share`` (share of customers with no purchase in
        the holdout, observed vs the mean of each customer's predicted
        probability).

    Examples
    --------
    >>> from relmkt_helpers import load_cdnow
    >>> from relmkt_helpers.clv.prep import calibration_holdout
    >>> tx, _ = load_cdnow(sample=True)
    >>> ch = calibration_holdout(tx, calibration_end="1997-09-30", observation_end="1998-06-30",
    ...                          freq="D", freq_multiplier=7)
    >>> table = compare_models(ch, models=("bgnbd", "pnbd"))
    >>> table.index.tolist(), round(float(table.loc["bgnbd", "log_likelihood"]), 1)  # LL: FHL (2005) p. 279
    (['bgnbd', 'pnbd'], -9582.4)
    >>> bool(table.loc["pnbd", "holdout_actual_total"] == ch["frequency_holdout"].sum())
    True
    >>> table, fitted = compare_models(ch, models=("bgnbd",), return_models=True)
    >>> fitted["bgnbd"].params_.round(3).tolist()  # FHL (2005): r, alpha, a, b
    [0.243, 4.414, 0.793, 2.426]
    """
    if isinstance(models, str):
        models = (models,)
    unknown = [m for m in models if m not in _SPECS]
    if unknown or not models:
        raise ParameterError(f"models must be a non-empty subset of {sorted(_SPECS)}, got {list(models)!r}.")
    _require_columns(cal_holdout, _CAL_HOLDOUT_COLS, "compare_models")
    n_total = len(cal_holdout)
    if max_customers is not None:
        if isinstance(max_customers, bool) or not isinstance(max_customers, (int, np.integer)) or max_customers < 100:
            raise ParameterError(f"max_customers must be a whole number of at least 100 (or None for all), "
                                 f"got {max_customers!r}.")
        if n_total > max_customers:
            rows = np.sort(np.random.default_rng(random_state).choice(n_total, size=int(max_customers),
                                                                       replace=False))
            attrs = dict(cal_holdout.attrs)
            cal_holdout = cal_holdout.iloc[rows]
            cal_holdout.attrs = attrs
    cal = pd.DataFrame({
        "frequency": cal_holdout["frequency_cal"], "recency": cal_holdout["recency_cal"],
        "T": cal_holdout["T_cal"]}, index=cal_holdout.index)
    cal.attrs = dict(cal_holdout.attrs)
    actual = cal_holdout["frequency_holdout"].to_numpy(dtype=float)
    dur = cal_holdout["duration_holdout"].to_numpy(dtype=float)
    x, tx, T = (cal[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    # holdout forecasts per unique (x, t_x, T, duration) row, in blocks (Pareto/NBD's P(no purchase)
    # integrates over ~100 nodes per row: unblocked, 1M customers would need GBs of temporaries)
    (ux, utx, uT, ud), _, inverse = _compress([x, tx, T, dur])
    rows = []
    fitted = {}
    for name in models:
        m = fitted[name] = RepeatPurchaseModel(name, penalizer=penalizer).fit(cal)
        expected, p0 = np.empty(ux.size), np.empty(ux.size)
        for lo in range(0, ux.size, _FORECAST_BLOCK):
            b = slice(lo, lo + _FORECAST_BLOCK)
            expected[b] = m.conditional_expected_purchases(ud[b], ux[b], utx[b], uT[b])
            p0[b] = m.conditional_probability_no_purchases(ud[b], ux[b], utx[b], uT[b])
        expected, p0 = expected[inverse], p0[inverse]
        total_a, total_e = float(actual.sum()), float(expected.sum())
        rows.append({
            "model": name,
            "log_likelihood": m.log_likelihood_,
            "n_params": len(m.params_),
            "aic": m.aic_,
            "holdout_actual_total": total_a,
            "holdout_expected_total": total_e,
            "holdout_error_pct": 100.0 * (total_e - total_a) / total_a if total_a > 0 else float("nan"),
            "mae_per_customer": float(np.mean(np.abs(expected - actual))),
            "zero_repeat_actual_share": float(np.mean(actual == 0)),
            "zero_repeat_expected_share": float(np.mean(p0)),
        })
    out = pd.DataFrame(rows).set_index("model").sort_values("aic", kind="stable")
    out.attrs = {"unit_days": float(cal.attrs.get("unit_days", 7.0)), "n_customers": int(len(cal)),
                 "n_customers_total": int(n_total), "sampled": bool(len(cal) < n_total)}
    if return_models:
        return ModelComparison(out, {name: fitted[name] for name in out.index})
    return out
