"""Trend, LOWESS and forecast functions on series with known answers (models/trends.py)."""
import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.trends import holt_forecast, lowess_curve, ols_trend, yearly_forecast

D0 = dt.date(2021, 3, 1)


def yearly(values, start=D0):
    return [(start + dt.timedelta(days=round(365.25 * i)), v) for i, v in enumerate(values)]


def daily(values, start=D0, every=1):
    return [(start + dt.timedelta(days=i * every), v) for i, v in enumerate(values)]


# --- OLS trend ---------------------------------------------------------------------
def test_por101_exact_line_gives_its_slope_per_year():
    days = [D0 + dt.timedelta(days=d) for d in (0, 400, 730, 1100)]
    t = ols_trend([(d, 120 + 5 * (d - D0).days / 365.25) for d in days], "up")
    assert t.slope_per_year == pytest.approx(5.0, rel=1e-3)
    assert t.ci_low == pytest.approx(5.0, rel=1e-3) and t.ci_high == pytest.approx(5.0, rel=1e-3)
    assert t.significant and t.worsening and not t.improving
    assert t.n == 4


def test_por102_noisy_known_slope_inside_ci():
    rng = np.random.default_rng(11)
    values = [5.0 + 0.3 * i + rng.normal(0, 0.05) for i in range(6)]
    t = ols_trend(yearly(values), "up")
    assert t.ci_low < 0.3 < t.ci_high
    assert t.slope_per_year == pytest.approx(0.3, abs=0.05)
    assert t.worsening


def test_por103_harmful_direction_decides_worsening():
    falling = yearly([1.40, 1.30, 1.20, 1.10])
    hdl = ols_trend(falling, "down")      # HDL falling is harmful
    ldl = ols_trend(falling, "up")        # LDL falling is good
    none = ols_trend(falling, None)
    assert hdl.worsening and not hdl.improving
    assert ldl.improving and not ldl.worsening
    assert none.significant and not none.worsening and not none.improving


def test_por104_non_significant_slope_never_worsening():
    t = ols_trend(yearly([130, 122, 138, 126, 135]), "up")
    assert t.ci_low < 0 < t.ci_high
    assert not t.significant and not t.worsening


def test_por105_flat_series_is_flat():
    t = ols_trend(yearly([6.0, 6.0, 6.0]), "up")
    assert t.slope_per_year == pytest.approx(0.0, abs=1e-9)
    assert not t.significant and not t.worsening


@pytest.mark.parametrize("pts", [
    [],
    yearly([120]),
    yearly([120, 130]),                                        # two exams
    [(D0, 120), (D0, 121), (D0 + dt.timedelta(days=365), 130)],  # three rows, two dates
    daily([120, 125, 130, 135], every=30),                     # three months: too short for "per year"
    yearly([120, None, float("nan")]),                         # missing values dropped
])
def test_por106_too_short_series_give_no_trend(pts):
    assert ols_trend(pts, "up") is None


def test_por107_gaps_handled_by_real_dates():
    # Exams in 2015, 2016 and 2024: the slope is per calendar year, not per exam.
    pts = [(dt.date(2015, 6, 1), 100.0), (dt.date(2016, 6, 1), 101.0), (dt.date(2024, 6, 1), 109.0)]
    t = ols_trend(pts, "up")
    assert t.slope_per_year == pytest.approx(1.0, abs=0.01)


def test_por108_one_wild_value_is_left_out_and_named():
    values = [120.2, 123.1, 125.8, 210.0, 132.1, 135.0, 137.9]
    pts = yearly(values)
    t = ols_trend(pts, "up")
    assert t.excluded == [pts[3][0].isoformat()]
    assert t.n == 6
    assert t.slope_per_year == pytest.approx(2.95, abs=0.15)


def test_por109_outlier_cannot_fake_a_worsening_trend():
    # Flat-ish values with one spike at the end: with the spike in, OLS would be steep.
    values = [5.0, 5.1, 4.9, 5.0, 5.1, 4.95, 5.05, 9.5]
    t = ols_trend(yearly(values), "up")
    assert not t.worsening
    assert len(t.excluded) == 1


