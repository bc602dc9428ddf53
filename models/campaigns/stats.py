"""The statistics of a campaign: the projection of its total to the end (OLS with a trend and a
weekend effect) and "did it work?" (difference in differences for weight, BMI and SBP)."""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.campaigns.access import Viewer, core_rows, scope_paths, subtree_ids, visible_campaign
from models.campaigns.members import context, officer_totals
from models.schema import Observation, Officer
from models.vocab import SMALL_GROUP

DID_MEASURES = ("weight_kg", "bmi", "sbp")
DID_MIN_GROUP = 10            # officers with before and after values, per group
BASELINE_DAYS = 365           # "before": latest value in the year up to the start
FOLLOW_UP_DAYS = 180          # "after": first value from the last two weeks to 180 days after the end
PARTICIPANT_SHARE = 0.25      # participant: active on at least a quarter of the campaign days


# --- the projection -------------------------------------------------------------------------------
def _design(days: np.ndarray, weekend: np.ndarray, use_weekend: bool) -> np.ndarray:
    cols = [np.ones_like(days, dtype=float), days.astype(float)]
    if use_weekend:
        cols.append(weekend.astype(float))
    return np.column_stack(cols)


def project_total(daily: list[float], day_dates: list[dt.date], end: dt.date, level: float = 0.95) -> dict | None:
    """Project the cumulative total to ``end`` from daily totals.

    OLS of the daily total on a linear trend (drop-off) and a weekend
    indicator (weekend dips); the interval of the projected cumulative sum
    adds the parameter uncertainty of the summed forecasts (xᵀΣx) to the
    residual variance of each future day, with t on the residual degrees of
    freedom. None when there are fewer than five days to fit on."""
    import statsmodels.api as sm
    from scipy import stats

    n = len(daily)
    if n < 5 or not day_dates:
        return None
    start = day_dates[0]
    t = np.array([(d - start).days for d in day_dates])
    wk = np.array([d.weekday() >= 5 for d in day_dates])
    use_weekend = bool(wk.any() and (~wk).any() and n >= 7)
    fit = sm.OLS(np.asarray(daily, dtype=float), _design(t, wk, use_weekend)).fit()
    future = [day_dates[-1] + dt.timedelta(days=k) for k in range(1, (end - day_dates[-1]).days + 1)]
    observed = float(np.sum(daily))
    if not future:
        return {"dates": [], "mean": [], "low": [], "high": [], "final": observed, "final_low": observed,
                "final_high": observed, "slope_per_day": float(fit.params[1]), "weekend_effect":
                float(fit.params[2]) if use_weekend else None, "observed": observed}
    tf = np.array([(d - start).days for d in future])
    wf = np.array([d.weekday() >= 5 for d in future])
    xf = _design(tf, wf, use_weekend)
    pred = np.maximum(xf @ fit.params, 0.0)  # a day's total cannot be negative
    cum_x = np.cumsum(xf, axis=0)
    cov = np.asarray(fit.cov_params())
    sigma2 = float(fit.scale)
    var = np.einsum("ij,jk,ik->i", cum_x, cov, cum_x) + np.arange(1, len(future) + 1) * sigma2
    q = stats.t.ppf(0.5 + level / 2, max(fit.df_resid, 1))
    mean = observed + np.cumsum(pred)
    half = q * np.sqrt(var)
    low = np.maximum(mean - half, observed)
    high = mean + half
    return {"dates": [d.isoformat() for d in future], "mean": mean.tolist(), "low": low.tolist(),
            "high": high.tolist(), "final": float(mean[-1]), "final_low": float(low[-1]),
            "final_high": float(high[-1]), "slope_per_day": float(fit.params[1]),
            "weekend_effect": float(fit.params[2]) if use_weekend else None, "observed": observed,
            "sd_final": float(np.sqrt(var[-1])), "df": float(fit.df_resid)}


