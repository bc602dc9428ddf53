"""What the portrait screen and its printed A4 report share: which officer a request is about,
the unit words, and the y-range and guideline-band colours of an indicator's chart."""
from __future__ import annotations

from models import portrait
from models.schema import Officer
from web.access import AccessDenied, officer_in_scope
from web.i18n import tr

BAND_FILL = {"normal": "rgba(44,160,44,0.07)", "borderline": "rgba(242,197,0,0.12)",
             "abnormal": "rgba(255,127,14,0.12)", "severe": "rgba(214,39,40,0.10)"}


def own_or_in_scope(session, scope, key) -> Officer:
    """``key`` is forged until proven otherwise: "" means "my own record" (officers only), else a
    badge inside the caller's scope; anything else is AccessDenied (one answer for unknown and foreign)."""
    if not isinstance(key, str) or len(key) > 20:
        raise AccessDenied("no access")
    if key == "":
        if scope.role != "officer" or scope.officer_id is None:
            raise AccessDenied("no access")
        officer = session.get(Officer, scope.officer_id)
        if officer is None:
            raise AccessDenied("no access")
        return officer
    return officer_in_scope(session, scope, key)


def resolve_officer(session, scope, key) -> Officer:
    """The officer a portrait request is about (:func:`own_or_in_scope`), or AccessDenied; leaders
    only open red/orange officers."""
    officer = own_or_in_scope(session, scope, key)
    if scope.role == "leader" and not portrait.leader_may_view(session, officer.id):
        raise AccessDenied("no access")
    return officer


def unit_word(unit: str) -> str:
    """Units are international except the questionnaires' points (分)."""
    return tr("分", "points") if unit == "分" else unit


def y_range(s: dict) -> tuple[float, float]:
    """The value axis of one indicator's series: every reading, the trend's band and the forecast band, padded."""
    values = [v for k in ("exam", "kiosk", "screening", "self") for _, v, _ in s.get(k, [])]
    if s.get("forecast"):
        values += s["forecast"]["lower"] + s["forecast"]["upper"]
    if s.get("trend") and s["trend"].get("band"):
        values += [lo for _, lo, _ in s["trend"]["band"]] + [hi for _, _, hi in s["trend"]["band"]]
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.12, abs(hi) * 0.04, 0.5 if s["decimals"] else 2)
    return max(0.0, lo - pad), hi + pad
