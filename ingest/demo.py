"""The deterministic synthetic demo force (issue 2, "Demo city" and "Demo accounts").

``build_demo(url, scale="city", seed=42, as_of=None, ...)`` creates the schema,
then writes a fictional police force shaped like Foshan's "e警康" data: a city
bureau (南江市公安局, code ``NJ``) with departments (``NJ-X01`` ...) and districts
(``NJ-D1`` ...) of stations (``NJ-D1-S01`` ...), officers with valid GB 11643 ID
numbers (stored only as keyed hash and masked form), 14 hospitals, three years
of annual exams (and re-checks) ending at ``as_of``, kiosk readings, PHQ-9/GAD-7
screenings, two step campaigns with points, and the demo accounts.

Everything is drawn from ``numpy.random.default_rng([seed, city, stage])``, so
the same seed and ``as_of`` give the same database (bar password hashes and the
snapshot's computed_at). Every event lies on or before ``as_of - 1`` ("today"
holds no readings yet).

Values come from a per-officer latent model (``simulate_latent``): each officer
has levels that persist from year to year; BMI rises with age, BP and glucose
with age and BMI, lipids and uric acid with BMI and sex. Two stations and one
district are clearly worse than the rest (``summary["standout_units"]``).

Rows are written in bulk with pre-assigned primary keys: SQLite through the
DBAPI ``executemany``, PostgreSQL through ``COPY``; values are passed in the
storage formats SQLAlchemy itself uses, so the ORM reads them back as usual.
"""
from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from sqlalchemy import func, select, text

from ingest import idcard
from ingest import names as N

__all__ = ["build_demo", "simulate_latent", "measure", "simulate_measures", "prevalences", "officer_roster",
           "SCALES", "EXAMS_PER_OFFICER", "DEMO_ID_KEY"]

DEMO_ID_KEY = idcard.DEMO_ID_KEY
EXAMS_PER_OFFICER = 37400 / 11700  # the seed: 37,400 exam records over 3 years for ~11,700 officers
YEARS = 3
EPOCH = dt.date(1970, 1, 1)

Progress = Callable[[str, int, int], None] | None


@dataclass(frozen=True)
class Scale:
    cities: int
    departments: tuple[str, ...]        # codes from names.DEPARTMENTS
    stations: tuple[int, ...]           # stations per district
    officers: int                       # per city
    dept_share: float                   # share of officers in city departments
    min_station: int


_ALL_DEPTS = tuple(d[0] for d in N.DEPARTMENTS)
SCALES: dict[str, Scale] = {
    "tiny": Scale(1, ("X01", "X02"), (3, 3), 160, 0.25, 10),
    "city": Scale(1, _ALL_DEPTS, (12, 10, 9, 11, 8), 11700, 0.295, 30),
    "province": Scale(10, _ALL_DEPTS, (12, 10, 9, 11, 8), 11700, 0.295, 30),
}

# stage numbers of the random streams: default_rng([seed, city, stage])
_S_UNITS, _S_OFFICERS, _S_LATENT, _S_EXAMS, _S_KIOSK, _S_SCREEN, _S_CAMPAIGN = range(7)

CANON_UNITS = {
    "height_cm": "cm", "weight_kg": "kg", "bmi": "kg/m2", "waist_cm": "cm", "body_fat_pct": "%",
    "visceral_fat": "level", "sbp": "mmHg", "dbp": "mmHg", "pulse": "bpm", "fpg": "mmol/L", "hba1c": "%",
    "tc": "mmol/L", "tg": "mmol/L", "hdl": "mmol/L", "ldl": "mmol/L", "ua": "µmol/L", "cr": "µmol/L",
    "alt": "U/L", "ast": "U/L", "phq9": "score", "phq9_item9": "score", "gad7": "score",
}
CODES = tuple(CANON_UNITS)
CODE_IX = {c: i for i, c in enumerate(CODES)}
KINDS = ("exam", "kiosk", "screening")
EXAM_CODES = ("height_cm", "weight_kg", "bmi", "waist_cm", "sbp", "dbp", "pulse", "fpg", "hba1c", "tc", "tg",
              "hdl", "ldl", "ua", "alt", "ast", "cr")
CRITICAL_ECG = ("af", "aflutter", "vt", "avb3", "stemi", "qtc_gt500")

FEMALE_SHARE = {"patrol": 0.05, "community": 0.16, "investigation": 0.12, "traffic": 0.07, "special": 0.02,
                "command": 0.42, "cyber": 0.25, "office": 0.40}
AGE_SHIFT = {"patrol": -2.0, "community": 2.0, "investigation": 0.0, "traffic": 0.0, "special": -6.0,
             "command": 1.0, "cyber": -3.0, "office": 2.0}
POST_BMI = {"patrol": -0.3, "community": 0.2, "investigation": 0.2, "traffic": 0.3, "special": -1.0,
            "command": 0.4, "cyber": 0.3, "office": 0.6}
POST_STEPS = {"patrol": 1.12, "community": 1.05, "investigation": 0.95, "traffic": 1.15, "special": 1.2,
              "command": 0.85, "cyber": 0.85, "office": 0.85}

ACCOUNTS = (  # username, role, scope: "city" / district index / None
    ("admin", "admin", None),
    ("leader", "leader", "city"),
    ("leader_d1", "leader", 0),
    ("leader_d2", "leader", 1),
    ("manager", "manager", "city"),
    ("manager_d1", "manager", 0),
    ("manager_d2", "manager", 1),
    ("counsellor", "counsellor", "city"),
    ("counsellor_d1", "counsellor", 0),
    ("officer", "officer", None),
    ("auditor", "auditor", None),
)
PSYCH_GRANTED = ("manager",)  # managers an admin granted psychological access (models.psych)


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _day(d: dt.date) -> int:
    return (d - EPOCH).days


def _date(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(n))


def _years_back(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def _weekday(days: np.ndarray) -> np.ndarray:
    """0 = Monday for epoch-day numbers (1970-01-01 was a Thursday)."""
    return (days + 3) % 7


def _to_workday(days: np.ndarray, lo: np.ndarray | int, hi: np.ndarray | int) -> np.ndarray:
    """Move weekend days to the next Monday, or back to Friday when that leaves [lo, hi]."""
    wd = _weekday(days)
    fwd = days + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))
    back = days - np.where(wd == 5, 1, np.where(wd == 6, 2, 0))
    out = np.where(fwd <= hi, fwd, back)
    return np.maximum(out, lo)


def _fmt_days(days: np.ndarray) -> list[str]:
    return np.datetime_as_string(np.asarray(days, dtype="int64").astype("datetime64[D]")).tolist()


def _fmt_secs(secs: np.ndarray) -> list[str]:
    """SQLAlchemy's SQLite DATETIME storage format ("2024-05-06 08:00:00.000000"); PostgreSQL parses it too."""
    secs = np.asarray(secs, dtype="int64")
    uniq, inv = np.unique(secs, return_inverse=True)
    txt = [s.replace("T", " ") + ".000000" for s in np.datetime_as_string(uniq.astype("datetime64[s]")).tolist()]
    return [txt[i] for i in inv.tolist()]


def _fmt_dt(x: dt.datetime) -> str:
    return x.strftime("%Y-%m-%d %H:%M:%S.%f")


# ---------------------------------------------------------------------------------------------
# the clinical latent model
# ---------------------------------------------------------------------------------------------
def simulate_latent(rng: np.random.Generator, ages: np.ndarray, male: np.ndarray, *,
                    bmi_shift: np.ndarray | float = 0.0, sbp_shift: np.ndarray | float = 0.0,
                    dbp_shift: np.ndarray | float = 0.0, tg_mult: np.ndarray | float = 1.0,
                    fpg_shift: np.ndarray | float = 0.0, post_bmi: np.ndarray | float = 0.0,
                    psych_shift: np.ndarray | float = 0.0) -> dict[str, np.ndarray]:
    """Per-officer levels at ``as_of`` (ages are ages then). Exams and kiosk readings
    add measurement noise and a yearly drift to these (``measure``)."""
    ages = np.asarray(ages, dtype=float)
    m = np.asarray(male, dtype=bool)
    n = len(ages)
    a = ages - 40.0
    height = np.where(m, rng.normal(171.5, 5.8, n), rng.normal(160.0, 5.2, n)) - 0.05 * a
    mu = np.where(m, 24.3 + 0.07 * a, 21.6 + 0.09 * a) + bmi_shift + post_bmi
    bmi = np.clip(mu * np.exp(rng.normal(0.0, 0.12, n) - 0.0072), 16.5, 45.0)
    bref = np.where(m, bmi - 24.0, bmi - 22.0)
    waist = np.where(m, 2.55 * bmi + 24.0 + 0.12 * a, 2.3 * bmi + 24.5 + 0.1 * a) + rng.normal(0, 3.5, n)
    zs = rng.normal(0.0, 1.0, n)
    sbp = np.where(m, 122.0, 111.0) + np.where(m, 0.5, 0.7) * a + 1.2 * bref + sbp_shift + 10.0 * zs
    dbp = np.where(m, 79.5, 72.0) + 0.3 * a + 0.8 * bref + dbp_shift + 3.5 * zs + rng.normal(0, 6.5, n)
    htn = rng.random(n) < _sig(-2.4 + 0.06 * a + 0.12 * bref + 0.4 * m)
    extra = rng.gamma(2.0, 7.0, n) * htn
    sbp = sbp + extra
    dbp = dbp + 0.6 * extra + rng.normal(0, 3.0, n) * htn
    dm = rng.random(n) < _sig(-2.8 + 0.08 * a + 0.16 * bref + 0.35 * m)
    fpg = np.where(dm, 7.3 * np.exp(rng.normal(0, 0.22, n)),
                   4.9 + 0.012 * a + 0.05 * bref + rng.normal(0, 0.38, n)) + fpg_shift
    hba1c = 2.65 + 0.55 * fpg + rng.normal(0, 0.2, n)
    tc = np.where(m, 4.85, 4.7) + 0.02 * a + 0.06 * bref + rng.normal(0, 0.8, n)
    tg = np.where(m, 1.3, 0.95) * np.exp(0.075 * bref + 0.004 * a + rng.normal(0, 0.5, n)) * tg_mult
    hdl = np.clip(np.where(m, 1.22, 1.46) - 0.035 * bref + rng.normal(0, 0.22, n), 0.55, None)
    ua = (np.where(m, 365.0, 285.0) + np.where(m, 7.0, 6.0) * bref
          + np.where(m, rng.normal(0, 68, n), rng.normal(0, 55, n)))
    alt = np.where(m, 24.0, 16.0) * np.exp(0.06 * bref + rng.normal(0, 0.42, n))
    cr = np.where(m, 82.0, 61.0) + 0.15 * a + np.where(m, rng.normal(0, 11, n), rng.normal(0, 9, n))
    pulse = 73.0 + rng.normal(0, 8.0, n)
    liver = (0.35 * bref + 0.8 * np.log(tg / 1.3) + 0.7 * np.log(alt / 24.0) + 0.3 * m
             + rng.normal(0, 0.8, n))
    return {
        "age": ages, "male": m, "height": height, "bmi": bmi, "waist": waist, "sbp": sbp, "dbp": dbp,
        "dm": dm, "fpg": fpg, "hba1c": hba1c, "tc": tc, "tg": tg, "hdl": hdl, "ua": ua, "alt": alt, "cr": cr,
        "pulse": pulse, "liver": liver,
        "fat_res": rng.normal(0, 2.5, n), "visc_res": rng.normal(0, 1.5, n),
        "psych": rng.normal(0, 1.0, n) + psych_shift, "anx": rng.normal(0, 1.0, n),
        "severe_dep": rng.random(n) < 0.0012,
    }


