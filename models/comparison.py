"""Statistics for fair unit comparisons (pure functions, no database, no Dash).

* Crude proportions get a Wilson score interval (statsmodels); crude means a
  t interval.
* Direct standardisation: a unit's stratum rates (age band x sex) weighted by
  the whole force's population in each stratum. The 95% CI is Fay & Feuer's
  gamma interval (Stat Med 1997;16:791), the method of the US SEER program and
  the UK public-health profiles; with one stratum it reduces to the exact
  (Garwood) Poisson interval. Strata a unit has nobody in are left out and the
  remaining weights re-normalised; ``coverage`` says how much of the standard
  population the unit's strata cover.
* Funnel limits: exact binomial quantiles around the force rate, with
  Spiegelhalter's interpolation (Stat Med 2005;24:1185) so that the limits are
  smooth lines rather than steps; ``interpolate=False`` gives the plain
  quantile r/n. Means use normal limits (force SD / sqrt(n)).
* Heterogeneity: Pearson's chi-square on the units x (event, no event) table
  for crude proportions, Cochran's Q on standardised rates (inverse-variance
  weights), and the between-units chi-square (n·(mean − grand mean)² / pooled
  variance) for means.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Hashable, Mapping, Sequence

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

LIMIT_PROBS = (0.95, 0.998)


@dataclass(frozen=True)
class Estimate:
    value: float | None
    lo: float | None
    hi: float | None
    coverage: float = 1.0  # share of the standard population the estimate covers (1 for crude)


@dataclass(frozen=True)
class Heterogeneity:
    statistic: float
    df: int
    p_value: float
    method: str  # "pearson" | "cochran_q" | "means"


# --- crude -------------------------------------------------------------------------
def wilson(events: float, n: float, alpha: float = 0.05) -> Estimate:
    """Crude proportion with the Wilson score interval."""
    if not n:
        return Estimate(None, None, None)
    lo, hi = proportion_confint(events, n, alpha=alpha, method="wilson")
    return Estimate(events / n, float(lo), float(hi))


def mean_ci(n: float, total: float, total_sq: float, alpha: float = 0.05) -> Estimate:
    """Crude mean of n values (given their sum and sum of squares) with a t interval."""
    if not n:
        return Estimate(None, None, None)
    mean = total / n
    if n < 2:
        return Estimate(mean, None, None)
    var = max(total_sq - n * mean * mean, 0.0) / (n - 1)
    half = stats.t.ppf(1 - alpha / 2, n - 1) * math.sqrt(var / n)
    return Estimate(mean, mean - half, mean + half)


# --- direct standardisation ----------------------------------------------------------
def _weights(strata: Mapping[Hashable, tuple], standard: Mapping[Hashable, float]):
    keys = [k for k, v in strata.items() if v[0] > 0 and standard.get(k, 0) > 0]
    total = sum(standard.values())
    covered = sum(standard[k] for k in keys)
    if not keys or not covered:
        return [], 0.0
    return [(k, standard[k] / covered) for k in keys], covered / total


def direct_standardised(strata: Mapping[Hashable, tuple[float, float]], standard: Mapping[Hashable, float],
                        alpha: float = 0.05) -> Estimate:
    """Directly standardised proportion with the Fay-Feuer gamma interval.

    ``strata``: {stratum: (n, events)} of the unit; ``standard``: {stratum: population}
    of the standard (the whole force)."""
    weights, coverage = _weights(strata, standard)
    if not weights:
        return Estimate(None, None, None, 0.0)
    w = np.array([W / strata[k][0] for k, W in weights])  # per-person weight in each stratum
    d = np.array([strata[k][1] for k, _ in weights], dtype=float)
    y = float((w * d).sum())
    v = float((w * w * d).sum())
    wm = float(w.max())
    lo = 0.0 if y == 0 else v / (2 * y) * stats.chi2.ppf(alpha / 2, 2 * y * y / v)
    hi = (v + wm * wm) / (2 * (y + wm)) * stats.chi2.ppf(1 - alpha / 2, 2 * (y + wm) ** 2 / (v + wm * wm))
    return Estimate(y, float(lo), float(min(hi, 1.0)), coverage)


def dsr_variance(strata: Mapping[Hashable, tuple[float, float]], standard: Mapping[Hashable, float]) -> float | None:
    """Variance of the directly standardised proportion, Σ W² p(1−p)/n (binomial)."""
    weights, _ = _weights(strata, standard)
    if not weights:
        return None
    var = 0.0
    for k, W in weights:
        n, d = strata[k][0], strata[k][1]
        p = d / n
        var += W * W * p * (1 - p) / n
    return var


def standardised_mean(strata: Mapping[Hashable, tuple[float, float, float]], standard: Mapping[Hashable, float],
                      pooled_var: float | None = None, alpha: float = 0.05) -> tuple[Estimate, float | None]:
    """Directly standardised mean with a normal interval; returns (estimate, variance).

    ``strata``: {stratum: (n, sum, sum of squares)}. A stratum of one person borrows
    ``pooled_var`` (the force's variance) for its spread."""
    weights, coverage = _weights(strata, standard)
    if not weights:
        return Estimate(None, None, None, 0.0), None
    value = var = 0.0
    for k, W in weights:
        n, s, ss = strata[k]
        m = s / n
        sv = max(ss - n * m * m, 0.0) / (n - 1) if n > 1 else (pooled_var or 0.0)
        value += W * m
        var += W * W * sv / n
    z = stats.norm.ppf(1 - alpha / 2)
    half = z * math.sqrt(var)
    return Estimate(value, value - half, value + half, coverage), var


# --- funnel limits ---------------------------------------------------------------------
def binomial_limit(p0: float, n, prob: float, interpolate: bool = True):
    """The ``prob`` quantile of Binomial(n, p0) as a proportion (``n`` a number or an array).

    With ``interpolate`` (Spiegelhalter 2005): r = the exact quantile,
    a = (F(r) − prob) / (F(r) − F(r−1)), limit = (r − a) / n."""
    n_arr = np.asarray(n, dtype=float)
    r = stats.binom.ppf(prob, n_arr, p0)
    if interpolate:
        f_r = stats.binom.cdf(r, n_arr, p0)
        f_prev = np.where(r > 0, stats.binom.cdf(r - 1, n_arr, p0), 0.0)
        gap = f_r - f_prev
        a = np.divide(f_r - prob, gap, out=np.zeros_like(gap), where=gap > 0)
        r = np.maximum(r - a, 0.0)
    out = r / n_arr
    return float(out) if out.ndim == 0 else out


def binomial_limits(p0: float, n, level: float = 0.95, interpolate: bool = True):
    """Two-sided funnel limits (lower, upper) for ``level`` (0.95 or 0.998)."""
    tail = (1 - level) / 2
    return binomial_limit(p0, n, tail, interpolate), binomial_limit(p0, n, 1 - tail, interpolate)


def mean_limits(m0: float, sd0: float, n, level: float = 0.95):
    half = stats.norm.ppf(1 - (1 - level) / 2) * sd0 / np.sqrt(np.asarray(n, dtype=float))
    lo, hi = m0 - half, m0 + half
    return (float(lo), float(hi)) if np.ndim(lo) == 0 else (lo, hi)


def limits(kind: str, centre: float, n, level: float, spread: float | None = None):
    if kind == "mean":
        return mean_limits(centre, spread or 0.0, n, level)
    return binomial_limits(centre, n, level)


def funnel_curve(kind: str, centre: float, n_max: int, spread: float | None = None,
                 n_min: int = 5, points: int = 80) -> dict:
    """Limit lines for a funnel plot: {"n": [...], "lo95": [...], "hi95": ..., "lo998": ..., "hi998": ...}."""
    ns = np.array(sorted({int(round(x)) for x in np.geomspace(max(n_min, 1), max(n_max, n_min + 1) * 1.05, points)}))
    out = {"n": ns.tolist()}
    for level, tag in ((0.95, "95"), (0.998, "998")):
        lo, hi = limits(kind, centre, ns, level, spread)
        out[f"lo{tag}"] = np.asarray(lo).tolist()
        out[f"hi{tag}"] = np.asarray(hi).tolist()
    return out


def _classify(value: float, lo95: float, hi95: float, lo998: float, hi998: float) -> str:
    if value > hi998:
        return "above998"
    if value > hi95:
        return "above95"
    if value < lo998:
        return "below998"
    if value < lo95:
        return "below95"
    return "within"


def position(value: float | None, n: int, kind: str, centre: float, spread: float | None = None) -> str | None:
    """Where a unit lies against the funnel: above998/above95/within/below95/below998."""
    return positions([value], [n], kind, centre, spread)[0]


def positions(values: Sequence[float | None], ns: Sequence[int], kind: str, centre: float,
              spread: float | None = None) -> list[str | None]:
    """``position`` for many units at once (one vectorised quantile call per limit)."""
    idx = [i for i, (v, n) in enumerate(zip(values, ns)) if v is not None and n]
    out: list[str | None] = [None] * len(values)
    if not idx:
        return out
    n_arr = np.array([ns[i] for i in idx])
    lo95, hi95 = (np.atleast_1d(x) for x in limits(kind, centre, n_arr, 0.95, spread))
    lo998, hi998 = (np.atleast_1d(x) for x in limits(kind, centre, n_arr, 0.998, spread))
    for j, i in enumerate(idx):
        out[i] = _classify(values[i], lo95[j], hi95[j], lo998[j], hi998[j])
    return out


# --- heterogeneity -----------------------------------------------------------------------
def chi_square_proportions(events: Sequence[float], n: Sequence[float]) -> Heterogeneity | None:
    """Pearson chi-square (no continuity correction) on the k x 2 table of events and non-events."""
    rows = [(e, m - e) for e, m in zip(events, n) if m > 0]
    if len(rows) < 2:
        return None
    table = np.array(rows, dtype=float)
    df = len(rows) - 1
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        return Heterogeneity(0.0, df, 1.0, "pearson")
    stat, p, dof, _ = stats.chi2_contingency(table, correction=False)
    return Heterogeneity(float(stat), int(dof), float(p), "pearson")


def cochran_q(rates: Sequence[float], variances: Sequence[float]) -> Heterogeneity | None:
    """Cochran's Q over estimates with known variances (standardised rates)."""
    pairs = [(r, v) for r, v in zip(rates, variances) if r is not None and v]
    if len(pairs) < 2:
        return None
    r = np.array([p[0] for p in pairs])
    w = 1 / np.array([p[1] for p in pairs])
    pooled = (w * r).sum() / w.sum()
    q = float((w * (r - pooled) ** 2).sum())
    df = len(pairs) - 1
    return Heterogeneity(q, df, float(stats.chi2.sf(q, df)), "cochran_q")


def chi_square_means(n: Sequence[float], total: Sequence[float], total_sq: Sequence[float]) -> Heterogeneity | None:
    """Between-units chi-square for means: Σ n_i (m_i − m)² / s²_within on k − 1 df."""
    groups = [(a, b, c) for a, b, c in zip(n, total, total_sq) if a > 0]
    if len(groups) < 2:
        return None
    N = sum(g[0] for g in groups)
    grand = sum(g[1] for g in groups) / N
    within = sum(g[2] - g[1] ** 2 / g[0] for g in groups)
    dfw = N - len(groups)
    if dfw <= 0 or within <= 0:
        return None
    s2 = within / dfw
    stat = sum(g[0] * (g[1] / g[0] - grand) ** 2 for g in groups) / s2
    df = len(groups) - 1
    return Heterogeneity(float(stat), df, float(stats.chi2.sf(stat, df)), "means")
