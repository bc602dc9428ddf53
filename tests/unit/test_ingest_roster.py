"""Roster import: units and officers, ID checks, idempotence, quarantine and reprocess."""
import datetime as dt

import pytest
from sqlalchemy import select

from ingest import idcard
from ingest.hospital import Unreadable
from ingest.reprocess import reprocess
from ingest.roster import load_officers_bytes, load_officers_file, load_units_bytes, load_units_file
from models.db import init_db, session_scope, set_meta
from models.schema import Officer, OfficerStatus, Unit
from tests.unit.test_ingest_hospital import D, IDS, core


@pytest.fixture()
def url(new_db_url, request):
    u = new_db_url(request.node.name[:30])
    init_db(u)
    with session_scope(u) as s:
        set_meta(s, "id_hash_key", "test-id-key")
    return u


def test_ing301_units_exact_summary_and_paths(url):
    s = load_units_file(url, D / "units.csv", user="tester")
    assert core(s) == {"file": "units.csv", "format": "csv", "rows_read": 6, "inserted": 5, "updated": 0,
                       "unchanged": 0, "quarantined": 1, "errors": [
                           {"row": 7, "field": "parent",
                            "reason": "the parent unit NJ-D9 is neither in the file nor in the database"}]}
    with session_scope(url) as s_:
        units = {u.code: (u.path, u.depth, u.level, u.parent.code if u.parent else None) for u in s_.scalars(select(Unit))}
    assert units == {"NJ": ("/NJ/", 0, "city", None), "NJ-D1": ("/NJ/NJ-D1/", 1, "district", "NJ"),
                     "NJ-D1-S01": ("/NJ/NJ-D1/NJ-D1-S01/", 2, "station", "NJ-D1"),
                     "NJ-D1-S02": ("/NJ/NJ-D1/NJ-D1-S02/", 2, "station", "NJ-D1"),
                     "NJ-X01": ("/NJ/NJ-X01/", 1, "department", "NJ")}
    again = load_units_file(url, D / "units.csv")
    assert (again["inserted"], again["updated"], again["unchanged"], again["quarantined"]) == (0, 0, 5, 1)


def test_ing302_units_children_before_parents_and_moves(url):
    data = "code,name,parent,level\nA-S1,Station,A-D1,station\nA-D1,District,A,district\nA,City,,city\nB,Other city,,city\n"
    s = load_units_bytes(url, data.encode(), filename="u.csv")
    assert (s["inserted"], s["quarantined"]) == (4, 0)
    moved = "code,name,parent,level\nA-D1,District,B,district\n"
    s2 = load_units_bytes(url, moved.encode(), filename="move.csv")
    assert (s2["updated"], s2["quarantined"]) == (1, 0)
    with session_scope(url) as s_:
        assert s_.scalar(select(Unit.path).where(Unit.code == "A-S1")) == "/B/A-D1/A-S1/"
    cycle = "code,name,parent,level\nB,Other city,A-S1,city\n"
    s3 = load_units_bytes(url, cycle.encode(), filename="cycle.csv")
    assert s3["errors"] == [{"row": 2, "field": "parent", "reason": "making A-S1 the parent of B would create a cycle"}]


def test_ing303_officers_exact_summary_id_checks(url):
    load_units_file(url, D / "units.csv")
    s = load_officers_file(url, D / "officers.csv")
    assert core(s) == {"file": "officers.csv", "format": "csv", "rows_read": 9, "inserted": 6, "updated": 0,
                       "unchanged": 0, "quarantined": 3, "errors": [
        {"row": 8, "field": "id_number",
         "reason": "the ID number 440604********7070 fails the GB 11643 check digit (expected 5)"},
        {"row": 9, "field": "sex", "reason": "sex 男 does not match the ID number (女)"},
        {"row": 10, "field": "unit_code", "reason": "no unit with code NJ-D9-S99"}]}
    with session_scope(url) as s_:
        o = s_.scalar(select(Officer).where(Officer.badge == "J10003"))
        assert (o.name, o.sex, o.birth_date, o.post_type, o.hire_date, o.unit.code) == (
            "刘䶮", "male", dt.date(1978, 6, 20), "investigation", dt.date(2000, 9, 1), "NJ-D1-S02")
        assert o.id_hash == idcard.keyed_hash(IDS["J10003"], "test-id-key")
        assert o.id_masked == "440605********3033"
        statuses = s_.scalars(select(OfficerStatus.officer_id)).all()
        assert len(statuses) == 6  # new officers get a status row at once
    again = load_officers_file(url, D / "officers.csv")
    assert (again["inserted"], again["updated"], again["unchanged"], again["quarantined"]) == (0, 0, 6, 3)


def test_ing304_officer_update_and_english_headers(url):
    load_units_file(url, D / "units.csv")
    load_officers_file(url, D / "officers.csv")
    data = f"Badge,Name,Gender,ID Number,Unit Code,Post,Hire Date\nJ10001,陈伟,M,{IDS['J10001']},NJ-X01,traffic,2003-07-01\n"
    s = load_officers_bytes(url, data.encode(), filename="en.csv")
    assert (s["rows_read"], s["updated"], s["quarantined"]) == (1, 1, 0)
    with session_scope(url) as s_:
        o = s_.scalar(select(Officer).where(Officer.badge == "J10001"))
        assert (o.unit.code, o.post_type) == ("NJ-X01", "traffic")
        st = s_.get(OfficerStatus, o.id)
        assert st.unit_path == "/NJ/NJ-X01/"


def test_ing305_birth_date_mismatch_and_taken_from_id(url):
    load_units_file(url, D / "units.csv")
    good = idcard.make("440604", dt.date(1991, 3, 3), 123, "female")
    data = (f"警号,姓名,出生日期,身份证号,单位代码\nJ20001,甲,1991-03-04,{good},NJ-X01\n"
            f"J20002,乙,,{good[:-1] + ('0' if good[-1] != '0' else '1')},NJ-X01\n"
            f"J20003,丙,,{idcard.make('440604', dt.date(1992, 4, 4), 124, 'male')},NJ-X01\n")
    s = load_officers_bytes(url, data.encode(), filename="b.csv")
    assert [e["field"] for e in s["errors"]] == ["birth_date", "id_number"]
    assert s["errors"][0]["reason"] == "birth date 1991-03-04 does not match the ID number (1991-03-03)"
    with session_scope(url) as s_:
        o = s_.scalar(select(Officer).where(Officer.badge == "J20003"))
        assert (o.sex, o.birth_date, o.post_type) == ("male", dt.date(1992, 4, 4), "other")


def test_ing306_reprocess_after_unit_added(url):
    load_units_file(url, D / "units.csv")
    s = load_officers_file(url, D / "officers.csv")
    load_units_bytes(url, "单位代码,单位名称,上级单位代码,级别\nNJ-D9,北区分局,NJ,分局\nNJ-D9-S99,北区派出所,NJ-D9,派出所\n".encode(),
                     filename="more.csv")
    r = reprocess(url, s["batch_id"])
    assert (r["rows_read"], r["inserted"], r["resolved"], r["still_open"]) == (3, 1, 1, 2)
    with session_scope(url) as s_:
        assert s_.scalar(select(Officer.unit_id).where(Officer.badge == "J10009")) is not None


def test_ing307_roster_unreadable(url):
    with pytest.raises(Unreadable, match="no header row with the officer columns"):
        load_officers_bytes(url, b"a,b\n1,2\n", filename="x.csv")
    with pytest.raises(Unreadable, match="cannot open"):
        load_units_file(url, D / "nope.csv")