def measure(rng: np.random.Generator, lat: dict[str, np.ndarray], idx: np.ndarray, years_back: np.ndarray,
            *, noise: float = 1.0) -> dict[str, np.ndarray]:
    """Exam values (canonical units, lab precision) of officers ``lat[idx]`` measured
    ``years_back`` years before as_of. ``noise`` scales the within-person variation."""
    idx = np.asarray(idx)
    t = np.asarray(years_back, dtype=float)
    n = len(idx)
    g = {k: v[idx] for k, v in lat.items()}
    bmi_true = g["bmi"] - 0.15 * t + rng.normal(0, 0.45 * noise, n)
    d_bmi = bmi_true - g["bmi"]
    height = np.round(g["height"] + rng.normal(0, 0.4, n), 1)
    weight = np.round(bmi_true * (height / 100.0) ** 2, 1)
    bmi = np.round(weight / (height / 100.0) ** 2, 1)
    waist = np.round(g["waist"] - 0.4 * t + 2.5 * d_bmi + rng.normal(0, 1.8 * noise, n), 1)
    e_s = rng.normal(0, 6.5 * noise, n)
    sbp = np.round(g["sbp"] - 0.8 * t + 1.2 * d_bmi + e_s)
    dbp = np.round(g["dbp"] - 0.4 * t + 0.8 * d_bmi + 0.25 * e_s + rng.normal(0, 4.0 * noise, n))
    pulse = np.round(g["pulse"] + rng.normal(0, 5.0 * noise, n))
    fpg = np.where(g["dm"], g["fpg"] * np.exp(rng.normal(0, 0.10 * noise, n) - 0.03 * t),
                   g["fpg"] - 0.02 * t + rng.normal(0, 0.22 * noise, n))
    fpg = np.round(np.clip(fpg, 3.2, 25.0), 2)
    hba1c = np.round(np.clip(g["hba1c"] + 0.3 * (fpg - g["fpg"]) + rng.normal(0, 0.12 * noise, n), 4.0, 14.0), 1)
    tc = np.clip(g["tc"] - 0.03 * t + rng.normal(0, 0.3 * noise, n), 2.2, 11.0)
    tg = np.clip(g["tg"] * np.exp(rng.normal(0, 0.22 * noise, n) - 0.02 * t), 0.3, 15.0)
    hdl = np.clip(g["hdl"] + rng.normal(0, 0.08 * noise, n), 0.5, 3.0)
    ldl = np.clip(tc - hdl - tg / 2.2 + rng.normal(0, 0.12, n), 0.5, None)
    ua = np.round(np.clip(g["ua"] - 1.5 * t + rng.normal(0, 28 * noise, n), 120, 800))
    alt = np.clip(g["alt"] * np.exp(rng.normal(0, 0.2 * noise, n)), 5, 400)
    ast = np.round(np.clip(0.45 * alt + 11 + rng.normal(0, 3, n), 8, 300))
    cr = np.round(np.clip(g["cr"] + rng.normal(0, 5 * noise, n), 35, 300))
    return {
        "height_cm": height, "weight_kg": weight, "bmi": bmi, "waist_cm": waist, "sbp": sbp, "dbp": dbp,
        "pulse": pulse, "fpg": fpg, "hba1c": hba1c, "tc": np.round(tc, 2), "tg": np.round(tg, 2),
        "hdl": np.round(hdl, 2), "ldl": np.round(ldl, 2), "ua": ua, "alt": np.round(alt), "ast": ast, "cr": cr,
    }


def simulate_measures(rng: np.random.Generator, ages: np.ndarray, sexes: Sequence[str] | np.ndarray,
                      **shifts) -> dict[str, np.ndarray]:
    """One exam's values for a cohort (ages, "male"/"female"), as the demo draws them.
    Keyword shifts as in ``simulate_latent`` (bmi_shift, sbp_shift, ...)."""
    male = np.asarray(sexes) == "male"
    lat = simulate_latent(rng, np.asarray(ages, dtype=float), male, **shifts)
    return measure(rng, lat, np.arange(len(male)), np.zeros(len(male)))


def prevalences(v: dict[str, np.ndarray]) -> dict[str, float]:
    """Shares (0..1) of the conditions the issue targets, from one set of exam values."""
    htn = (v["sbp"] >= 140) | (v["dbp"] >= 90)
    dys = (v["tc"] >= 6.2) | (v["ldl"] >= 4.1) | (v["tg"] >= 2.3) | (v["hdl"] < 1.0)
    return {
        "hypertension": float(htn.mean()),
        "overweight_or_obese": float((v["bmi"] >= 24).mean()),
        "obese": float((v["bmi"] >= 28).mean()),
        "dyslipidemia": float(dys.mean()),
        "hyperuricemia": float((v["ua"] > 420).mean()),
        "diabetes": float((v["fpg"] >= 7.0).mean()),
        "bp_grade3": float(((v["sbp"] >= 180) | (v["dbp"] >= 110)).mean()),
        "fpg_ge_11_1": float((v["fpg"] >= 11.1).mean()),
    }


