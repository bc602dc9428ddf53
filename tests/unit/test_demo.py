"""The synthetic demo force: shape, ID numbers, determinism, clinical plausibility, accounts.

Builds the tiny scale into temporary SQLite files (no shared fixtures)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3

import numpy as np
import pytest

from ingest import idcard
from ingest.demo import (CANON_UNITS, build_demo, officer_roster, prevalences, simulate_measures)

AS_OF = dt.date(2025, 6, 30)


def _url(path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "tiny.db"
    summary = build_demo(_url(path), scale="tiny", seed=42, as_of=AS_OF)
    db = sqlite3.connect(path)
    yield summary, db, path
    db.close()


def _one(db, sql, *args):
    return db.execute(sql, args).fetchone()


def test_demo001_tiny_shape(tiny):
    summary, db, _ = tiny
    units = {r[0]: r for r in db.execute("select code, id, parent_id, level, path, depth, lat, lon, name, name_en "
                                         "from unit")}
    by_id = {r[1]: r for r in units.values()}
    assert sorted(units) == ["NJ", "NJ-D1", "NJ-D1-S01", "NJ-D1-S02", "NJ-D1-S03", "NJ-D2", "NJ-D2-S01",
                             "NJ-D2-S02", "NJ-D2-S03", "NJ-X01", "NJ-X02"]
    for code, (_c, _id, parent, level, path, depth, lat, lon, name, name_en) in units.items():
        parent_path = by_id[parent][4] if parent else "/"
        assert path == f"{parent_path}{code}/"
        assert depth == path.count("/") - 2
        assert 21 < lat < 25.5 and 109.5 < lon < 117.5
        assert name and name_en
        expected = {"NJ": "city"}.get(code) or ("department" if "-X" in code else
                                                 "station" if "-S" in code else "district")
        assert level == expected
    assert units["NJ-D1-S01"][4] == "/NJ/NJ-D1/NJ-D1-S01/"
    assert units["NJ"][8] == "南江市公安局"
    n = _one(db, "select count(*) from officer")[0]
    assert n == summary["officers"] == 160
    # officers sit in leaves only, badges are 6 unique digits
    assert _one(db, "select count(*) from officer o join unit u on o.unit_id = u.id "
                    "where u.level not in ('station', 'department')")[0] == 0
    badges = [r[0] for r in db.execute("select badge from officer")]
    assert all(re.fullmatch(r"\d{6}", b) for b in badges) and len(set(badges)) == n
    assert summary["hospitals"] == _one(db, "select count(*) from hospital")[0] == 14
    assert summary["exams"] == _one(db, "select count(*) from exam")[0]
    assert summary["observations"] == _one(db, "select count(*) from observation")[0]
    # exams per officer near the seed's 37,400 / 11,700
    assert 2.8 < summary["exams"] / n < 3.4
    male = _one(db, "select avg(sex = 'male') from officer")[0]
    assert 0.7 < male < 0.97


def test_demo002_id_numbers_valid_and_consistent(tiny):
    _summary, db, _ = tiny
    roster = officer_roster("tiny", seed=42, as_of=AS_OF)
    stored = {b: (h, m, s, bd) for b, h, m, s, bd in db.execute(
        "select badge, id_hash, id_masked, sex, birth_date from officer")}
    assert len(roster) == len(stored)
    seen = set()
    for r in roster:
        num = r["id_number"]
        assert idcard.is_valid(num), num
        assert idcard.parse(num) == (r["birth_date"], r["sex"])
        assert num[:2] == "44"  # Guangdong
        assert 22 <= (AS_OF - r["birth_date"]).days / 365.25 < 60
        assert r["hire_date"] <= AS_OF and (r["hire_date"] - r["birth_date"]).days >= 21 * 365
        h, masked, sex, birth = stored[r["badge"]]
        assert h == idcard.keyed_hash(num, idcard.DEMO_ID_KEY)
        assert masked == idcard.mask(num) and "*" in masked
        assert (sex, birth) == (r["sex"], r["birth_date"].isoformat())
        assert num not in seen
        seen.add(num)
    # no clear ID number anywhere in the officer table
    for row in db.execute("select * from officer"):
        assert not any(isinstance(x, str) and re.fullmatch(r"\d{17}[\dX]", x) for x in row)


def _digest(path) -> str:
    db = sqlite3.connect(path)
    h = hashlib.sha256()
    for table, cols in (("unit", "*"), ("officer", "*"), ("hospital", "*"), ("exam", "*"),
                        ("observation", "*"), ("campaign", "*"), ("campaign_entry", "*"), ("points", "*"),
                        ("officer_preference", "*"),
                        ("app_user", "id, username, role, officer_id, scope_unit_id, created_at"),
                        ("meta", "key, value")):
        where = " where key like 'demo%'" if table == "meta" else ""
        for row in db.execute(f"select {cols} from {table}{where} order by 1"):
            h.update(repr(row).encode())
    db.close()
    return h.hexdigest()


def test_demo003_deterministic(tiny, tmp_path):
    _summary, _db, first = tiny
    again = tmp_path / "again.db"
    build_demo(_url(again), scale="tiny", seed=42, as_of=AS_OF, recompute=False)
    other = tmp_path / "other.db"
    build_demo(_url(other), scale="tiny", seed=7, as_of=AS_OF, recompute=False)
    assert _digest(first) == _digest(again)
    assert _digest(first) != _digest(other)


def _cohort(n: int, rng):
    young = rng.random(n) < 0.45
    ages = np.clip(np.where(young, rng.normal(34, 6, n), rng.normal(45, 7, n)), 22, 59.9)
    sexes = np.where(rng.random(n) < 0.85, "male", "female")
    return ages, sexes


def test_demo004_prevalences_on_20000_simulated_officers():
    rng = np.random.default_rng(123)
    ages, sexes = _cohort(20_000, rng)
    v = simulate_measures(rng, ages, sexes)
    p = prevalences(v)
    assert 0.20 <= p["hypertension"] <= 0.30, p
    assert 0.45 <= p["overweight_or_obese"] <= 0.55, p
    assert 0.30 <= p["dyslipidemia"] <= 0.40, p
    assert 0.15 <= p["hyperuricemia"] <= 0.25, p
    assert 0.05 <= p["diabetes"] <= 0.08, p
    assert 0.002 <= p["bp_grade3"] <= 0.02, p  # some red, not many
    # correlations the portal's charts rely on
    older = ages > 45
    assert v["sbp"][older].mean() > v["sbp"][~older].mean() + 4
    heavy = v["bmi"] >= 28
    assert v["sbp"][heavy].mean() > v["sbp"][v["bmi"] < 24].mean() + 5
    assert v["ua"][sexes == "male"].mean() > v["ua"][sexes == "female"].mean() + 50
    assert np.corrcoef(v["bmi"], v["tg"])[0, 1] > 0.15
    # a worse unit stands out
    w = prevalences(simulate_measures(np.random.default_rng(5), ages[:3000], sexes[:3000],
                                      bmi_shift=2.2, sbp_shift=8.0, dbp_shift=5.0))
    assert w["hypertension"] > p["hypertension"] + 0.1
    assert w["overweight_or_obese"] > p["overweight_or_obese"] + 0.1


def test_demo005_values_plausible_and_persistent(tiny):
    _summary, db, _ = tiny
    units = {code: unit for code, unit in db.execute("select distinct code, unit from observation")}
    assert set(units) <= set(CANON_UNITS)
    assert all(CANON_UNITS[c] == u for c, u in units.items())
    from models.clinical import CANONICAL_UNITS
    assert all(CANONICAL_UNITS[c] == u for c, u in units.items())
    lo_hi = {"sbp": (80, 240), "dbp": (45, 150), "bmi": (15, 46), "fpg": (3, 26), "tc": (2, 11.5),
             "hdl": (0.4, 3.1), "ua": (100, 820), "phq9": (0, 27), "gad7": (0, 21), "phq9_item9": (0, 3)}
    for code, (lo, hi) in lo_hi.items():
        mn, mx = _one(db, "select min(value), max(value) from observation where code = ?", code)
        assert lo <= mn and mx <= hi, (code, mn, mx)
    # exam observations at 08:00 on the exam date, tied to the exam and the demo batch
    bad = _one(db, "select count(*) from observation o join exam e on o.exam_id = e.id "
                   "where o.source_kind = 'exam' and o.observed_at != e.exam_date || ' 08:00:00.000000'")[0]
    assert bad == 0
    assert _one(db, "select count(*) from observation where source_kind = 'exam' and exam_id is null")[0] == 0
    assert _one(db, "select count(*) from observation where source_kind = 'kiosk' and "
                    "(station is null or source_id not like 'kiosk-%')")[0] == 0
    batches = {r[0] for r in db.execute("select distinct batch_id from observation")}
    assert batches == {r[0] for r in db.execute("select id from import_batch where kind = 'demo'")}
    # year-to-year persistence: an officer's SBP correlates across annual exams
    rows = db.execute("select officer_id, substr(observed_at, 1, 10), value from observation "
                      "where code = 'sbp' and source_kind = 'exam' order by officer_id, observed_at").fetchall()
    first, second = {}, {}
    for oid, _day, v in rows:
        (second if oid in first else first).setdefault(oid, v)
    both = [o for o in first if o in second]
    assert np.corrcoef([first[o] for o in both], [second[o] for o in both])[0, 1] > 0.4
    # ECG texts in Chinese, findings coded
    assert _one(db, "select count(*) from exam where ecg_text = '窦性心律，正常心电图'")[0] > 0
    for (findings,) in db.execute("select findings from exam"):
        assert isinstance(json.loads(findings), list)


def test_demo006_dates_end_at_as_of(tiny):
    _summary, db, _ = tiny
    end = f"{AS_OF.isoformat()} 00:00:00"
    assert _one(db, "select max(observed_at) from observation")[0] < end
    assert _one(db, "select min(observed_at) from observation")[0] >= str(AS_OF - dt.timedelta(days=3 * 365 + 1))
    assert _one(db, "select max(exam_date) from exam")[0] < AS_OF.isoformat()
    assert _one(db, "select max(day) from campaign_entry")[0] < AS_OF.isoformat()
    camps = db.execute("select name, kind, start_date, end_date, team_level, target_per_day, team_scoring "
                       "from campaign order by id").fetchall()
    assert len(camps) == 2
    (_n1, k1, s1, e1, lvl1, tgt1, sc1), (_n2, _k2, s2, e2, _l2, _t2, _s2) = camps
    assert (k1, lvl1, tgt1, sc1) == ("steps", "station", 8000.0, "mean")
    assert e1 < (AS_OF - dt.timedelta(days=40)).isoformat()
    assert 50 <= (dt.date.fromisoformat(e1) - dt.date.fromisoformat(s1)).days <= 60
    assert s2 < AS_OF.isoformat() < e2  # running now


def test_demo007_campaign_winners(tiny):
    _summary, db, _ = tiny
    rows = db.execute("select u.code, u.id, sum(e.value), count(*) from campaign_entry e "
                      "join officer o on e.officer_id = o.id join unit u on o.unit_id = u.id "
                      "where e.campaign_id = (select min(id) from campaign) and not e.flagged group by u.code")
    stats = {code: (total, total / n) for code, _id, total, n in rows}
    sizes = dict(db.execute("select u.code, count(*) from officer o join unit u on o.unit_id = u.id "
                            "group by u.code"))
    by_total = max(stats, key=lambda c: stats[c][0])
    by_mean = max(stats, key=lambda c: stats[c][1])
    assert by_total != by_mean
    assert sizes[by_total] == max(sizes[c] for c in stats)
    assert sizes[by_mean] < sizes[by_total]
    # weekend dip
    wk = dict(db.execute("select strftime('%w', day) in ('0', '6'), avg(value) from campaign_entry "
                         "where not flagged group by 1"))
    assert wk[1] < wk[0] * 0.9
    assert _one(db, "select count(*) from points where reason = 'daily_target'")[0] > 0


def test_demo008_accounts_and_scopes(tiny):
    summary, db, _ = tiny
    users = {r[0]: r[1:] for r in db.execute(
        "select a.username, a.role, u.code, a.officer_id from app_user a left join unit u on a.scope_unit_id = u.id")}
    assert users["admin"][:2] == ("admin", None)
    assert users["leader"][:2] == ("leader", "NJ")
    assert users["manager"][:2] == ("manager", "NJ")
    assert users["leader_d1"][:2] == ("leader", "NJ-D1")
    assert users["manager_d1"][:2] == ("manager", "NJ-D1")
    assert users["leader_d2"][:2] == ("leader", "NJ-D2")
    assert users["manager_d2"][:2] == ("manager", "NJ-D2")
    assert users["auditor"][:3] == ("auditor", None, None)
    role, scope, officer_id = users["officer"]
    assert role == "officer" and scope.startswith("NJ-D1-")
    assert {a["username"] for a in summary["accounts"]} == set(users)
    # one shared hash; the password verifies
    from models.users import _hasher
    hashes = {r[0] for r in db.execute("select password_hash from app_user")}
    assert len(hashes) == 1 and _hasher.verify(hashes.pop(), "demo12345")
    # the officer has three years of exams, a dense kiosk series and an orange or red status
    days = [dt.date.fromisoformat(r[0]) for r in db.execute("select exam_date from exam where officer_id = ?",
                                                              (officer_id,))]
    n_years = len({(AS_OF - d).days // 365 for d in days})
    assert n_years == 3
    assert _one(db, "select count(distinct observed_at) from observation where officer_id = ? "
                    "and source_kind = 'kiosk'", officer_id)[0] >= 50
    assert _one(db, "select level from officer_status where officer_id = ?", officer_id)[0] in ("orange", "red")


def test_demo009_snapshot_meta_and_refusal(tiny):
    summary, db, path = tiny
    assert sum(summary["levels"].values()) == summary["officers"]
    assert _one(db, "select count(*) from officer_status")[0] == summary["officers"]
    meta = dict(db.execute("select key, value from meta"))
    assert meta["demo_seed"] == "42" and meta["demo_scale"] == "tiny" and meta["demo_as_of"] == AS_OF.isoformat()
    assert int(meta["data_version"]) >= 1
    with pytest.raises(ValueError, match="already has officers"):
        build_demo(_url(path), scale="tiny", seed=42, as_of=AS_OF, recompute=False)
    with pytest.raises(ValueError):
        build_demo(_url(path.parent / "x.db"), scale="huge")