def test_por110_same_day_repeats_are_averaged_and_unordered_input_sorted():
    pts = yearly([100, 110, 120])
    pts.append((pts[1][0], 112))   # repeat at the second exam: mean 111
    t1 = ols_trend(list(reversed(pts)), "up")
    assert t1.n == 3
    assert t1.slope_per_year == pytest.approx(10.0, abs=0.2)


def test_por111_datetimes_accepted_and_line_ends_on_data():
    pts = [(dt.datetime(2020 + i, 5, 1, 9, 30), 70 + 2 * i) for i in range(3)]
    t = ols_trend(pts, "up")
    assert t.start[0] == "2020-05-01" and t.end[0] == "2022-05-01"
    assert t.start[1] == pytest.approx(70, abs=0.05) and t.end[1] == pytest.approx(74, abs=0.05)


# --- LOWESS --------------------------------------------------------------------------
def test_por121_lowess_follows_a_known_line():
    pts = daily([130 + 0.05 * i for i in range(60)], every=2)
    (curve,) = lowess_curve(pts)
    for day, value in curve:
        i = (dt.date.fromisoformat(day) - D0).days / 2
        assert value == pytest.approx(130 + 0.05 * i, abs=0.05)


def test_por122_lowess_resists_a_spike():
    values = [128.0 + (i % 3) for i in range(40)]
    values[20] = 220.0
    (curve,) = lowess_curve(daily(values))
    assert max(v for _, v in curve) < 132


def test_por123_lowess_needs_dense_series():
    assert lowess_curve(daily([130, 131, 129, 132, 130])) == []
    assert lowess_curve([]) == []


def test_por124_lowess_does_not_bridge_a_gap():
    first = daily([120 + (i % 2) for i in range(20)])
    second = daily([140 + (i % 2) for i in range(20)], start=D0 + dt.timedelta(days=200))
    curves = lowess_curve(first + second)
    assert len(curves) == 2
    assert curves[0][-1][0] <= first[-1][0].isoformat()
    assert curves[1][0][0] >= second[0][0].isoformat()
    assert all(v < 125 for _, v in curves[0]) and all(v > 135 for _, v in curves[1])


def test_por125_lowess_curve_is_thinned_for_the_browser():
    pts = daily([100 + math.sin(i / 10) for i in range(600)])
    (curve,) = lowess_curve(pts, max_points=100)
    assert len(curve) <= 101
    assert curve[-1][0] == pts[-1][0].isoformat()


# --- Holt/ETS forecast --------------------------------------------------------------
def monthly(values, start=dt.date(2023, 1, 10), per_month=3):
    pts = []
    for m, v in enumerate(values):
        y, mo = divmod(start.month - 1 + m, 12)
        base = dt.date(start.year + y, mo + 1, 5)
        pts += [(base + dt.timedelta(days=7 * k), v + (k - (per_month - 1) / 2) * 0.5) for k in range(per_month)]
    return pts


def test_por131_forecast_of_a_linear_series_continues_it():
    rng = np.random.default_rng(5)
    values = [120 + 0.5 * m + rng.normal(0, 0.3) for m in range(24)]
    f = holt_forecast(monthly(values), as_of=dt.date(2024, 12, 20))
    assert len(f.dates) == 12 and f.dates[0] == "2025-01-15" and f.dates[-1] == "2025-12-15"
    assert f.mean[0] == pytest.approx(132.0, abs=1.5)
    assert f.mean[-1] > f.mean[0]          # the trend goes on (damped)
    assert all(lo < m < hi for lo, m, hi in zip(f.lower, f.mean, f.upper))
    widths = [hi - lo for lo, hi in zip(f.lower, f.upper)]
    assert widths[-1] >= widths[0]         # uncertainty grows with the horizon
    assert f.months_used == 24 and f.level == pytest.approx(0.95)