def _phq9(rng: np.random.Generator, psych: np.ndarray, severe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PHQ-9 totals and item 9: most 0-4, ~6% >= 10, a handful >= 20 or item 9 >= 1."""
    n = len(psych)
    lam = np.exp(0.8 + 0.78 * psych + 0.4 * rng.normal(0, 1, n))
    s = np.minimum(rng.poisson(lam), 27)
    s = np.where(s > 11, np.floor(11 + (s - 11) * 0.5), s).astype(int)
    s = np.where(severe, rng.integers(20, 27, n), s)
    item9 = np.where(rng.random(n) < _sig(-9.0 + 0.3 * s), rng.choice([1, 1, 1, 2, 3], n), 0)
    return s, item9


def _gad7(rng: np.random.Generator, psych: np.ndarray, anx: np.ndarray) -> np.ndarray:
    n = len(psych)
    lam = np.exp(0.55 + 0.55 * psych + 0.45 * anx + 0.35 * rng.normal(0, 1, n))
    g = np.minimum(rng.poisson(lam), 21)
    return np.where(g > 12, np.floor(12 + (g - 12) * 0.6), g).astype(int)


# ---------------------------------------------------------------------------------------------
# build context and per-city generation
# ---------------------------------------------------------------------------------------------
@dataclass
class _Ctx:
    seed: int
    scale: Scale
    scale_name: str
    as_of: dt.date
    ids: dict[str, int] = field(default_factory=dict)  # next id per table
    seen_ids: set = field(default_factory=set)          # raw ID numbers (uniqueness)
    batch_id: int = 1

    @property
    def last(self) -> int:  # last day with data
        return _day(self.as_of) - 1

    @property
    def first(self) -> int:  # first day of the 3-year window
        return self.last - 365 * YEARS + 1

    def rng(self, city: int, stage: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, city, stage])

    def take(self, table: str, n: int) -> np.ndarray:
        start = self.ids.get(table, 1)
        self.ids[table] = start + n
        return np.arange(start, start + n, dtype=np.int64)


def _units(ctx: _Ctx, ci: int, parent: dict | None) -> list[dict]:
    """The unit tree of one city in insertion order (parents first). Leaves (departments
    and stations) carry ``size``, ``posts`` and health effects for the generator."""
    rng = ctx.rng(ci, _S_UNITS)
    sc = ctx.scale
    ccode, cname, cpinyin, (clat, clon) = N.CITIES[ci]
    base_path = parent["path"] if parent else "/"
    depth0 = parent["depth"] + 1 if parent else 0
    ids = ctx.take("unit", 1 + len(sc.departments) + len(sc.stations) + sum(sc.stations))
    it = iter(ids.tolist())
    city = dict(id=next(it), code=ccode, name=f"{cname}市公安局", name_en=f"{cpinyin} Municipal Public Security Bureau",
                parent_id=parent["id"] if parent else None, level="city", path=f"{base_path}{ccode}/",
                depth=depth0, lat=round(clat, 5), lon=round(clon, 5), district=-1)
    out = [city]
    total = sc.officers if ctx.scale_name != "province" else int(round(sc.officers * rng.uniform(0.88, 1.12)))
    depts = [d for d in N.DEPARTMENTS if d[0] in sc.departments]
    dept_total = int(round(total * sc.dept_share))
    shares = np.array([d[3] for d in depts], dtype=float)
    dsizes = np.maximum(np.round(shares / shares.sum() * dept_total), 5).astype(int)
    for (suffix, zh, en, _share, posts), size in zip(depts, dsizes):
        ang = rng.uniform(0, 2 * np.pi)
        out.append(dict(id=next(it), code=f"{ccode}-{suffix}", name=zh, name_en=en, parent_id=city["id"],
                        level="department", path=f"{city['path']}{ccode}-{suffix}/", depth=depth0 + 1,
                        lat=round(clat + 0.012 * np.sin(ang), 5), lon=round(clon + 0.012 * np.cos(ang), 5),
                        district=-1, size=int(size), posts=posts, kiosk=ccode))
    n_st = sum(sc.stations)
    st_total = total - int(dsizes.sum())
    w = rng.lognormal(0.0, 0.42, n_st)
    sizes = np.maximum(np.round(w / w.sum() * st_total), sc.min_station)
    order = np.argsort(-sizes, kind="stable")
    sizes[order[0]] = max(sizes[order[0]], round(sizes[order[1]] * 1.35))  # one clearly largest station
    rest = order[1:]
    sizes[rest] = np.maximum(np.round(sizes[rest] * (st_total - sizes[order[0]]) / sizes[rest].sum()),
                             sc.min_station)
    sizes[order[0]] += st_total - sizes.sum()
    if ci == 0:
        dnames = list(range(len(sc.stations)))
    else:
        dnames = rng.choice(len(N.DISTRICTS), len(sc.stations), replace=False).tolist()
    pairs = [(i, j) for i in range(len(N.PLACE_SYLLABLES)) for j in range(len(N.PLACE_SYLLABLES)) if i != j]
    pick = rng.choice(len(pairs), n_st, replace=False)
    k = 0
    for di, n_stations in enumerate(sc.stations):
        dzh, den = N.DISTRICTS[dnames[di]]
        ang = 2 * np.pi * di / len(sc.stations) + rng.uniform(-0.3, 0.3)
        r = rng.uniform(0.1, 0.2)
        dlat, dlon = clat + r * np.sin(ang), clon + r * np.cos(ang) * 1.1
        dcode = f"{ccode}-D{di + 1}"
        dist = dict(id=next(it), code=dcode, name=f"{dzh}分局", name_en=f"{den} District Branch",
                    parent_id=city["id"], level="district", path=f"{city['path']}{dcode}/", depth=depth0 + 1,
                    lat=round(dlat, 5), lon=round(dlon, 5), district=di)
        out.append(dist)
        for si in range(n_stations):
            a, b = pairs[pick[k]]
            (za, pa), (zb, pb) = N.PLACE_SYLLABLES[a], N.PLACE_SYLLABLES[b]
            scode = f"{dcode}-S{si + 1:02d}"
            out.append(dict(id=next(it), code=scode, name=f"{za}{zb}派出所", name_en=f"{pa}{pb.lower()} Police Station",
                            parent_id=dist["id"], level="station", path=f"{dist['path']}{scode}/",
                            depth=depth0 + 2, lat=round(dlat + rng.normal(0, 0.035), 5),
                            lon=round(dlon + rng.normal(0, 0.04), 5), district=di, size=int(sizes[k]),
                            posts=N.STATION_POSTS, kiosk=scode))
            k += 1
    _unit_effects(rng, out)
    return out


def _unit_effects(rng: np.random.Generator, units: list[dict]) -> None:
    """Health, coverage and activity traits per leaf; two stations and one district stand out."""
    leaves = [u for u in units if "size" in u]
    districts = sorted({u["district"] for u in leaves if u["district"] >= 0})
    bad_d = districts[min(2, len(districts) - 1)] if districts else -99
    cands = [u for u in leaves if u["level"] == "station" and u["district"] != bad_d]
    med = np.median([u["size"] for u in cands]) if cands else 0
    big = [u for u in cands if u["size"] >= med and u["district"] != 0] or cands
    bad_st = {big[i]["code"] for i in rng.choice(len(big), min(2, len(big)), replace=False)} if big else set()
    for u in leaves:
        u.update(bmi=rng.normal(0, 0.3), sbp=rng.normal(0, 1.5), dbp=rng.normal(0, 1.0), tg=1.0, fpg=0.0,
                 psych=rng.normal(0, 0.12), coverage=rng.uniform(0.85, 0.95, YEARS),
                 screen_cov=rng.uniform(0.78, 0.95, YEARS), kiosk_use=rng.uniform(0.5, 1.5),
                 kiosk_install=int(rng.integers(0, 420)), hospital=-1, standout=None)
        if u["district"] == bad_d:
            u.update(bmi=u["bmi"] + 1.0, sbp=u["sbp"] + 4.0, dbp=u["dbp"] + 3.0, tg=1.1, fpg=0.1,
                     standout="district")
        if u["code"] in bad_st:
            u.update(bmi=u["bmi"] + 2.2, sbp=u["sbp"] + 8.0, dbp=u["dbp"] + 5.0, tg=1.25, fpg=0.25,
                     psych=u["psych"] + 0.3, standout="station")
        if u["district"] == 0:
            u["kiosk_install"] = int(rng.integers(0, 60))
    hq = [u for u in leaves if u["level"] == "department"]
    for u in hq:  # departments share the kiosks of the city headquarters
        u["kiosk_install"] = hq[0]["kiosk_install"]


def _hospitals(ctx: _Ctx, ci: int, units: list[dict]) -> list[dict]:
    """14 hospitals per city; each district has two, departments share the others."""
    ccode, cname = N.CITIES[ci][0], N.CITIES[ci][1]
    prefix = "" if ctx.scale.cities == 1 else f"{ccode}-"
    ids = ctx.take("hospital", len(N.HOSPITALS)).tolist()
    hosp = [dict(id=ids[i], code=f"{prefix}H{i + 1:02d}", name=f"{cname}{zh}") for i, (zh, _en) in
            enumerate(N.HOSPITALS)]
    n_h = len(hosp)
    leaves = [u for u in units if "size" in u]
    di_pairs = {}
    for u in leaves:
        if u["district"] >= 0:
            pair = di_pairs.setdefault(u["district"], ((2 * u["district"]) % n_h, (2 * u["district"] + 1) % n_h))
            u["hospital"] = pair[len([x for x in leaves if x["district"] == u["district"] and x["hospital"] >= 0]) % 2]
    nd = len(di_pairs)
    spare = list(range(2 * nd, n_h)) or list(range(n_h))
    for j, u in enumerate(x for x in leaves if x["district"] < 0):
        u["hospital"] = spare[j % len(spare)]
    return hosp


def _officers(ctx: _Ctx, ci: int, leaves: list[dict]) -> dict[str, Any]:
    """Roster arrays for one city, raw ID numbers included (they are hashed on write)."""
    rng = ctx.rng(ci, _S_OFFICERS)
    sizes = np.array([u["size"] for u in leaves])
    n = int(sizes.sum())
    leaf = np.repeat(np.arange(len(leaves)), sizes)
    post = np.empty(n, dtype=object)
    pos = 0
    for u, size in zip(leaves, sizes):
        keys = list(u["posts"])
        p = np.array([u["posts"][k] for k in keys], dtype=float)
        post[pos:pos + size] = np.array(keys, dtype=object)[rng.choice(len(keys), size, p=p / p.sum())]
        pos += size
    female = rng.random(n) < np.array([FEMALE_SHARE[p] for p in post])
    male = ~female
    young = rng.random(n) < 0.45
    age = np.where(young, rng.normal(34.0, 6.0, n), rng.normal(45.0, 7.0, n))
    age = np.clip(age + np.array([AGE_SHIFT[p] for p in post]), 22.0, 59.99)
    as_of = ctx.as_of
    lo = _day(_years_back(as_of, 60)) + 1   # born after this day -> at most 59 on as_of
    hi = _day(_years_back(as_of, 22))       # born on or before -> at least 22
    birth = np.clip(_day(as_of) - np.floor(age * 365.2425).astype(np.int64), lo, hi)
    age_days = _day(as_of) - birth
    hire_age = np.minimum(21.5 * 365.25 + rng.gamma(2.0, 1.3, n) * 365.25, age_days - rng.integers(20, 200, n))
    hire = np.maximum(birth + hire_age.astype(np.int64), birth + int(21 * 365.25))
    hire = np.minimum(hire, ctx.last - 10)
    # badges: 6 digits, city digit + 5 random digits (leading zeros at city 0)
    badge_num = rng.choice(100000, n, replace=False)
    badges = [f"{ci % 10}{b:05d}" for b in badge_num.tolist()]
    # names
    sw = np.array([f for _s, f in N.SURNAMES], dtype=float)
    sur = rng.choice(len(N.SURNAMES), n, p=sw / sw.sum())
    gm, gf = tuple(dict.fromkeys(N.GIVEN_MALE)), tuple(dict.fromkeys(N.GIVEN_FEMALE))
    one = rng.random(n) < 0.12
    c1m, c2m = rng.integers(0, len(gm), n), rng.integers(0, len(gm), n)
    c1f, c2f = rng.integers(0, len(gf), n), rng.integers(0, len(gf), n)
    # no doubled character (嘉嘉) for men; 婷婷 now and then for women
    c2m = np.where(c2m == c1m, (c1m + 1 + c2m % (len(gm) - 1)) % len(gm), c2m)
    c2f = np.where((c2f == c1f) & (rng.random(n) < 0.8), (c1f + 1 + c2f % (len(gf) - 1)) % len(gf), c2f)
    rare = rng.random(n) < 0.015
    rare_c = rng.integers(0, len(N.GIVEN_RARE), n)
    names = []
    for i in range(n):
        pool, a, b = (gm, c1m[i], c2m[i]) if male[i] else (gf, c1f[i], c2f[i])
        given = pool[a] if one[i] else pool[a] + pool[b]
        if rare[i]:
            given = given[:-1] + N.GIVEN_RARE[rare_c[i]]
        names.append(N.SURNAMES[sur[i]][0] + given)
    # ID numbers: Guangdong area codes, birth date, sex parity, unique within the build
    aw = np.array([w for _c, w in N.AREA_CODES], dtype=float)
    area = rng.choice(len(N.AREA_CODES), n, p=aw / aw.sum())
    seq = rng.integers(0, 500, n) * 2 + male.astype(int)
    births = [_date(b) for b in birth.tolist()]
    id_numbers = []
    for i in range(n):
        s = int(seq[i])
        while True:
            num = idcard.make(N.AREA_CODES[area[i]][0], births[i], s)
            if num not in ctx.seen_ids:
                break
            s = int(rng.integers(0, 500)) * 2 + int(male[i])
        ctx.seen_ids.add(num)
        id_numbers.append(num)
    return dict(n=n, leaf=leaf, post=post, male=male, age=age_days / 365.2425, age_years=age, birth=birth,
                hire=hire, badge=badges, name=names, id_number=id_numbers,
                unit_code=[leaves[j]["code"] for j in leaf.tolist()])


def _pick_officer_user(ctx: _Ctx, off: dict, leaves: list[dict]) -> int:
    """The officer behind the ``officer`` account: district 1, middle-aged man, hired
    before the data window (so three years of exams)."""
    rng = ctx.rng(0, _S_OFFICERS + 100)
    d1 = np.array([leaves[j]["district"] == 0 and leaves[j]["level"] == "station" and leaves[j]["standout"] is None
                   for j in off["leaf"]])
    ok = d1 & off["male"] & (off["age"] >= 42) & (off["age"] < 52) & (off["hire"] < ctx.first - 365)
    cand = np.flatnonzero(ok)
    if len(cand) == 0:
        cand = np.flatnonzero(d1 & (off["hire"] < ctx.first - 365)) if (d1 & (off["hire"] < ctx.first - 365)).any() \
            else np.flatnonzero(d1)
    return int(cand[rng.integers(0, len(cand))])


def _latent_for_city(ctx: _Ctx, ci: int, off: dict, leaves: list[dict], user_ix: int | None) -> dict:
    rng = ctx.rng(ci, _S_LATENT)
    leaf = off["leaf"]
    eff = {k: np.array([u[k] for u in leaves], dtype=float)[leaf] for k in ("bmi", "sbp", "dbp", "tg", "fpg", "psych")}
    post_bmi = np.array([POST_BMI[p] for p in off["post"]])
    lat = simulate_latent(rng, off["age"], off["male"], bmi_shift=eff["bmi"], sbp_shift=eff["sbp"],
                          dbp_shift=eff["dbp"], tg_mult=eff["tg"], fpg_shift=eff["fpg"], post_bmi=post_bmi,
                          psych_shift=eff["psych"])
    lat["pulse"] = lat["pulse"] - 4.0 * (off["post"] == "special")
    if user_ix is not None:  # shape the demo officer: grade-2 BP, obese, prediabetes, lipids, uric acid -> orange
        i = user_ix
        shaped = dict(bmi=28.9, waist=97.5, sbp=162.0, dbp=101.0, dm=False, fpg=6.35, hba1c=6.1, tc=5.95,
                      tg=2.75, hdl=0.96, ua=468.0, alt=52.0, pulse=78.0, liver=2.0, psych=-0.6, anx=-0.5,
                      severe_dep=False)
        for k, v in shaped.items():
            lat[k][i] = v
    return lat


# ---------------------------------------------------------------------------------------------
# exams
# ---------------------------------------------------------------------------------------------
_ECG_TEXT = {
    "af": "心房颤动", "aflutter": "心房扑动", "vt": "阵发性室性心动过速", "avb3": "三度房室传导阻滞",
    "stemi": "急性ST段抬高，急性心肌梗死待排", "qtc_gt500": "QTc间期延长", "sinus_brady": "窦性心动过缓",
    "sinus_tachy": "窦性心动过速", "lvh": "左心室高电压", "st_t": "ST-T改变", "rbbb": "完全性右束支传导阻滞",
    "irbbb": "不完全性右束支传导阻滞", "avb1": "一度房室传导阻滞", "pvc": "偶发室性早搏",
}


def _exam_findings(rng: np.random.Generator, v: dict, age: np.ndarray, off_ix: np.ndarray, lat: dict,
                   no_critical: np.ndarray) -> tuple[list, list]:
    """ECG and ultrasound findings per exam (coded lists), drawn with age and BP effects."""
    n = len(off_ix)
    a = age - 40
    p_af = 0.0008 * np.exp(0.08 * a)
    draws = rng.random((n, 6))
    probs = np.stack([p_af, np.full(n, 0.00012), np.full(n, 0.00006), np.full(n, 0.00012),
                      np.full(n, 0.00006), np.full(n, 0.0002)], axis=1)
    hit = (draws < probs) & ~no_critical[:, None]
    ecg = [[] for _ in range(n)]
    for i, j in zip(*np.nonzero(hit)):
        if not ecg[i]:
            ecg[i].append(CRITICAL_ECG[j])
    pulse = v["pulse"]
    other = rng.random((n, 8))
    for i in range(n):
        f = ecg[i]
        if f:
            continue
        if pulse[i] < 58 and other[i, 0] < 0.75:
            f.append("sinus_brady")
        elif pulse[i] > 100 and other[i, 0] < 0.8:
            f.append("sinus_tachy")
        if v["sbp"][i] >= 150 and other[i, 1] < 0.15:
            f.append("lvh")
        if other[i, 2] < 0.01 + 0.0015 * max(a[i], 0):
            f.append("st_t")
        if other[i, 3] < 0.010:
            f.append("rbbb")
        elif other[i, 3] < 0.028:
            f.append("irbbb")
        if other[i, 4] < 0.007:
            f.append("avb1")
        if other[i, 5] < 0.012:
            f.append("pvc")
    liver = lat["liver"][off_ix] + rng.normal(0, 0.35, n)
    us = rng.random((n, 3))
    ultra = []
    for i in range(n):
        f = []
        if liver[i] > 0.9:
            f.append(("fatty_liver", "重度" if liver[i] > 3.5 else "中度" if liver[i] > 2.15 else "轻度"))
        if us[i, 0] < 0.06:
            f.append(("gallbladder_polyp", None))
        if us[i, 1] < 0.04:
            f.append(("liver_cyst", None))
        if us[i, 2] < 0.02 + 0.06 * (v["ua"][i] > 480):
            f.append(("kidney_stone", None))
        ultra.append(f)
    return ecg, ultra


def _ecg_text(codes: list[str], pulse: float, rng_val: float) -> str:
    if not codes:
        return "窦性心律，正常心电图"
    c = codes[0]
    if c == "af":
        return f"心房颤动，心室率{int(pulse + 20)}次/分"
    if c == "aflutter":
        return f"心房扑动（2:1下传），心室率{int(pulse + 60)}次/分"
    if c == "qtc_gt500":
        return f"窦性心律，QTc间期延长（QTc {int(505 + rng_val * 40)}ms）"
    if c in CRITICAL_ECG:
        return _ECG_TEXT[c]
    parts = [] if c in ("sinus_brady", "sinus_tachy") else ["窦性心律"]
    parts += [_ECG_TEXT[x] for x in codes]
    return "，".join(parts)


def _us_text(items: list[tuple[str, str | None]], size: float) -> str:
    if not items:
        return "肝、胆、胰、脾、双肾未见明显异常"
    out = []
    for code, deg in items:
        if code == "fatty_liver":
            out.append(f"脂肪肝（{deg}）")
        elif code == "gallbladder_polyp":
            out.append(f"胆囊息肉（约{int(3 + size * 5)}mm）")
        elif code == "liver_cyst":
            out.append("肝囊肿")
        elif code == "kidney_stone":
            out.append("肾结石")
    return "；".join(out) + "；余未见明显异常"


def _summary_text(v: dict, i: int, ecg: list[str], ecg_txt: str | None, us: list, recheck: bool) -> str:
    items = []
    get = lambda k: v[k][i] if k in v and not np.isnan(v[k][i]) else None  # noqa: E731
    sbp, dbp = get("sbp"), get("dbp")
    if sbp is not None and (sbp >= 140 or dbp >= 90):
        grade = "3级" if sbp >= 180 or dbp >= 110 else "2级" if sbp >= 160 or dbp >= 100 else "1级"
        items.append(f"血压升高（{int(sbp)}/{int(dbp)} mmHg，{grade}高血压水平），建议非同日复测血压，心内科随诊")
    bmi = get("bmi")
    if bmi is not None and bmi >= 28:
        items.append(f"肥胖（BMI {bmi:.1f}），建议控制饮食、增加运动")
    elif bmi is not None and bmi >= 24:
        items.append(f"超重（BMI {bmi:.1f}）")
    fpg = get("fpg")
    if fpg is not None and fpg >= 7.0:
        items.append(f"空腹血糖升高（{fpg:.2f} mmol/L），建议内分泌科就诊")
    elif fpg is not None and fpg >= 6.1:
        items.append(f"空腹血糖受损（{fpg:.2f} mmol/L），建议复查")
    lip = []
    if get("tg") is not None:
        if v["tg"][i] >= 2.3:
            lip.append("甘油三酯升高")
        if v["tc"][i] >= 6.2:
            lip.append("总胆固醇升高")
        if v["ldl"][i] >= 4.1:
            lip.append("低密度脂蛋白胆固醇升高")
        if v["hdl"][i] < 1.0:
            lip.append("高密度脂蛋白胆固醇偏低")
    if lip:
        items.append("血脂异常（" + "、".join(lip) + "），建议低脂饮食")
    ua = get("ua")
    if ua is not None and ua > 420:
        items.append(f"高尿酸血症（{int(ua)} μmol/L），建议低嘌呤饮食、多饮水")
    alt = get("alt")
    if alt is not None and alt > 40:
        items.append(f"谷丙转氨酶升高（{int(alt)} U/L）")
    if ecg and ecg[0] in CRITICAL_ECG:
        items.append(f"心电图提示{ecg_txt}，属危急值，已电话通知本人，请立即到心内科就诊")
    elif ecg:
        items.append(f"心电图：{ecg_txt}")
    for code, deg in us:
        if code == "fatty_liver":
            items.append(f"脂肪肝（{deg}），建议控制体重")
        elif code == "gallbladder_polyp":
            items.append("胆囊息肉，建议定期复查彩超")
        elif code == "kidney_stone":
            items.append("肾结石，建议泌尿外科随诊")
    head = "复查结论：" if recheck else ""
    if not items:
        return head + ("复查结果未见明显异常。" if recheck else "本次体检各项指标未见明显异常。")
    return head + "；".join(f"{k + 1}. {t}" for k, t in enumerate(items)) + "。"


@dataclass
class _Obs:
    """Observation columns being collected for one city."""
    officer: list = field(default_factory=list)
    code: list = field(default_factory=list)
    value: list = field(default_factory=list)
    secs: list = field(default_factory=list)
    kind: list = field(default_factory=list)
    source: list = field(default_factory=list)   # index into sources
    exam: list = field(default_factory=list)     # exam id or 0
    station: list = field(default_factory=list)  # index into sources or -1
    sources: list = field(default_factory=list)
    _src_ix: dict = field(default_factory=dict)

    def src(self, name: str) -> int:
        if name not in self._src_ix:
            self._src_ix[name] = len(self.sources)
            self.sources.append(name)
        return self._src_ix[name]

    def add(self, officer, code: str, value, secs, kind: str, source, exam=0, station=-1) -> None:
        n = len(officer)
        if n == 0:
            return
        bc = lambda x, dtype: np.broadcast_to(np.asarray(x, dtype=dtype), (n,))  # noqa: E731
        self.officer.append(np.asarray(officer, dtype=np.int64))
        self.code.append(bc(CODE_IX[code], np.int16))
        self.value.append(np.asarray(value, dtype=float))
        self.secs.append(bc(secs, np.int64))
        self.kind.append(bc(KINDS.index(kind), np.int8))
        self.source.append(bc(source, np.int32))
        self.exam.append(bc(exam, np.int64))
        self.station.append(bc(station, np.int32))

    def arrays(self) -> dict[str, np.ndarray]:
        cols = {k: np.concatenate(getattr(self, k)) if getattr(self, k) else np.empty(0)
                for k in ("officer", "code", "value", "secs", "kind", "source", "exam", "station")}
        order = np.lexsort((cols["source"], cols["kind"], cols["secs"], cols["code"], cols["officer"]))
        cols = {k: v[order] for k, v in cols.items()}
        keys = ("officer", "code", "secs", "kind", "source")
        dup = np.zeros(len(order), dtype=bool)  # the unique key of observation: drop exact repeats
        if len(order) > 1:
            dup[1:] = np.logical_and.reduce([cols[k][1:] == cols[k][:-1] for k in keys])
        return {k: v[~dup] for k, v in cols.items()}


def _exams(ctx: _Ctx, ci: int, off: dict, leaves: list[dict], hosp: list[dict], lat: dict, officer_ids: np.ndarray,
           obs: _Obs, user_ix: int | None) -> dict:
    """Annual exams (coverage 85-95% per unit and year) plus re-checks of abnormal results."""
    rng = ctx.rng(ci, _S_EXAMS)
    n, leaf = off["n"], off["leaf"]
    n_h = len(hosp)
    season = rng.integers(0, 365 - 80, (n_h, YEARS))
    hba1c_panel = rng.random(n_h) < 0.35
    no_waist = np.zeros(n_h, dtype=bool)
    no_waist[6 % n_h] = True
    recs = []  # (officer_ix, hospital_ix, day, year_k)
    main_h = np.array([u["hospital"] for u in leaves])[leaf]
    cov = np.array([u["coverage"] for u in leaves])[leaf]  # (n, YEARS)
    for k in range(YEARS):
        lo = ctx.first + 365 * k
        hi = lo + 364
        take = rng.random(n) < cov[:, k]
        if user_ix is not None:
            take[user_ix] = True
        h = np.where(rng.random(n) < 0.93, main_h, rng.integers(0, n_h, n))
        if user_ix is not None:
            h[user_ix] = main_h[user_ix]
        day = lo + season[h, k] + rng.integers(0, 80, n)
        day = _to_workday(day, lo, hi)
        take &= off["hire"] + 30 <= day
        ix = np.flatnonzero(take)
        recs.append((ix, h[ix], day[ix], np.full(len(ix), k)))
    ex_off = np.concatenate([r[0] for r in recs])
    ex_h = np.concatenate([r[1] for r in recs])
    ex_day = np.concatenate([r[2] for r in recs])
    n_annual = len(ex_off)
    t = (_day(ctx.as_of) - ex_day) / 365.25
    v = measure(rng, lat, ex_off, t)
    age_at = off["age"][ex_off] - t
    # critical ECG: at most one officer-exam per officer to keep it rare; AF persists into later exams
    ecg, us = _exam_findings(rng, v, age_at, ex_off, lat, np.zeros(n_annual, dtype=bool) if user_ix is None
                             else ex_off == user_ix)
    has_af = {}
    order = np.argsort(ex_day, kind="stable")
    for i in order.tolist():
        o = int(ex_off[i])
        if ecg[i] and ecg[i][0] == "af":
            has_af[o] = True
        elif o in has_af and rng.random() < 0.7:
            ecg[i] = ["af"]
    # re-checks: bring the total to EXAMS_PER_OFFICER per officer, weighted by how abnormal
    sev = ((v["sbp"] >= 140) | (v["dbp"] >= 90)) * 2.0 + (v["fpg"] >= 6.1) * 2.0 + (v["tg"] >= 2.3) \
        + (v["ldl"] >= 4.1) + (v["ua"] > 480) + np.array([bool(e) and e[0] not in CRITICAL_ECG and
                                                          any(x in ("st_t", "lvh", "avb1", "pvc") for x in e)
                                                          for e in ecg]) * 1.5
    crit = np.array([bool(e) and e[0] in CRITICAL_ECG for e in ecg])
    r_day = _to_workday(ex_day + rng.integers(14, 43, n_annual), 0, ctx.last)
    nxt = np.full(n_annual, np.iinfo(np.int64).max)  # the officer's next annual exam
    order = np.lexsort((ex_day, ex_off))
    same = ex_off[order][1:] == ex_off[order][:-1]
    nxt[order[:-1][same]] = ex_day[order][1:][same]
    eligible = (sev > 0) & ~crit & (r_day <= ctx.last) & (r_day < nxt - 7)
    want = int(round(EXAMS_PER_OFFICER * n)) - n_annual
    cand = np.flatnonzero(eligible)
    n_re = max(0, min(want, len(cand)))
    if n_re:
        w = sev[cand]
        chosen = np.sort(rng.choice(cand, n_re, replace=False, p=w / w.sum()))
    else:
        chosen = np.empty(0, dtype=np.int64)
    rv = measure(rng, lat, ex_off[chosen], (_day(ctx.as_of) - r_day[chosen]) / 365.25)
    ids = ctx.take("exam", n_annual + len(chosen))
    a_ids, r_ids = ids[:n_annual], ids[n_annual:]
    hosp_ids = np.array([h["id"] for h in hosp])
    hosp_codes = [h["code"] for h in hosp]
    rows = []
    extern_seq: dict[tuple, int] = {}

    def extern(h: int, day: int) -> str:
        key = (h, _date(day).year)
        extern_seq[key] = extern_seq.get(key, 0) + 1
        return f"{hosp_codes[h]}-{key[1]}-{extern_seq[key]:06d}"

    r_rand = rng.random((n_annual, 2))
    miss = rng.random((n_annual, 4))
    # annual exams: observations
    secs = ex_day.astype(np.int64) * 86400 + 8 * 3600
    src_ix = np.array([obs.src(c) for c in hosp_codes])[ex_h]
    for code in EXAM_CODES:
        mask = np.ones(n_annual, dtype=bool)
        if code == "hba1c":
            mask = hba1c_panel[ex_h] | (v["fpg"] >= 6.1) | lat["dm"][ex_off]
        elif code == "waist_cm":
            mask = ~no_waist[ex_h]
        elif code in ("tc", "tg", "hdl", "ldl"):
            mask = miss[:, 0] > 0.007
        elif code in ("alt", "ast", "cr", "ua"):
            mask = miss[:, 1] > 0.006
        elif code == "fpg":
            mask = miss[:, 2] > 0.004
        ix = np.flatnonzero(mask)
        obs.add(officer_ids[ex_off[ix]], code, v[code][ix], secs[ix], "exam", src_ix[ix], a_ids[ix])
    ex_pulse = v["pulse"]
    for i in range(n_annual):
        h, day = int(ex_h[i]), int(ex_day[i])
        etxt = _ecg_text(ecg[i], ex_pulse[i], r_rand[i, 0])
        utxt = _us_text(us[i], r_rand[i, 1])
        rows.append((int(a_ids[i]), int(officer_ids[ex_off[i]]), int(hosp_ids[h]), day, extern(h, day), etxt, utxt,
                     _summary_text(v, i, ecg[i], etxt, us[i], False), ecg[i] + [c for c, _d in us[i]]))
    # re-checks: BP always; glucose, lipids, uric acid and ECG when those were abnormal
    r_secs = r_day[chosen].astype(np.int64) * 86400 + 8 * 3600
    r_src = src_ix[chosen]
    panels = {
        "bp": np.ones(len(chosen), dtype=bool),
        "glu": v["fpg"][chosen] >= 6.1,
        "lip": (v["tg"][chosen] >= 2.3) | (v["ldl"][chosen] >= 4.1) | (v["tc"][chosen] >= 6.2),
        "ua": v["ua"][chosen] > 420,
    }
    panel_codes = {"bp": ("sbp", "dbp", "pulse"), "glu": ("fpg", "hba1c"), "lip": ("tc", "tg", "hdl", "ldl"),
                   "ua": ("ua", "cr")}
    for p, codes in panel_codes.items():
        ix = np.flatnonzero(panels[p])
        for code in codes:
            obs.add(officer_ids[ex_off[chosen[ix]]], code, rv[code][ix], r_secs[ix], "exam", r_src[ix], r_ids[ix])
    masked = {}
    for code in rv:
        keep = np.zeros(len(chosen), dtype=bool)
        for p, codes in panel_codes.items():
            if code in codes:
                keep |= panels[p]
        masked[code] = np.where(keep, rv[code], np.nan)
    for j, i in enumerate(chosen.tolist()):
        h, day = int(ex_h[i]), int(r_day[i])
        redo_ecg = bool(ecg[i]) and any(x in ("st_t", "lvh", "avb1", "pvc") for x in ecg[i])
        e = [x for x in ecg[i] if x != "pvc" or r_rand[i, 0] < 0.5] if redo_ecg else []
        etxt = _ecg_text(e, rv["pulse"][j], 0.0) if redo_ecg else None
        rows.append((int(r_ids[j]), int(officer_ids[ex_off[i]]), int(hosp_ids[h]), day, extern(h, day), etxt, None,
                     _summary_text(masked, j, e, etxt, [], True), e))
    return dict(rows=rows, annual=n_annual, rechecks=len(chosen), values=v, ex_off=ex_off, ex_day=ex_day,
                critical=int(crit.sum()))


# ---------------------------------------------------------------------------------------------
# kiosk readings and screenings
# ---------------------------------------------------------------------------------------------
def _kiosk(ctx: _Ctx, ci: int, off: dict, leaves: list[dict], lat: dict, officer_ids: np.ndarray, obs: _Obs,
           user_ix: int | None) -> dict:
    """Body composition (tanita) and BP (omron) kiosks at every station and at the city HQ."""
    rng = ctx.rng(ci, _S_KIOSK)
    n, leaf = off["n"], off["leaf"]
    install = ctx.first + np.array([u["kiosk_install"] for u in leaves])[leaf]
    start = np.maximum(install, off["hire"] + 1)
    span = np.maximum(ctx.last - start, 0)
    lam = rng.gamma(0.7, 3.5, n) * np.array([u["kiosk_use"] for u in leaves])[leaf]
    count = rng.poisson(lam * span / 365.25)
    dense = (rng.random(n) < 0.015) & (span > 180)
    count = np.where(dense, rng.integers(40, 300, n), count)
    if user_ix is not None:
        dense[user_ix] = True
        count[user_ix] = 170
    count[span <= 0] = 0
    o = np.repeat(np.arange(n), count)
    m = len(o)
    day = start[o] + np.floor(rng.random(m) * (span[o] + 1)).astype(np.int64)
    sec = day * 86400 + rng.integers(int(7.5 * 3600), int(21.5 * 3600), m)
    key = np.unique(np.stack([o, sec]), axis=1, return_index=True)[1]
    o, day, sec = o[key], day[key], sec[key]
    m = len(o)
    t = (_day(ctx.as_of) - day) / 365.25
    # a slow wiggle for dense series (seasons, a diet, a campaign) so trends have shape
    phase = rng.uniform(0, 2 * np.pi, n)
    amp = np.where(dense, rng.uniform(0.8, 2.5, n), 0.0)
    wig = amp[o] * np.sin(2 * np.pi * t / rng.uniform(0.8, 1.6, n)[o] + phase[o])
    if user_ix is not None:  # the demo officer: weight went up, then down again since the campaign
        u = o == user_ix
        wig[u] = 2.2 * np.sin(np.pi * np.clip(t[u] / 3.0, 0, 1)) - 0.6
    v = measure(rng, lat, o, t)
    h = v["height_cm"] / 100
    weight = np.round(lat["bmi"][o] * h * h - 0.15 * t * h * h + wig + 0.5 + rng.normal(0, 0.4, m), 1)
    bmi = np.round(weight / (h * h), 1)
    male = lat["male"][o]
    age_t = lat["age"][o] - t
    fat = np.round(np.clip(1.2 * bmi + 0.23 * age_t - 10.8 * male - 5.4 + lat["fat_res"][o] + rng.normal(0, 1.0, m),
                           5, 55), 1)
    visc = np.where(male, 0.95 * (bmi - 17) + 0.12 * (age_t - 20), 0.6 * (bmi - 17) + 0.08 * (age_t - 20))
    visc = np.clip(np.round(visc + lat["visc_res"][o] + rng.normal(0, 0.5, m)), 1, 30)
    sbp = v["sbp"] + 2 + np.round(1.0 * wig + rng.normal(0, 3, m))
    dbp = v["dbp"] + 1 + np.round(0.6 * wig + rng.normal(0, 2, m))
    pulse = v["pulse"] + 3
    if user_ix is not None:
        u = o == user_ix
        sbp[u] = np.minimum(sbp[u], 176)
        dbp[u] = np.minimum(dbp[u], 108)
    typ = rng.random(m)
    body = typ < 0.70
    bp = typ >= 0.25
    loc = np.array([u["kiosk"] for u in leaves], dtype=object)[leaf][o]
    tan = np.array([obs.src(f"kiosk-{x}-tanita") for x in loc.tolist()])
    omr = np.array([obs.src(f"kiosk-{x}-omron") for x in loc.tolist()])
    st = np.array([obs.src(x) for x in loc.tolist()])
    b, p = np.flatnonzero(body), np.flatnonzero(bp)
    bp_sec = sec + np.where(body, rng.integers(60, 240, m), 0)
    for code, val in (("weight_kg", weight), ("bmi", bmi), ("body_fat_pct", fat), ("visceral_fat", visc)):
        obs.add(officer_ids[o[b]], code, val[b], sec[b], "kiosk", tan[b], 0, st[b])
    for code, val in (("sbp", sbp), ("dbp", dbp), ("pulse", pulse)):
        obs.add(officer_ids[o[p]], code, val[p], bp_sec[p], "kiosk", omr[p], 0, st[p])
    return dict(sessions=m, dense=int(dense.sum()), rows=int(4 * len(b) + 3 * len(p)))


def _screenings(ctx: _Ctx, ci: int, off: dict, leaves: list[dict], lat: dict, officer_ids: np.ndarray,
                obs: _Obs) -> int:
    """Annual PHQ-9 / GAD-7 screening per unit (coverage 78-95%)."""
    rng = ctx.rng(ci, _S_SCREEN)
    n, leaf = off["n"], off["leaf"]
    total = 0
    cov = np.array([u["screen_cov"] for u in leaves])[leaf]
    for k in range(YEARS):
        lo = ctx.first + 365 * k
        unit_day = lo + rng.integers(20, 330, len(leaves))
        day = np.minimum(unit_day[leaf] + rng.integers(0, 10, n), ctx.last)
        take = (rng.random(n) < cov[:, k]) & (off["hire"] + 14 <= day)
        ix = np.flatnonzero(take)
        sec = day[ix] * 86400 + rng.integers(9 * 3600, 18 * 3600, len(ix))
        psych = lat["psych"][ix] + 0.25 * rng.normal(0, 1, len(ix))
        phq, item9 = _phq9(rng, psych, lat["severe_dep"][ix] & (k == YEARS - 1))
        gad = _gad7(rng, psych, lat["anx"][ix])
        src = obs.src(f"psy-survey-{_date(lo + 364).year}")
        for code, val in (("phq9", phq), ("phq9_item9", item9), ("gad7", gad)):
            obs.add(officer_ids[ix], code, val, sec, "screening", src)
        total += len(ix)
    return total


# ---------------------------------------------------------------------------------------------
# campaigns
# ---------------------------------------------------------------------------------------------
def _campaigns(ctx: _Ctx, ci: int, units: list[dict], leaves: list[dict], off: dict, officer_ids: np.ndarray,
               creator: int | None, user_ix: int | None) -> dict:
    """A finished 8-week step PK between stations and a running one between districts."""
    rng = ctx.rng(ci, _S_CAMPAIGN)
    cname = N.CITIES[ci][1]
    districts = [u for u in units if u["level"] == "district"]
    st_ix = [j for j, u in enumerate(leaves) if u["level"] == "station"]
    n = off["n"]
    in_scope = np.isin(off["leaf"], st_ix)
    sizes = {j: leaves[j]["size"] for j in st_ix}
    big = max(st_ix, key=lambda j: (sizes[j], -j))
    small_pool = sorted(st_ix, key=lambda j: (sizes[j], j))[:max(1, len(st_ix) // 3)]
    small = small_pool[int(rng.integers(0, len(small_pool)))]
    part_rate = {j: float(np.clip(rng.beta(4, 3) * 0.7 + 0.15, 0.2, 0.85)) for j in st_ix}
    part_rate[big], part_rate[small] = 0.97, 0.95
    base = 7600 * np.exp(-0.006 * (off["age"] - 40) + rng.normal(0, 0.28, n)) * \
        np.array([POST_STEPS[p] for p in off["post"]])
    base[off["leaf"] == small] *= 1.3
    end1 = ctx.last - 60
    start1 = end1 - 55
    start1 -= int(_weekday(np.array([start1]))[0])  # a Monday
    end1 = start1 + 55
    start2 = _day(ctx.as_of) - 21
    end2 = start2 + 55
    scope_ids = [d["id"] for d in districts]
    ids = ctx.take("campaign", 2).tolist()
    rule = {"per_day_target": 1, "full_week_bonus": 10}
    created = lambda d: _fmt_secs(np.array([(d - 14) * 86400 + 10 * 3600]))[0]  # noqa: E731
    camps = [
        dict(id=ids[0], name=f"{cname}公安“健康警队”健步走PK赛", kind="steps", start_date=start1, end_date=end1,
             scope_unit_ids=scope_ids, team_level="station", target_per_day=8000.0, target_total=None,
             team_scoring="mean", points_rule=rule, created_by_id=creator, created_at=created(start1)),
        dict(id=ids[1], name=f"{cname}公安“万步有约”分局挑战赛", kind="steps", start_date=start2, end_date=end2,
             scope_unit_ids=scope_ids, team_level="district", target_per_day=10000.0,
             # overall target: the members' combined steps if each averaged 4,000 a day over the 8 weeks
             target_total=float(int(in_scope.sum()) * 56 * 4000), team_scoring="share_target", points_rule=rule, created_by_id=creator,
             created_at=created(start2)),
    ]
    entries, points = [], []
    stats = {}
    for c, (start, end, rate_k) in zip(camps, ((start1, end1, 1.0), (start2, min(end2, ctx.last), 0.75))):
        rate = np.array([part_rate.get(j, 0.0) for j in off["leaf"]]) * rate_k
        if rate_k != 1.0:
            rate[off["leaf"] == big] = 0.9
            rate[off["leaf"] == small] = 0.9
        joined = in_scope & (rng.random(n) < rate)
        if user_ix is not None and ci == 0:
            joined[user_ix] = True
        ix = np.flatnonzero(joined)
        days = np.arange(start, end + 1)
        nd = len(days)
        if nd <= 0 or len(ix) == 0:
            continue
        week = (days - start) // 7
        wk = _weekday(days)
        adherence = rng.beta(6, 1.5, len(ix))
        drop_week = rng.geometric(0.05, len(ix))  # stops recording after this many weeks
        p = adherence[:, None] * (1 - 0.035 * week[None, :]) * (week[None, :] < drop_week[:, None])
        rec = rng.random((len(ix), nd)) < p
        val = base[ix][:, None] * np.where(wk >= 5, 0.8, 1.0)[None, :] * (1 - 0.01 * week)[None, :] \
            * np.exp(rng.normal(0, 0.3, (len(ix), nd)))
        val = np.clip(np.round(val), 300, 45000)
        flag = rng.random((len(ix), nd)) < 0.0003
        val = np.where(flag, rng.integers(45000, 90000, (len(ix), nd)), val)
        oi, di = np.nonzero(rec)
        e_ids = ctx.take("campaign_entry", len(oi))
        oid = officer_ids[ix[oi]]
        entries.extend(zip(e_ids.tolist(), [c["id"]] * len(oi), oid.tolist(), _fmt_days(days[di]),
                           val[oi, di].tolist(), flag[oi, di].astype(int).tolist(), [ctx.batch_id] * len(oi)))
        # points: per officer and week, days that met the target, plus a bonus for a full week
        met = rec & (val >= c["target_per_day"]) & ~flag
        n_weeks = int(week.max()) + 1
        for w in range(n_weeks):
            cols = week == w
            if days[cols][-1] > ctx.last:
                continue
            d_met = met[:, cols].sum(axis=1)
            full = (d_met == 7)
            award = _fmt_secs(np.array([int(days[cols][-1]) * 86400 + 22 * 3600]))[0]
            for j in np.flatnonzero(d_met).tolist():
                points.append((c["id"], int(officer_ids[ix[j]]), int(d_met[j]), "daily_target", award))
                if full[j]:
                    points.append((c["id"], int(officer_ids[ix[j]]), 10, "full_week_bonus", award))
        team = off["leaf"][ix[oi]]
        tot = np.bincount(team, weights=val[oi, di] * ~flag[oi, di], minlength=len(leaves))
        cnt = np.bincount(team, minlength=len(leaves))
        stats[c["id"]] = dict(participants=len(ix), entries=len(oi),
                              top_total=leaves[int(np.argmax(tot))]["code"],
                              top_mean=leaves[int(np.argmax(np.where(cnt > 0, tot / np.maximum(cnt, 1), 0)))]["code"])
    p_ids = ctx.take("points", len(points)).tolist()
    points = [(pid,) + row for pid, row in zip(p_ids, points)]
    for c in camps:
        c["start_date"], c["end_date"] = _date(c["start_date"]).isoformat(), _date(c["end_date"]).isoformat()
        c["scope_unit_ids"] = json.dumps(c["scope_unit_ids"])
        c["points_rule"] = json.dumps(c["points_rule"])
    return dict(campaigns=camps, entries=entries, points=points, stats=stats,
                big=leaves[big]["code"], small=leaves[small]["code"])


# ---------------------------------------------------------------------------------------------
# writing
# ---------------------------------------------------------------------------------------------
class _Writer:
    """Bulk inserts with pre-assigned keys: executemany on SQLite, COPY on PostgreSQL."""

    CHUNK = 50_000

    def __init__(self, conn):
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        if self.pg and conn.exec_driver_sql("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").scalar():
            # the rows are consistent by construction: skip the per-row foreign-key triggers for this
            # transaction (a superuser may; others pay for the checks)
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")

    def rows(self, table: str, cols: Sequence[str], rows: Iterable[tuple]) -> int:
        rows = rows if isinstance(rows, list) else list(rows)
        if not rows:
            return 0
        if self.pg:
            dbapi = self.conn.connection.driver_connection
            with dbapi.cursor() as cur:
                with cur.copy(f'COPY "{table}" ({", ".join(cols)}) FROM STDIN') as cp:
                    for r in rows:
                        cp.write_row(r)
        else:
            sql = f'INSERT INTO "{table}" ({", ".join(cols)}) VALUES ({", ".join("?" * len(cols))})'
            for s in range(0, len(rows), self.CHUNK):
                self.conn.exec_driver_sql(sql, rows[s:s + self.CHUNK])
        return len(rows)

    def analyze(self, tables: Iterable[str]) -> None:
        """Planner statistics after a bulk load (PostgreSQL's snapshot queries need them; on SQLite
        ANALYZE costs seconds and leads the planner astray)."""
        if not self.pg:
            return
        for t in tables:
            self.conn.exec_driver_sql(f'ANALYZE "{t}"')

    def fix_sequences(self, tables: Iterable[str]) -> None:
        if not self.pg:
            return
        for t in tables:
            self.conn.execute(text(f"SELECT setval(pg_get_serial_sequence('\"{t}\"', 'id'), "
                                   f"COALESCE((SELECT MAX(id) FROM \"{t}\"), 0) + 1, false)"))


def _write_observations(w: _Writer, ctx: _Ctx, obs: _Obs, progress: Progress, done0: int, total_est: int) -> int:
    a = obs.arrays()
    n = len(a["officer"])
    ids = ctx.take("observation", n)
    src = obs.sources
    codes = [CODES[i] for i in a["code"].tolist()]
    units = [CANON_UNITS[c] for c in codes]
    kinds = [KINDS[i] for i in a["kind"].tolist()]
    sources = [src[i] for i in a["source"].tolist()]
    stations = [src[i] if i >= 0 else None for i in a["station"].tolist()]
    exams = [e if e > 0 else None for e in a["exam"].tolist()]
    times = _fmt_secs(a["secs"])
    values = a["value"].tolist()
    cols = ("id", "officer_id", "code", "value", "unit", "observed_at", "source_kind", "source_id", "exam_id",
            "station", "batch_id")
    step = 200_000
    for s in range(0, n, step):
        e = min(n, s + step)
        w.rows("observation", cols, list(zip(ids[s:e].tolist(), a["officer"][s:e].tolist(), codes[s:e], values[s:e],
                                             units[s:e], times[s:e], kinds[s:e], sources[s:e], exams[s:e],
                                             stations[s:e], [ctx.batch_id] * (e - s))))
        if progress:
            progress("write observations", done0 + e, max(total_est, done0 + n))
    return n


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------
def officer_roster(scale: str = "tiny", seed: int = 42, as_of: dt.date | None = None) -> list[dict]:
    """The roster build_demo writes, with the raw ID numbers it hashes (for tests)."""
    ctx = _Ctx(seed=seed, scale=SCALES[scale], scale_name=scale, as_of=as_of or dt.date.today())
    parent = _province_unit(ctx) if ctx.scale.cities > 1 else None
    out = []
    for ci in range(ctx.scale.cities):
        units = _units(ctx, ci, parent)
        leaves = [u for u in units if "size" in u]
        off = _officers(ctx, ci, leaves)
        for i in range(off["n"]):
            out.append(dict(badge=off["badge"][i], name=off["name"][i], sex="male" if off["male"][i] else "female",
                            birth_date=_date(off["birth"][i]), hire_date=_date(off["hire"][i]),
                            unit_code=off["unit_code"][i], post_type=off["post"][i], id_number=off["id_number"][i]))
    return out


def _province_unit(ctx: _Ctx) -> dict:
    code, name, name_en, (lat, lon) = N.PROVINCE
    return dict(id=int(ctx.take("unit", 1)[0]), code=code, name=name, name_en=name_en, parent_id=None,
                level="province", path=f"/{code}/", depth=0, lat=lat, lon=lon, district=-1)


UNIT_COLS = ("id", "code", "name", "name_en", "parent_id", "level", "path", "depth", "lat", "lon")


def build_demo(url: str, *, scale: str = "city", seed: int = 42, as_of: dt.date | None = None,
               password: str = "demo12345", progress: Progress = None, recompute: bool = True) -> dict:
    """Create the schema and write the demo force into an empty database; returns a summary.

    ``recompute=False`` skips the officer-status snapshot (tests of raw data)."""
    from models.db import bump_data_version, init_db, session_scope, set_meta, vacuum
    from models.participation import rebuild_participants
    from models.schema import ImportBatch, Officer, Unit, User
    from models.users import hash_password

    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; one of {', '.join(SCALES)}")
    if len(password) < 8:
        raise ValueError("the demo password must have at least 8 characters")
    t0 = time.perf_counter()
    as_of = as_of or dt.date.today()
    ctx = _Ctx(seed=seed, scale=SCALES[scale], scale_name=scale, as_of=as_of)
    init_db(url)
    summary: dict[str, Any] = dict(scale=scale, seed=seed, as_of=as_of.isoformat(), units=0, hospitals=0,
                                   officers=0, exams=0, exam_rechecks=0, observations=0, kiosk_readings=0,
                                   kiosk_observations=0, screenings=0, campaigns=0, campaign_entries=0, points=0,
                                   users=0)
    pw_hash = hash_password(password)
    n_steps = 6 * ctx.scale.cities + 1
    with session_scope(url) as session:
        if session.scalar(select(Officer.id).limit(1)) is not None:
            raise ValueError("the database already has officers; the demo force is only built into an empty "
                             "database (use a new database file or drop the old one)")
        if session.scalar(select(Unit.id).limit(1)) is not None:
            raise ValueError("the database already has units; the demo force is only built into an empty database")
        for table, model in (("import_batch", ImportBatch), ("app_user", User)):
            ctx.ids[table] = (session.scalar(select(func.max(model.id))) or 0) + 1
        existing_users = set(session.scalars(select(User.username)))
        conn = session.connection()
        if not conn.dialect.name == "postgresql":
            conn.exec_driver_sql("PRAGMA cache_size=-262144")
            conn.exec_driver_sql("PRAGMA temp_store=MEMORY")
        w = _Writer(conn)
        ctx.batch_id = int(ctx.take("import_batch", 1)[0])
        stamp = _fmt_dt(dt.datetime.combine(as_of, dt.time(0, 0)))
        w.rows("import_batch", ("id", "kind", "source", "filename", "created_by", "started_at", "finished_at",
                                "status", "rows_read", "inserted", "updated", "unchanged", "quarantined", "summary"),
               [(ctx.batch_id, "demo", "demo", None, "demo", stamp, stamp, "running", 0, 0, 0, 0, 0,
                 json.dumps({"seed": seed, "scale": scale, "as_of": as_of.isoformat()}))])
        parent = None
        if ctx.scale.cities > 1:
            parent = _province_unit(ctx)
            w.rows("unit", UNIT_COLS, [tuple(parent[c] for c in UNIT_COLS)])
            summary["units"] += 1
        accounts: list[dict] = []
        standout: list[str] = []
        obs_done, obs_est = 0, 0
        step = 0

        t_last = time.perf_counter()
        timings: dict[str, float] = {"init": round(t_last - t0, 2)}

        def tick(label: str) -> None:
            nonlocal step, t_last
            now = time.perf_counter()
            timings[label] = round(timings.get(label, 0.0) + now - t_last, 2)
            t_last = now
            step += 1
            if progress:
                progress("generate", step, n_steps)

        for ci in range(ctx.scale.cities):
            units = _units(ctx, ci, parent)
            leaves = [u for u in units if "size" in u]
            standout += [u["code"] for u in leaves if u["standout"] == "station"]
            standout += sorted({u["path"].strip("/").split("/")[-2] for u in leaves if u["standout"] == "district"})
            hosp = _hospitals(ctx, ci, units)
            w.rows("unit", UNIT_COLS, [tuple(u[c] for c in UNIT_COLS) for u in units])
            w.rows("hospital", ("id", "code", "name"), [(h["id"], h["code"], h["name"]) for h in hosp])
            off = _officers(ctx, ci, leaves)
            officer_ids = ctx.take("officer", off["n"])
            leaf_ids = np.array([u["id"] for u in leaves])[off["leaf"]]
            w.rows("officer", ("id", "badge", "name", "sex", "birth_date", "unit_id", "post_type", "hire_date",
                               "id_hash", "id_masked", "active"),
                   list(zip(officer_ids.tolist(), off["badge"], off["name"],
                            ["male" if x else "female" for x in off["male"].tolist()], _fmt_days(off["birth"]),
                            leaf_ids.tolist(), off["post"].tolist(), _fmt_days(off["hire"]),
                            [idcard.keyed_hash(x, DEMO_ID_KEY) for x in off["id_number"]],
                            [idcard.mask(x) for x in off["id_number"]], [1] * off["n"])))
            hide_rng = ctx.rng(ci, _S_OFFICERS + 200)
            hide = np.flatnonzero(hide_rng.random(off["n"]) < 0.03)
            w.rows("officer_preference", ("officer_id", "hide_from_leaderboards"),
                   [(int(officer_ids[i]), 1) for i in hide.tolist()])
            tick("officers")
            user_ix = _pick_officer_user(ctx, off, leaves) if ci == 0 else None
            creator = None
            if ci == 0:
                creator, accounts = _write_users(w, ctx, units, off, officer_ids, user_ix, pw_hash, existing_users)
                summary["users"] = sum(1 for a in accounts if not a.get("existed"))
            lat = _latent_for_city(ctx, ci, off, leaves, user_ix)
            obs = _Obs()
            ex = _exams(ctx, ci, off, leaves, hosp, lat, officer_ids, obs, user_ix)
            tick("exams")
            w.rows("exam", ("id", "officer_id", "hospital_id", "exam_date", "external_id", "ecg_text",
                            "ultrasound_text", "summary_text", "findings", "batch_id"),
                   [r[:3] + (_date(r[3]).isoformat(),) + r[4:8] + (json.dumps(r[8]), ctx.batch_id)
                    for r in ex["rows"]])
            ks = _kiosk(ctx, ci, off, leaves, lat, officer_ids, obs, user_ix)
            tick("kiosk")
            sc = _screenings(ctx, ci, off, leaves, lat, officer_ids, obs)
            tick("screenings")
            n_obs_city = sum(len(x) for x in obs.officer)
            obs_est = max(obs_est, obs_done + n_obs_city * (ctx.scale.cities - ci))
            obs_done += _write_observations(w, ctx, obs, progress, obs_done, obs_est)
            tick("observations")
            cp = _campaigns(ctx, ci, units, leaves, off, officer_ids, creator, user_ix)
            ccols = ("id", "name", "kind", "start_date", "end_date", "scope_unit_ids", "team_level", "target_per_day",
                     "target_total", "team_scoring", "points_rule", "created_by_id", "created_at")
            w.rows("campaign", ccols, [tuple(c[k] for k in ccols) for c in cp["campaigns"]])
            w.rows("campaign_entry", ("id", "campaign_id", "officer_id", "day", "value", "flagged", "batch_id"),
                   cp["entries"])
            w.rows("points", ("id", "campaign_id", "officer_id", "points", "reason", "awarded_at"), cp["points"])
            tick("campaigns")
            summary["units"] += len(units)
            summary["hospitals"] += len(hosp)
            summary["officers"] += off["n"]
            summary["exams"] += len(ex["rows"])
            summary["exam_rechecks"] += ex["rechecks"]
            summary["critical_ecg_exams"] = summary.get("critical_ecg_exams", 0) + ex["critical"]
            summary["kiosk_readings"] += ks["sessions"]
            summary["kiosk_observations"] += ks["rows"]
            summary["dense_kiosk_officers"] = summary.get("dense_kiosk_officers", 0) + ks["dense"]
            summary["screenings"] += sc
            summary["campaigns"] += len(cp["campaigns"])
            summary["campaign_entries"] += len(cp["entries"])
            summary["points"] += len(cp["points"])
            if ci == 0:
                summary["campaign_winners"] = {"largest_station": cp["big"], "small_star_station": cp["small"],
                                               **{str(k): v for k, v in cp["stats"].items()}}
        summary["observations"] = obs_done
        tables = ("unit", "hospital", "import_batch", "officer", "exam", "observation", "campaign",
                  "campaign_entry", "points", "app_user")
        w.fix_sequences(tables)
        rebuild_participants(conn)  # COPY skipped campaign_entry's triggers on PostgreSQL
        w.analyze(tables + ("campaign_participant",))
        conn.execute(text("UPDATE import_batch SET status = 'loaded', rows_read = :n, inserted = :n WHERE id = :id"),
                     {"n": obs_done, "id": ctx.batch_id})
        set_meta(session, "demo_seed", str(seed))
        set_meta(session, "demo_scale", scale)
        set_meta(session, "demo_as_of", as_of.isoformat())
        set_meta(session, "demo_standout_units", ",".join(standout))
        set_meta(session, "id_hash_key", DEMO_ID_KEY)  # ID numbers in the demo were hashed with this key
        from ingest.boundaries import demo_boundaries  # map polygons (issue 8)
        demo_boundaries(session)
        bump_data_version(session)
        summary["standout_units"] = standout
        summary["accounts"] = accounts
    tick("finish")  # meta, boundaries and the commit
    summary["timings"] = timings
    summary["build_seconds"] = round(time.perf_counter() - t0, 2)
    if recompute:
        from models.snapshot import recompute_all

        if progress:
            progress("snapshot", 0, 1)
        t1 = time.perf_counter()
        with session_scope(url) as session:
            # one snapshot a quarter ago first, so the warning history shows movement since last quarter,
            # and one on the eve of this quarter, so "since the quarter start" reads the colours then
            eve = dt.date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1) - dt.timedelta(days=1)
            for day in sorted({as_of - dt.timedelta(days=91), eve}):
                recompute_all(session, as_of=day)
            summary["levels"] = recompute_all(session, as_of=as_of)
            summary["followups"] = _demo_followups(session, as_of, seed)
        vacuum(url, ("officer_status", "warning_history", "follow_up"))
        summary["snapshot_seconds"] = round(time.perf_counter() - t1, 2)
        if progress:
            progress("snapshot", 1, 1)
    summary["problems"] = _demo_problems(url, as_of)
    summary["seconds"] = round(time.perf_counter() - t0, 2)
    return summary


def _demo_problems(url: str, as_of: dt.date) -> dict:
    """What the admin pages have to work on: a small hospital file whose every row the real loader
    quarantines (an unknown badge, a date in the future, an impossible and an unreadable value: nothing
    of it loads), and two station kiosks, one of which has sent nothing for three days."""
    from ingest.hospital_load import load_hospital_bytes
    from models.db import session_scope
    from models.schema import Device, Hospital, Officer, Unit

    with session_scope(url) as s:
        hospital = s.scalar(select(Hospital.code).order_by(Hospital.id).limit(1))
        officers = list(s.execute(select(Officer.badge, Officer.name).where(Officer.active)
                                  .order_by(Officer.id).limit(3)))
        stations = list(s.scalars(select(Unit.code).where(Unit.level == "station").order_by(Unit.id).limit(2)))
    if hospital is None or len(officers) < 3:
        return {"quarantined": 0, "devices": 0}
    day = (as_of - dt.timedelta(days=20)).isoformat()
    future = (as_of + dt.timedelta(days=30)).isoformat()
    (b1, n1), (b2, n2), (b3, n3) = officers
    rows = ["警号,姓名,体检日期,收缩压,舒张压,空腹血糖",
            f"999999,查无此人,{day},130,80,5.1",          # no such badge
            f"{b1},{n1},{future},128,82,5.0",               # exam date after today
            f"{b2},{n2},{day},1500,,",                      # systolic 1500: not plausible
            f"{b3},{n3},{day},,,阳性"]                       # glucose given as a word
    summary = load_hospital_bytes(url, ("\n".join(rows) + "\n").encode("gb18030"), hospital,
                                  filename="demo_hospital_problems.csv", user="demo", today=as_of)
    at = dt.datetime.combine(as_of, dt.time(8, 0))
    with session_scope(url) as s:
        for i, code in enumerate(stations):
            s.add(Device(gateway=f"gw-{code}", name=f"kiosk-{code}-tanita", driver="tanita", station=code,
                         port="/dev/ttyUSB0", connected=i == 0, port_error=None if i == 0 else "no data from the kiosk",
                         last_frame_at=at if i == 0 else at - dt.timedelta(days=3), backlog=0, noise_bytes=0,
                         reconnects=0, stale_minutes=1440, reported_at=at))
    return {"quarantined": summary["quarantined"], "devices": len(stations)}


def _write_users(w: _Writer, ctx: _Ctx, units: list[dict], off: dict, officer_ids: np.ndarray, user_ix: int,
                 pw_hash: str, existing: set) -> tuple[int | None, list[dict]]:
    """The demo accounts (one password hash shared by all: argon2 is slow on purpose)."""
    city = units[0]
    districts = [u for u in units if u["level"] == "district"]
    created = _fmt_dt(dt.datetime.combine(ctx.as_of - dt.timedelta(days=120), dt.time(9, 0)))
    rows, accounts, creator = [], [], None
    unit_of = {u["code"]: u for u in units}
    for username, role, scope in ACCOUNTS:
        acc: dict[str, Any] = {"username": username, "role": role}
        officer_id, scope_unit = None, None
        if role == "officer":
            officer_id = int(officer_ids[user_ix])
            scope_unit = unit_of[off["unit_code"][user_ix]]
            acc.update(badge=off["badge"][user_ix], name=off["name"][user_ix], unit=scope_unit["code"])
        elif scope == "city":
            scope_unit = city
        elif scope is not None:
            scope_unit = districts[min(scope, len(districts) - 1)]
        if scope_unit is not None and role != "officer":
            acc.update(scope=scope_unit["code"], scope_name=scope_unit["name"])
        if role in ("manager", "counsellor"):
            acc["psych"] = role == "counsellor" or username in PSYCH_GRANTED
        if username in existing:
            acc["existed"] = True
            accounts.append(acc)
            continue
        uid = int(ctx.take("app_user", 1)[0])
        if username == "manager":
            creator = uid
        rows.append((uid, username, pw_hash, role, officer_id, scope_unit["id"] if scope_unit else None, "zh", 1,
                     created, username in PSYCH_GRANTED))
        accounts.append(acc)
    w.rows("app_user", ("id", "username", "password_hash", "role", "officer_id", "scope_unit_id", "language", "active",
                        "created_at", "psych_access"), rows)
    return creator, accounts


DEMO_FOLLOWUP_NOTES = {
    "phone": "已电话联系本人，告知复查安排。",
    "recheck": "已预约医院复查，提醒空腹。",
    "referral": "已转诊心内科门诊。",
    "counselling": "已安排心理咨询师一对一谈话。",
    "lifestyle": "制定减重和限盐计划，每两周随访一次。",
}


def _demo_followups(session, as_of: dt.date, seed: int) -> int:
    """Follow-ups the health managers would have opened for red and some orange officers:
    a mix of open, in progress (some overdue) and closed ones, so the workbench is not empty."""
    from sqlalchemy import insert as sa_insert
    from sqlalchemy import select as sa_select

    from models.schema import FollowUp, OfficerStatus, User

    managers = {u.scope_unit.path: u for u in session.scalars(sa_select(User).where(User.role == "manager"))
                if u.scope_unit is not None}
    rows = session.execute(sa_select(OfficerStatus.officer_id, OfficerStatus.unit_path, OfficerStatus.level,
                                     OfficerStatus.reasons)
                           .where(OfficerStatus.level.in_(("red", "orange"))).order_by(OfficerStatus.officer_id)).all()
    rng = np.random.default_rng(seed + 9001)
    kinds = list(DEMO_FOLLOWUP_NOTES)
    out, reds = [], 0
    for officer_id, path, level, reasons in rows:
        if level == "red":
            reds += 1
            if reds % 3 == 1:
                continue  # a third of the red officers still wait in the needs-action queue
        elif rng.random() > 0.06:
            continue
        owner = max((p for p in managers if path.startswith(p)), key=len, default=None)
        if owner is None:
            continue
        manager = managers[owner]
        opened = dt.datetime.combine(as_of - dt.timedelta(days=int(rng.integers(3, 80))), dt.time(9, 30))
        kind = kinds[int(rng.integers(0, len(kinds)))] if level == "orange" else \
            ("recheck" if rng.random() < 0.5 else "referral")
        due = opened.date() + dt.timedelta(days=int(rng.integers(21, 75)))
        notes = [{"at": opened.isoformat(timespec="minutes"), "by": manager.username, "text": DEMO_FOLLOWUP_NOTES[kind]}]
        status, outcome, closed = "open", None, None
        roll = rng.random()
        if roll < 0.45:
            status = "closed"
            outcome = ("improved", "unchanged", "referred", "declined")[int(rng.choice(4, p=[0.45, 0.25, 0.22, 0.08]))]
            closed = min(opened + dt.timedelta(days=int(rng.integers(2, 25))),
                         dt.datetime.combine(as_of - dt.timedelta(days=1), dt.time(16)))
            notes.append({"at": closed.isoformat(timespec="minutes"), "by": manager.username, "text": "随访结束。"})
        elif roll < 0.75:
            status = "in_progress"
        reason = "；".join(r.get("text", "") for r in reasons or [] if r.get("level") in ("red", "orange"))
        out.append({"officer_id": officer_id, "opened_by_id": manager.id, "assignee_id": manager.id,
                    "reason": reason[:2000], "kind": kind, "due": due, "status": status, "notes": notes,
                    "outcome": outcome, "opened_at": opened, "closed_at": closed})
    if out:
        session.execute(sa_insert(FollowUp), out)
    return len(out)
