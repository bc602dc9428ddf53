"""portal ingest activity: headers in Chinese or English, CSV and XLSX, the highest
plausible value per officer and day, flags above 60,000 steps, quarantine with
reasons, idempotent re-runs, points, and the command's --json summary."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from sqlalchemy import func, select

from ingest.activity import load_activity_bytes
from ingest.hospital import Unreadable
from models.db import init_db, session_scope, set_meta
from models.schema import Campaign, CampaignEntry, ImportBatch, Officer, Points, QuarantineRow
from tests.unit.test_campaigns import add_officers, add_units

TODAY = dt.date(2025, 6, 30)
START = dt.date(2025, 6, 2)


@pytest.fixture(scope="module")
def world(new_db_url):
    url = new_db_url("activity")
    init_db(url)
    with session_scope(url) as s:
        set_meta(s, "id_hash_key", "test-key")
        units = add_units(s)
        officers = add_officers(s, units)
        ids = {}
        for kind, target in (("steps", 8000), ("quiz", 60), ("checkin", 1)):
            c = Campaign(name=f"{kind} 活动", kind=kind, start_date=START, end_date=START + dt.timedelta(days=34),
                         scope_unit_ids=[units["T-D1"].id], team_level="station", target_per_day=target,
                         team_scoring="mean", points_rule={"per_active_day": 1, "per_day_target": 2,
                                                           "full_week_bonus": 0})
            s.add(c)
            s.flush()
            ids[kind] = c.id
        badges = {code: [s.get(Officer, i).badge for i in oids] for code, oids in officers.items()}
    return {"url": url, "ids": ids, "badges": badges}


def csv_bytes(header, rows, encoding="utf-8-sig"):
    lines = [",".join(header)] + [",".join(str(c) for c in r) for r in rows]
    return ("\n".join(lines) + "\n").encode(encoding)


def entries(url, campaign_id):
    with session_scope(url) as s:
        return {(o, d): (v, f) for o, d, v, f in s.execute(
            select(Officer.badge, CampaignEntry.day, CampaignEntry.value, CampaignEntry.flagged)
            .join(Officer, Officer.id == CampaignEntry.officer_id).where(CampaignEntry.campaign_id == campaign_id))}


def test_act001_chinese_csv_keeps_highest_and_quarantines_with_reasons(world):
    b = world["badges"]["T-D1-S1"]
    foreign = world["badges"]["T-D2-S1"][0]
    rows = [
        (b[0], "2025-06-02", 5200),          # first sync
        (b[0], "2025/6/2", 8300),            # second sync, higher: kept
        (b[0], "2025年6月3日", 7000),
        (b[1], "20250602", 71000),           # implausible: stored flagged
        (b[1], "2025-06-03", 65000),         # implausible ...
        (b[1], "2025-06-03", 9100),          # ... but the same day has a plausible value: that one counts
        ("NOPE99", "2025-06-02", 4000),      # unknown badge
        (foreign, "2025-06-02", 4000),       # not in the campaign's units
        (b[2], "2025-05-30", 4000),          # before the campaign
        (b[2], "2025-06-31", 4000),          # not a date
        (b[2], "2025-06-04", "很多"),         # not a number
        (b[2], "2025-06-05", -5),            # negative
    ]
    data = csv_bytes(["警号", "姓名", "日期", "步数"], [(r[0], "", r[1], r[2]) for r in rows])
    res = load_activity_bytes(world["url"], data, world["ids"]["steps"], filename="steps.csv", today=TODAY)
    assert res["format"] == "csv" and res["rows_read"] == 12
    assert (res["inserted"], res["updated"], res["quarantined"]) == (4, 0, 6)
    assert res["rows_read"] == res["inserted"] + res["updated"] + res["unchanged"] + res["quarantined"]
    assert res["flagged"] == 1
    got = entries(world["url"], world["ids"]["steps"])
    assert got[(b[0], dt.date(2025, 6, 2))] == (8300, False)
    assert got[(b[1], dt.date(2025, 6, 2))] == (71000, True)
    assert got[(b[1], dt.date(2025, 6, 3))] == (9100, False)
    reasons = {e["row"]: e["reason"] for e in res["errors"]}
    assert "no officer with badge NOPE99" in reasons[8]
    assert "not a member" in reasons[9]
    assert "outside the campaign" in reasons[10]
    assert "not a real date" in reasons[11]
    assert "not a number" in reasons[12] and "negative" in reasons[13]
    with session_scope(world["url"]) as s:
        batch = s.get(ImportBatch, res["batch_id"])
        q = list(s.scalars(select(QuarantineRow).where(QuarantineRow.batch_id == batch.id)))
        pts = s.scalar(select(func.sum(Points.points)).where(Points.campaign_id == world["ids"]["steps"]))
    assert batch.kind == "activity" and batch.status == "loaded" and batch.quarantined == 6
    assert len(q) == 6 and {r.raw["警号"] for r in q} >= {"NOPE99", foreign}
    # points for the completed week 2–8 June: b0 two active days, one on target; b1 one plausible day on target
    assert pts == (2 * 1 + 1 * 2) + (1 + 2)


def test_act002_same_file_again_changes_nothing(world):
    b = world["badges"]["T-D1-S2"]
    data = csv_bytes(["警号", "日期", "步数"], [(b[0], "2025-06-10", 12000), (b[0], "2025-06-10", 11000),
                                            (b[1], "2025-06-10", 3000)])
    first = load_activity_bytes(world["url"], data, world["ids"]["steps"], filename="a.csv", today=TODAY)
    before = entries(world["url"], world["ids"]["steps"])
    again = load_activity_bytes(world["url"], data, world["ids"]["steps"], filename="a.csv", today=TODAY)
    assert (first["inserted"], first["unchanged"]) == (2, 1)
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert entries(world["url"], world["ids"]["steps"]) == before
    # a later sync with a higher count updates only that day
    more = csv_bytes(["警号", "日期", "步数"], [(b[1], "2025-06-10", 6400), (b[0], "2025-06-10", 9000)])
    res = load_activity_bytes(world["url"], more, world["ids"]["steps"], filename="b.csv", today=TODAY)
    assert (res["inserted"], res["updated"], res["unchanged"]) == (0, 1, 1)
    assert entries(world["url"], world["ids"]["steps"])[(b[1], dt.date(2025, 6, 10))] == (6400, False)


def test_act003_english_xlsx_quiz_scores(world):
    from openpyxl import Workbook

    b = world["badges"]["T-D1-S1"]
    wb = Workbook()
    ws = wb.active
    ws.append(["Quiz results, June"])                       # a title row above the header
    ws.append(["Badge No.", "Date", "Score"])
    ws.append([b[3], dt.datetime(2025, 6, 5), 85])
    ws.append([b[4], 45813, 70])                             # Excel serial date (2025-06-05)
    ws.append([b[5], "2025-06-05", 130])                     # above 100
    buf = io.BytesIO()
    wb.save(buf)
    res = load_activity_bytes(world["url"], buf.getvalue(), world["ids"]["quiz"], filename="quiz.xlsx", today=TODAY)
    assert res["format"] == "xlsx" and (res["inserted"], res["quarantined"]) == (2, 1)
    assert "above 100" in res["errors"][0]["reason"] and res["errors"][0]["row"] == 5
    got = entries(world["url"], world["ids"]["quiz"])
    assert got[(b[4], dt.date(2025, 6, 5))] == (70, False)


def test_act004_check_ins_in_words(world):
    b = world["badges"]["T-D1-S2"]
    data = csv_bytes(["工号", "打卡日期", "是否打卡"], [(b[0], "2025-06-06", "是"), (b[1], "2025-06-06", "否"),
                                                  (b[2], "2025-06-06", "√"), (b[3], "2025-06-06", "也许")])
    res = load_activity_bytes(world["url"], data, world["ids"]["checkin"], filename="c.csv", today=TODAY)
    got = entries(world["url"], world["ids"]["checkin"])
    assert got[(b[0], dt.date(2025, 6, 6))] == (1, False) and got[(b[1], dt.date(2025, 6, 6))] == (0, False)
    assert got[(b[2], dt.date(2025, 6, 6))] == (1, False)
    assert res["quarantined"] == 1 and "not a check-in" in res["errors"][0]["reason"]


def test_act005_wrong_file_for_campaign_is_refused_and_recorded(world):
    b = world["badges"]["T-D1-S1"]
    data = csv_bytes(["警号", "日期", "得分"], [(b[0], "2025-06-05", 90)])
    with pytest.raises(Unreadable) as err:
        load_activity_bytes(world["url"], data, world["ids"]["steps"], filename="wrong.csv", today=TODAY)
    assert "counts 步数 steps" in str(err.value) and "得分 score" in str(err.value)
    with pytest.raises(Unreadable, match="no header row"):
        load_activity_bytes(world["url"], b"just some text\nnothing here\n", world["ids"]["steps"], today=TODAY)
    with pytest.raises(Unreadable, match="no campaign 9999"):
        load_activity_bytes(world["url"], data, 9999, today=TODAY)
    with pytest.raises(Unreadable, match="frozen"):
        load_activity_bytes(world["url"], data, world["ids"]["steps"], today=dt.date(2025, 8, 1))
    with session_scope(world["url"]) as s:
        failed = s.scalar(select(ImportBatch).where(ImportBatch.filename == "wrong.csv"))
    assert failed.status == "failed" and "steps" in failed.summary["error"]


def test_act006_dry_run_stores_nothing(world):
    b = world["badges"]["T-D1-S1"]
    data = csv_bytes(["badge", "date", "steps"], [(b[7], "2025-06-12", 9999)])
    res = load_activity_bytes(world["url"], data, world["ids"]["steps"], dry_run=True, today=TODAY)
    assert res["inserted"] == 1 and res["batch_id"] is None
    assert (b[7], dt.date(2025, 6, 12)) not in entries(world["url"], world["ids"]["steps"])


def test_act007_command_prints_json_summary(world, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from portal.cli import _load_commands, app

    b = world["badges"]["T-D1-S1"]
    path = tmp_path / "steps_gbk.csv"
    path.write_bytes(csv_bytes(["警号", "日期", "步数"], [(b[8], "2025-06-12", 10500), ("X1", "2025-06-12", 1)],
                               encoding="gb18030"))
    monkeypatch.setenv("PORTAL_DATABASE_URL", world["url"])
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "inst"))
    monkeypatch.setenv("PORTAL_TODAY", TODAY.isoformat())
    _load_commands()
    runner = CliRunner()
    res = runner.invoke(app, ["ingest", "activity", str(path), "--campaign", str(world["ids"]["steps"]), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert {"batch_id", "file", "format", "rows_read", "inserted", "updated", "unchanged", "quarantined",
            "errors"} <= set(out)
    assert (out["rows_read"], out["inserted"], out["quarantined"]) == (2, 1, 1)
    assert out["errors"][0]["row"] == 3 and out["errors"][0]["field"] == "badge"
    bad = runner.invoke(app, ["ingest", "activity", str(tmp_path / "missing.csv"), "--campaign", "1"])
    assert bad.exit_code == 1


def test_act020_quarantined_rows_reprocess_once_the_roster_is_fixed(world):
    from ingest.reprocess import reprocess
    from models.schema import Unit

    url, cid = world["url"], world["ids"]["steps"]
    known = world["badges"]["T-D1-S2"][0]
    data = csv_bytes(["警号", "日期", "步数"], [(known, "2025-06-20", 9100), ("T9901", "2025-06-20", 12000)])
    first = load_activity_bytes(url, data, cid, filename="late.csv", today=TODAY)
    assert first["inserted"] == 1 and first["quarantined"] == 1
    with session_scope(url) as s:  # the new officer is added to the roster afterwards
        station = s.scalar(select(Unit).where(Unit.code == "T-D1-S1"))
        s.add(Officer(badge="T9901", name="新同事", sex="female", birth_date=dt.date(1995, 5, 5), unit_id=station.id,
                      post_type="office"))
    again = reprocess(url, first["batch_id"], today=TODAY)
    assert again["resolved"] == 1 and again["still_open"] == 0 and again["inserted"] == 1
    assert entries(url, cid)[("T9901", dt.date(2025, 6, 20))] == (12000, False)
    with session_scope(url) as s:
        row = s.scalar(select(QuarantineRow).where(QuarantineRow.batch_id == first["batch_id"]))
        assert row.status == "reprocessed" and row.resolved_batch_id == again["batch_id"]
    assert reprocess(url, first["batch_id"], today=TODAY)["rows_read"] == 0  # nothing left open: a second run changes nothing