def test_por132_too_little_history_gives_no_forecast():
    assert holt_forecast(monthly([120 + m for m in range(8)])) is None
    assert holt_forecast([]) is None
    assert holt_forecast(yearly([120, 125, 130, 135])) is None   # annual exams only


def test_por133_stale_series_gives_no_forecast():
    pts = monthly([120 + 0.2 * m for m in range(18)])
    assert holt_forecast(pts, as_of=dt.date(2024, 7, 1)) is not None
    assert holt_forecast(pts, as_of=dt.date(2026, 7, 1)) is None


def test_por134_long_gap_cuts_history():
    early = monthly([150.0] * 14, start=dt.date(2020, 1, 1))
    late = monthly([120 + 0.1 * m for m in range(6)], start=dt.date(2023, 1, 1))
    assert holt_forecast(early + late) is None            # only 6 months after the gap
    late = monthly([120 + 0.1 * m for m in range(14)], start=dt.date(2023, 1, 1))
    f = holt_forecast(early + late)
    assert f.months_used == 14 and f.mean[0] < 130        # the 150s before the gap are not used


def test_por135_short_gaps_are_interpolated():
    values = [120 + 0.5 * m for m in range(20)]
    pts = [p for p in monthly(values) if p[0].strftime("%Y-%m") not in ("2023-06", "2023-07", "2024-02")]
    f = holt_forecast(pts)
    assert f is not None and f.months_used == 17
    assert f.mean[0] == pytest.approx(130, abs=2.0)


def test_por136_monthly_medians_shrug_off_a_spike():
    pts = monthly([125.0 + (m % 2) for m in range(18)])
    pts.append((dt.date(2024, 6, 20), 260.0))
    f = holt_forecast(pts)
    assert 120 < f.mean[0] < 130


def test_por137_constant_series_forecast_is_that_constant():
    f = holt_forecast(monthly([7.0] * 15, per_month=1))
    assert f.mean == [7.0] * 12 and f.lower == f.upper == [7.0] * 12


def test_por138_forecast_never_negative():
    values = [max(0.0, 10 - 0.9 * m) for m in range(12)] + [0.5] * 2
    f = holt_forecast(monthly(values, per_month=1))
    assert f is not None and min(f.lower) >= 0


