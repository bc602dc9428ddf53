"""Trend statistics for one officer's indicator series (statsmodels).

* ``ols_trend``: straight-line trend over exam values, slope per year with its
  95% CI. "Worsening" only when the CI excludes zero *and* the slope points in
  the harmful direction; a single wild value (Bonferroni outlier test, from 5
  points on) is left out and reported rather than allowed to make a trend.
* ``lowess_curve``: robust LOWESS over dense kiosk readings, fitted per
  stretch of readings so the curve never bridges a long gap.
* ``holt_forecast``: damped-trend Holt (ETS A,Ad,N) over monthly medians with
  a prediction interval, only where there is a year or more of recent,
  mostly gap-free history.
* ``yearly_forecast``: for an officer seen only at yearly exams, the value at
  the next yearly exam from the exam trend line, with its OLS prediction interval.
  The trend itself carries the 95% confidence band of the fitted line, so a chart
  can draw how sure the line is, not only say it.

Every function takes ``[(date or datetime, value), ...]`` in any order and
returns None (or an empty list) rather than a number it cannot stand behind.
"""
from __future__ import annotations

import datetime as dt
import math
import warnings
import statistics
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from scipy import stats
from statsmodels.nonparametric.smoothers_lowess import lowess
from statsmodels.tsa.exponential_smoothing.ets import ETSModel
from threadpoolctl import ThreadpoolController

__all__ = ["Trend", "Forecast", "ols_trend", "lowess_curve", "holt_forecast", "yearly_forecast", "clean_points",
           "single_threaded_blas", "MIN_TREND_POINTS", "MIN_LOWESS_POINTS", "MIN_FORECAST_MONTHS"]

DAYS_PER_YEAR = 365.25
MIN_TREND_POINTS = 3          # distinct exam dates for an OLS trend
MIN_TREND_SPAN_YEARS = 0.5    # a slope "per year" from a few weeks of data means nothing
MIN_LOWESS_POINTS = 8         # readings in one stretch before a LOWESS curve is drawn
LOWESS_MAX_GAP_DAYS = 90      # a longer silence starts a new stretch
MIN_FORECAST_MONTHS = 12      # months with readings in the stretch a forecast stands on
FORECAST_MAX_GAP_MONTHS = 3   # longer runs of empty months cut the history
FORECAST_MIN_COVERAGE = 0.6   # share of months in the stretch that have readings
FORECAST_MAX_STALENESS_MONTHS = 6  # no forecast from a series that stopped long ago
YEARLY_FORECAST_MAX_STALENESS_DAYS = 550  # a yearly forecast needs an exam in the last ~18 months
BAND_POINTS = 12              # points along the trend line at which its confidence band is drawn

Point = tuple[dt.date | dt.datetime, float]

_threadpools: ThreadpoolController | None = None


def single_threaded_blas():
    """A context in which BLAS runs on one thread. These fits are tiny (a few dozen points);
    a multi-threaded OpenBLAS spends far longer waking and syncing threads than computing,
    and on a busy server (one request per thread already) it made a forecast 10x slower."""
    global _threadpools
    if _threadpools is None:
        _threadpools = ThreadpoolController()
    return _threadpools.limit(limits=1, user_api="blas")


@dataclass(frozen=True)
class Trend:
    n: int                      # exam points used
    slope_per_year: float
    ci_low: float
    ci_high: float
    p_value: float
    significant: bool           # 95% CI excludes zero
    worsening: bool             # significant and in the harmful direction
    improving: bool             # significant and in the helpful direction
    start: tuple[str, float]    # fitted line at the first and last date (ISO date, value)
    end: tuple[str, float]
    excluded: list[str] = field(default_factory=list)  # ISO dates left out as outliers
    band: list[tuple[str, float, float]] = field(default_factory=list)  # (ISO date, low, high): 95% CI of the line

    def to_json(self) -> dict:
        return dict(vars(self))