# --- did it work? ---------------------------------------------------------------------------------
def did_estimate(rows: list[tuple[int, float, float, bool]]) -> dict:
    """DiD from (officer, before, after, participant) rows: OLS of the value on group × period,
    standard errors clustered by officer."""
    import pandas as pd
    import statsmodels.formula.api as smf

    part = [r for r in rows if r[3]]
    non = [r for r in rows if not r[3]]
    res: dict[str, Any] = {"n_participants": len(part), "n_others": len(non)}
    for label, group in (("participants", part), ("others", non)):
        res[f"{label}_before"] = float(np.mean([r[1] for r in group])) if group else None
        res[f"{label}_after"] = float(np.mean([r[2] for r in group])) if group else None
        res[f"{label}_change"] = float(np.mean([r[2] - r[1] for r in group])) if group else None
    if len(part) < DID_MIN_GROUP or len(non) < DID_MIN_GROUP:
        res["verdict"] = "insufficient"
        return res
    long = pd.DataFrame(
        [(oid, v0, 0, int(p)) for oid, v0, _v1, p in rows] + [(oid, v1, 1, int(p)) for oid, _v0, v1, p in rows],
        columns=["officer", "y", "post", "treated"])
    fit = smf.ols("y ~ treated * post", data=long).fit(cov_type="cluster", cov_kwds={"groups": long["officer"]})
    low, high = fit.conf_int().loc["treated:post"]
    est = float(fit.params["treated:post"])
    res.update(did=est, ci_low=float(low), ci_high=float(high), p=float(fit.pvalues["treated:post"]))
    res["verdict"] = "lower" if high < 0 else "higher" if low > 0 else "unclear"
    return res


def did_it_work(session: Session, viewer: Viewer, campaign_id: Any, today: dt.date) -> dict:
    """Change in weight, BMI and SBP for participants vs the other members of a finished campaign.

    Participants were active on at least a quarter of the campaign's days; the
    comparison group is every other member. "Before" is each officer's latest
    value in the year up to the start; "after" the first value from the last two
    weeks of the campaign up to 180 days after it. Observational: officers chose
    to take part, so the estimate is an association, not proof of an effect."""
    campaign = visible_campaign(session, viewer, campaign_id)
    ctx = context(session, campaign, today)
    if ctx.status != "finished":
        return {"status": ctx.status, "measures": {}}
    c = campaign
    per = officer_totals(session, ctx)
    need = math.ceil(PARTICIPANT_SHARE * ctx.days_total)
    participant = {oid for oid, v in per.items() if v[1] >= need}
    before_from = dt.datetime.combine(c.start_date - dt.timedelta(days=BASELINE_DAYS), dt.time())
    before_to = dt.datetime.combine(c.start_date, dt.time.max)
    after_from = dt.datetime.combine(c.end_date - dt.timedelta(days=13), dt.time())
    after_to = dt.datetime.combine(min(c.end_date + dt.timedelta(days=FOLLOW_UP_DAYS), today), dt.time.max)
    def pick(code: str, lo: dt.datetime, hi: dt.datetime, latest: bool):
        # one index seek per officer and code (uq_observation starts with officer, code, time)
        return (select(Observation.value)
                .where(Observation.officer_id == Officer.id, Observation.code == code,
                       Observation.observed_at.between(lo, hi))
                .order_by(Observation.observed_at.desc() if latest else Observation.observed_at.asc())
                .limit(1).correlate(Officer).scalar_subquery())

    cols = [pick(code, *window) for code in DID_MEASURES
            for window in ((before_from, before_to, True), (after_from, after_to, False))]
    unit_ids = subtree_ids(ctx.units, scope_paths(c, ctx.units))
    before: dict[tuple[int, str], float] = {}
    after: dict[tuple[int, str], float] = {}
    for row in core_rows(session, select(Officer.id, *cols).where(Officer.active, Officer.unit_id.in_(unit_ids))):
        for k, code in enumerate(DID_MEASURES):
            v0, v1 = row[1 + 2 * k], row[2 + 2 * k]
            if v0 is not None and v1 is not None:
                before[(row[0], code)], after[(row[0], code)] = v0, v1
    measures = {}
    for code in DID_MEASURES:
        rows = [(oid, before[(oid, code)], after[(oid, code)], oid in participant)
                for (oid, cd) in after if cd == code and (oid, code) in before]
        if rows:
            measures[code] = did_estimate(rows)
    if viewer.role == "leader":
        for m in measures.values():
            if m["n_participants"] < SMALL_GROUP or m["n_others"] < SMALL_GROUP:
                for k in list(m):
                    if k not in ("n_participants", "n_others", "verdict"):
                        m[k] = None
                m["suppressed"] = True
                m["verdict"] = "insufficient"
    return {"status": ctx.status, "participants": len(participant), "others": len(ctx.member_unit) - len(participant),
            "participant_min_days": need, "days_total": ctx.days_total, "measures": measures,
            "windows": {"before": [before_from.date().isoformat(), c.start_date.isoformat()],
                        "after": [after_from.date().isoformat(), after_to.date().isoformat()]}}