def test_por112_outlier_test_matches_statsmodels():
    import statsmodels.api as sm

    from models.trends import _bonferroni_outliers

    rng = np.random.default_rng(2)
    for n in (5, 7, 12):
        x = np.sort(rng.uniform(0, 5, n))
        y = 3 + 2 * x + rng.normal(0, 1, n)
        y[n // 2] += 8
        fit = sm.OLS(y, sm.add_constant(x)).fit()
        assert np.allclose(_bonferroni_outliers(x, y, fit.resid, fit.ssr), fit.outlier_test(method="bonf")[:, 2])


def test_por139_closed_form_forecast_matches_statsmodels_prediction():
    import pandas as pd
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    from models.trends import damped_holt_forecast

    rng = np.random.default_rng(9)
    y = 130 + 0.4 * np.arange(28) + rng.normal(0, 2.5, 28)
    fit = ETSModel(pd.Series(y, index=pd.period_range("2023-01", periods=28, freq="M")), error="add", trend="add",
                   damped_trend=True, initialization_method="heuristic").fit(disp=False)
    frame = fit.get_prediction(start=28, end=39).summary_frame(alpha=0.05)
    mean, var = damped_holt_forecast(fit, 12)
    assert np.allclose(mean, frame["mean"].to_numpy())
    half = 1.959963984540054 * np.sqrt(var)
    assert np.allclose(mean - half, frame["pi_lower"].to_numpy())
    assert np.allclose(mean + half, frame["pi_upper"].to_numpy())


# --- honest trends (issue 20, item 4) -----------------------------------------------------------
YEARLY = [(dt.date(2021, 5, 10), 128.0), (dt.date(2022, 5, 3), 133.0), (dt.date(2023, 5, 15), 131.0),
          (dt.date(2024, 5, 6), 138.0), (dt.date(2025, 5, 12), 141.0)]


def test_trn001_trend_carries_its_confidence_band_around_the_line():
    t = ols_trend(YEARLY, "up")
    band = t.band
    assert len(band) >= 2 and band[0][0] == t.start[0] and band[-1][0] == t.end[0]
    # the band holds the fitted line and is widest at the ends, narrowest near the middle of the data
    assert band[0][1] < t.start[1] < band[0][2] and band[-1][1] < t.end[1] < band[-1][2]
    widths = [hi - lo for _, lo, hi in band]
    assert min(widths) < widths[0] and min(widths) < widths[-1]
    exact = ols_trend([(dt.date(2021, 1, 1), 100.0), (dt.date(2022, 1, 1), 102.0), (dt.date(2023, 1, 1), 104.0)], "up")
    assert all(lo == hi for _, lo, hi in exact.band)  # an exact line has no spread to draw


def test_trn002_yearly_exams_get_a_next_exam_forecast_with_its_interval():
    f = yearly_forecast(YEARLY, as_of=dt.date(2025, 11, 18))
    assert f is not None and f.kind == "yearly" and f.months_used == 5
    assert f.dates[0] == "2025-05-12" and dt.date.fromisoformat(f.dates[1]) - dt.date(2025, 5, 12) == dt.timedelta(days=365)
    t = ols_trend(YEARLY, "up")
    assert f.mean[1] == pytest.approx(t.end[1] + t.slope_per_year * 365 / 365.25, rel=1e-6)
    # a new reading's interval: wider than the line's own band, and wider a year out than at the last exam
    assert f.lower[1] < f.mean[1] < f.upper[1]
    assert f.upper[1] - f.lower[1] > f.upper[0] - f.lower[0] > t.band[-1][2] - t.band[-1][1]


def test_trn003_no_yearly_forecast_from_too_few_or_stale_exams():
    assert yearly_forecast(YEARLY[:2], as_of=dt.date(2025, 11, 18)) is None
    assert yearly_forecast(YEARLY, as_of=dt.date(2027, 3, 1)) is None  # nearly two years since the last exam


@settings(max_examples=60, deadline=None)
@given(n=st.integers(3, 25), seed=st.integers(0, 10_000), slope=st.floats(-20, 20), noise=st.floats(0.01, 30))
def test_por140_closed_form_line_matches_statsmodels_ols(n, seed, slope, noise):
    """The trend's straight line, slope interval, p-value and both prediction intervals, in closed
    form, give what statsmodels' OLS gives for the same points."""
    import statsmodels.api as sm

    from models.trends import _ols, _predict

    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0, 8, n))
    x[-1] = x[0] + 1 + x[-1]  # never all at one time
    y = 120 + slope * x + rng.normal(0, noise, n)
    ours, theirs = _ols(x, y), sm.OLS(y, sm.add_constant(x)).fit()
    assert np.allclose([ours.b0, ours.b1, ours.ssr], [theirs.params[0], theirs.params[1], theirs.ssr], rtol=1e-9, atol=1e-9)
    lo, hi, p = ours.slope_interval(0.05)
    assert np.allclose([lo, hi], theirs.conf_int(0.05)[1], rtol=1e-7) and math.isclose(p, theirs.pvalues[1], rel_tol=1e-6, abs_tol=1e-12)
    at = np.array([x[0], x[-1], x[-1] + 1.0])
    frame = theirs.get_prediction(sm.add_constant(at, has_constant="add")).summary_frame(0.05)
    for obs, (low, high) in ((False, ("mean_ci_lower", "mean_ci_upper")), (True, ("obs_ci_lower", "obs_ci_upper"))):
        mean, a, b = _predict(ours, at, 0.05, obs=obs, exact=False)
        assert np.allclose(mean, frame["mean"]) and np.allclose(a, frame[low]) and np.allclose(b, frame[high])