@dataclass(frozen=True)
class Forecast:
    dates: list[str]            # ISO dates, mid-month, the 12 months after the last month with data
    mean: list[float]
    lower: list[float]
    upper: list[float]
    months_used: int
    level: float                # 1 - alpha of the prediction interval
    kind: str = "monthly"       # "monthly" (Holt over monthly medians) or "yearly" (the exam trend, next exam)

    def to_json(self) -> dict:
        return dict(vars(self))


def _as_date(x) -> dt.date:
    return x.date() if isinstance(x, dt.datetime) else x


def clean_points(points: Iterable[Point]) -> list[tuple[dt.date, float]]:
    """Sorted (date, value) pairs with missing and non-finite values dropped."""
    out = []
    for when, value in points:
        if when is None or value is None:
            continue
        try:
            v = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(v):
            out.append((_as_date(when), v))
    out.sort(key=lambda p: p[0])
    return out


def _daily_means(points: list[tuple[dt.date, float]]) -> tuple[list[dt.date], np.ndarray]:
    """One value per date (the mean of same-day values: repeat measurements)."""
    by_day: dict[dt.date, list[float]] = {}
    for d, v in points:
        by_day.setdefault(d, []).append(v)
    days = sorted(by_day)
    return days, np.array([sum(by_day[d]) / len(by_day[d]) for d in days])  # plain sums: np.mean per day is slow


def _years(days: Sequence[dt.date], origin: dt.date) -> np.ndarray:
    return np.array([(d - origin).days / DAYS_PER_YEAR for d in days])


def ols_trend(points: Iterable[Point], harmful: str | None, *, min_points: int = MIN_TREND_POINTS,
              alpha: float = 0.05) -> Trend | None:
    """OLS of value on time in years. ``harmful`` is "up", "down" or None (never worsening).

    None when there are fewer than ``min_points`` distinct dates or they span
    less than half a year."""
    fitted = _trend_fit(points, min_points, alpha)
    if fitted is None:
        return None
    days, y, keep, fit = fitted
    slope = fit.b1
    exact = fit.ssr <= 1e-12 * max(1.0, float(np.sum(y[keep] ** 2)))
    if exact:
        # An exact line: no residual error, the slope is known exactly.
        if abs(slope) <= 1e-9 * max(1.0, float(np.abs(y[keep]).max())):
            slope = 0.0
        lo = hi = slope
        p = 0.0 if slope else 1.0
    else:
        lo, hi, p = fit.slope_interval(alpha)
    significant = lo > 0 or hi < 0
    worsening = significant and ((harmful == "up" and slope > 0) or (harmful == "down" and slope < 0))
    improving = significant and ((harmful == "up" and slope < 0) or (harmful == "down" and slope > 0))
    used = [d for d, k in zip(days, keep) if k]
    x0, x1 = _years([used[0], used[-1]], days[0])
    b0 = fit.b0
    return Trend(n=int(keep.sum()), slope_per_year=slope, ci_low=lo, ci_high=hi, p_value=p,
                 significant=significant, worsening=worsening, improving=improving,
                 start=(used[0].isoformat(), float(b0 + slope * x0)), end=(used[-1].isoformat(), float(b0 + slope * x1)),
                 excluded=[d.isoformat() for d, k in zip(days, keep) if not k],
                 band=_line_band(fit, days[0], used[0], used[-1], alpha, exact))


def _trend_fit(points: Iterable[Point], min_points: int, alpha: float):
    """(days, daily means, kept mask, OLS fit) of value on years since the first day, a lone wild
    value left out (Bonferroni outlier test, from 5 points on); None when the points cannot carry a trend."""
    days, y = _daily_means(clean_points(points))
    if len(days) < min_points or (days[-1] - days[0]).days / DAYS_PER_YEAR < MIN_TREND_SPAN_YEARS:
        return None
    x = _years(days, days[0])
    keep = np.ones(len(days), dtype=bool)
    fit = _ols(x, y)
    if len(days) >= 5 and fit.ssr > 1e-12:
        outliers = _bonferroni_outliers(x, y, fit.resid, fit.ssr) < alpha
        if outliers.any() and (~outliers).sum() >= min_points:
            keep = ~outliers
            fit = _ols(x[keep], y[keep])
    return days, y, keep, fit


def _predict(fit: "_Line", x: np.ndarray, alpha: float, obs: bool, exact: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and (1 - alpha) interval of the fitted line at ``x`` (years): of the line itself, or with
    ``obs`` of a new reading there (prediction interval). An exact line has no spread."""
    x = np.asarray(x, dtype=float)
    mean = fit.b0 + fit.b1 * x
    if exact:
        return mean, mean, mean
    with np.errstate(all="ignore"):
        se = np.sqrt(fit.s2 * ((1.0 if obs else 0.0) + 1.0 / fit.n + (x - fit.xbar) ** 2 / fit.sxx))
    half = fit.t_crit(alpha) * se
    return mean, mean - half, mean + half


def _line_band(fit, origin: dt.date, first: dt.date, last: dt.date, alpha: float, exact: bool) -> list:
    span = (last - first).days
    grid = [first + dt.timedelta(days=round(span * i / (BAND_POINTS - 1))) for i in range(BAND_POINTS)]
    _, lo, hi = _predict(fit, _years(grid, origin), alpha, obs=False, exact=exact)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return []
    return [(d.isoformat(), float(a), float(b)) for d, a, b in zip(grid, lo, hi)]


def yearly_forecast(points: Iterable[Point], *, as_of: dt.date | None = None, alpha: float = 0.05,
                    min_points: int = MIN_TREND_POINTS, floor: float | None = 0.0) -> Forecast | None:
    """The value at the next yearly exam (a year after the last one) from the exam trend line, with
    the (1 - alpha) prediction interval of a new reading, drawn from the last exam to the next.

    For officers seen only at yearly exams, who never have the monthly history a Holt forecast needs.
    None where the exams cannot carry a trend (``ols_trend``'s rules) or the last one is more than
    YEARLY_FORECAST_MAX_STALENESS_DAYS before ``as_of``."""
    fitted = _trend_fit(points, min_points, alpha)
    if fitted is None:
        return None
    days, y, keep, fit = fitted
    last = [d for d, k in zip(days, keep) if k][-1]
    if as_of is not None and (as_of - last).days > YEARLY_FORECAST_MAX_STALENESS_DAYS:
        return None
    nxt = last + dt.timedelta(days=round(DAYS_PER_YEAR))
    exact = fit.ssr <= 1e-12 * max(1.0, float(np.sum(y[keep] ** 2)))
    mean, lo, hi = _predict(fit, _years([last, nxt], days[0]), alpha, obs=True, exact=exact)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return None
    if floor is not None:
        mean, lo, hi = (np.maximum(a, floor) for a in (mean, lo, hi))
    return Forecast([last.isoformat(), nxt.isoformat()], [float(v) for v in mean], [float(v) for v in lo],
                    [float(v) for v in hi], int(keep.sum()), 1 - alpha, kind="yearly")


def _bonferroni_outliers(x: np.ndarray, y: np.ndarray, resid: np.ndarray, ssr: float) -> np.ndarray:
    """Bonferroni p-values of the externally studentised residuals of a straight-line fit (what
    statsmodels' ``outlier_test(method="bonf")`` gives, without building an influence object)."""
    n, k = len(x), 2
    xc = x - x.mean()
    hat = 1.0 / n + xc ** 2 / float(np.sum(xc ** 2))
    with np.errstate(all="ignore"):
        s2_without = (ssr - resid ** 2 / (1 - hat)) / (n - k - 1)
        t = resid / np.sqrt(np.maximum(s2_without, 1e-300) * (1 - hat))
    p = 2 * stats.t.sf(np.abs(t), n - k - 1)
    return np.nan_to_num(np.minimum(1.0, p * n), nan=1.0)


@dataclass(frozen=True)
class _Line:
    """The least-squares straight line of y on x, with what statsmodels' OLS reports for it (the
    slope's interval and p-value; ``_predict``: intervals of the line and of a new reading), in
    closed form: a statsmodels fit and its pandas prediction frame cost ~30x more for a dozen points."""
    b0: float
    b1: float
    resid: np.ndarray
    ssr: float
    n: int
    xbar: float
    sxx: float

    @property
    def s2(self) -> float:
        return self.ssr / (self.n - 2) if self.n > 2 else float("nan")

    def t_crit(self, alpha: float) -> float:
        return float(stats.t.ppf(1 - alpha / 2, self.n - 2)) if self.n > 2 else float("nan")

    def slope_interval(self, alpha: float) -> tuple[float, float, float]:
        """(low, high) of the slope's (1 - alpha) confidence interval and its two-sided p-value."""
        with np.errstate(all="ignore"):
            se = math.sqrt(self.s2 / self.sxx) if self.n > 2 else float("nan")
            half = self.t_crit(alpha) * se
            p = float(2 * stats.t.sf(abs(self.b1 / se), self.n - 2)) if se > 0 else float("nan")
        return self.b1 - half, self.b1 + half, p


def _ols(x: np.ndarray, y: np.ndarray) -> _Line:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    xbar, ybar = float(x.mean()), float(y.mean())
    xc = x - xbar
    sxx = float(np.dot(xc, xc))
    b1 = float(np.dot(xc, y - ybar)) / sxx
    b0 = ybar - b1 * xbar
    resid = y - (b0 + b1 * x)
    return _Line(b0, b1, resid, float(np.dot(resid, resid)), len(x), xbar, sxx)


def _stretches(points: list[tuple[dt.date, float]], max_gap_days: int) -> list[list[tuple[dt.date, float]]]:
    out: list[list[tuple[dt.date, float]]] = []
    for p in points:
        if out and (p[0] - out[-1][-1][0]).days <= max_gap_days:
            out[-1].append(p)
        else:
            out.append([p])
    return out


def lowess_curve(points: Iterable[Point], *, min_points: int = MIN_LOWESS_POINTS,
                 max_gap_days: int = LOWESS_MAX_GAP_DAYS, max_points: int = 120) -> list[list[tuple[str, float]]]:
    """Robust LOWESS (3 robustifying iterations, so single spikes barely move it). Local fits are
    made every 2% of the time span and interpolated between (a window spans 30% or more).

    Returns one curve per stretch of readings with at least ``min_points``
    readings and no silence longer than ``max_gap_days``; each curve is at
    most ``max_points`` (ISO date, value) pairs."""
    curves = []
    for stretch in _stretches(clean_points(points), max_gap_days):
        days, y = _daily_means(stretch)
        if len(stretch) < min_points or len(days) < 4:
            continue
        x = np.array([d.toordinal() for d in days], dtype=float)
        frac = min(1.0, max(0.3, 10.0 / len(days)))
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fitted = lowess(y, x, frac=frac, it=3, delta=0.02 * (x[-1] - x[0]), return_sorted=True)
        if not np.all(np.isfinite(fitted[:, 1])):
            continue
        step = max(1, math.ceil(len(fitted) / max_points))
        rows = list(fitted[::step])
        if rows[-1][0] != fitted[-1][0]:
            rows.append(fitted[-1])
        curves.append([(dt.date.fromordinal(int(round(xv))).isoformat(), float(yv)) for xv, yv in rows])
    return curves


def _month_index(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def _mid_month(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 15)


def holt_forecast(points: Iterable[Point], *, horizon: int = 12, as_of: dt.date | None = None,
                  alpha: float = 0.05, min_months: int = MIN_FORECAST_MONTHS,
                  floor: float | None = 0.0) -> Forecast | None:
    """Damped Holt (ETS A,Ad,N) forecast of monthly medians, ``horizon`` months ahead,
    with a (1 - alpha) prediction interval.

    The history is the last stretch of months without a run of more than
    FORECAST_MAX_GAP_MONTHS empty months; it must hold ``min_months`` months
    with readings, be at least FORECAST_MIN_COVERAGE full, and (when ``as_of``
    is given) end within FORECAST_MAX_STALENESS_MONTHS of it. Empty months
    inside it are interpolated. None otherwise, or if the model cannot be fitted."""
    by_month: dict[int, list[float]] = {}
    for d, v in clean_points(points):
        by_month.setdefault(_month_index(d), []).append(v)
    if len(by_month) < min_months:
        return None
    months = sorted(by_month)
    start = months[0]
    for prev, cur in zip(months, months[1:]):
        if cur - prev - 1 > FORECAST_MAX_GAP_MONTHS:
            start = cur
    months = [m for m in months if m >= start]
    last = months[-1]
    if as_of is not None and _month_index(as_of) - last > FORECAST_MAX_STALENESS_MONTHS:
        return None
    span = last - start + 1
    if len(months) < min_months or len(months) / span < FORECAST_MIN_COVERAGE:
        return None
    have = np.array([m - start for m in months], dtype=float)
    series = np.interp(np.arange(span, dtype=float), have, [statistics.median(by_month[m]) for m in months])
    if float(series.std()) < 1e-9:
        level = float(series[-1])  # a constant series: the forecast is that constant, no spread
        dates = [_mid_month(last + h).isoformat() for h in range(1, horizon + 1)]
        return Forecast(dates, [level] * horizon, [level] * horizon, [level] * horizon, len(months), 1 - alpha)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            fit = _ets_fit(series)
            mean, var = damped_holt_forecast(fit, horizon)
    except (ValueError, np.linalg.LinAlgError, FloatingPointError):
        return None
    half = stats.norm.ppf(1 - alpha / 2) * np.sqrt(var)
    lo, hi = mean - half, mean + half
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return None
    if floor is not None:
        mean, lo, hi = (np.maximum(a, floor) for a in (mean, lo, hi))
    dates = [_mid_month(last + h).isoformat() for h in range(1, horizon + 1)]
    return Forecast(dates, [float(v) for v in mean], [float(v) for v in lo], [float(v) for v in hi],
                    len(months), 1 - alpha)


def damped_holt_forecast(fit, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Point forecasts and forecast-error variances of a fitted ETS(A,Ad,N), h = 1..horizon.

    The closed forms of Hyndman et al. (2008, table 6.1; FPP3 section 8.7), which is what
    statsmodels' ``get_prediction`` evaluates too, without its pandas machinery (half the cost):
    mean_h = l_T + (phi + ... + phi^h) b_T, var_h = sigma^2 * v_h."""
    a, b, phi = fit.smoothing_level, fit.smoothing_trend, fit.damping_trend
    level, trend = np.asarray(fit.states)[-1]
    h = np.arange(1, horizon + 1, dtype=float)
    mean = level + np.cumsum(phi ** h) * trend
    rel = (1 + a ** 2 * (h - 1)
           + (b * phi * h) / (1 - phi) ** 2 * (2 * a * (1 - phi) + b * phi)
           - (b * phi * (1 - phi ** h)) / ((1 - phi) ** 2 * (1 - phi ** 2))
           * (2 * a * (1 - phi ** 2) + b * phi * (1 + 2 * phi - phi ** h)))
    return mean, fit.mse * rel


def _ets_fit(series):
    """ETS(A,Ad,N). Heuristic initial states (Hyndman et al. 2008) leave three parameters to
    optimise instead of five: about five times faster, forecasts within a rounding error."""
    try:
        return ETSModel(series, error="add", trend="add", damped_trend=True,
                        initialization_method="heuristic").fit(disp=False)
    except ValueError:
        return ETSModel(series, error="add", trend="add", damped_trend=True).fit(disp=False)
