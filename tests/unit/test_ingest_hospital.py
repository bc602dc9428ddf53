"""Hospital files: every form of issue 4, each with the exact expected summary."""
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ingest import hospital_load
from ingest.hospital import Unreadable
from ingest.hospital_load import load_hospital_bytes, load_hospital_file
from ingest.reprocess import reprocess
from ingest.roster import load_officers_file, load_units_file
from models.db import get_meta, init_db, session_scope, set_meta
from models.schema import Exam, Hospital, ImportBatch, Observation, Officer, OfficerStatus, QuarantineRow

D = Path(__file__).resolve().parents[1] / "data" / "ingest"
IDS = {"J10001": "440604198003151012", "J10002": "440604198511022022", "J10003": "440605197806203033",
       "J10004": "44060619900109404X", "J10005": "440607197212305051", "J10006": "440608198808086073"}
KEYS = ("batch_id", "file", "format", "rows_read", "inserted", "updated", "unchanged", "quarantined", "errors")


def roster_db(new_db_url, label: str) -> str:
    url = new_db_url(label)
    init_db(url)
    with session_scope(url) as s:
        set_meta(s, "id_hash_key", "test-id-key")
    load_units_file(url, D / "units.csv")
    load_officers_file(url, D / "officers.csv")
    return url


def core(summary: dict) -> dict:
    out = {k: summary[k] for k in KEYS}
    out.pop("batch_id")
    return out


def values(url, badge, source=None) -> dict:
    with session_scope(url) as s:
        q = (select(Observation.code, Observation.value, Observation.unit).join(Officer, Officer.id == Observation.officer_id)
             .where(Officer.badge == badge))
        if source:
            q = q.where(Observation.source_id == source)
        return {c: (v, u) for c, v, u in s.execute(q)}


def count(url, model, **where) -> int:
    with session_scope(url) as s:
        q = select(func.count()).select_from(model)
        for k, v in where.items():
            q = q.where(getattr(model, k) == v)
        return s.scalar(q)


@pytest.fixture()
def url(new_db_url, request):
    return roster_db(new_db_url, request.node.name[:30])


def test_ing001_utf8_wide_exact_summary_and_values(url):
    s = load_hospital_file(url, D / "hospital_utf8.csv", "H01", user="tester")
    assert core(s) == {"file": "hospital_utf8.csv", "format": "csv-wide", "rows_read": 4, "inserted": 4, "updated": 0,
                       "unchanged": 0, "quarantined": 0, "errors": []}
    assert s["hospital_registered"] is True and s["encoding"] == "utf-8"
    assert s["observations_inserted"] == 50 and s["not_done"] == 2 and s["rows_rejected"] == 0
    assert {(n["row"], n["field"]) for n in s["notes"]} == {(3, "总胆固醇(mmol/L)"), (3, "甘油三酯(mmol/L)")}
    v = values(url, "J10002")
    assert v["tc"] == (6.22, "mmol/L") and v["tg"] == (7.75, "mmol/L")
    assert "ldl" not in v and "alt" not in v  # 未查 / 弃查: no value, not zero
    assert values(url, "J10001")["ua"] == (455.0, "µmol/L")
    with session_scope(url) as s_:
        exams = {o.badge: e for e, o in s_.execute(select(Exam, Officer).join(Officer, Officer.id == Exam.officer_id))}
        assert exams["J10001"].findings == ["af", "fatty_liver"]
        assert exams["J10001"].ecg_text == "窦性心律，心房颤动"
        assert exams["J10005"].findings == ["avb3", "gallstone"]
        assert exams["J10004"].findings == ["sinus_brady"]
        assert exams["J10001"].external_id == "TJ2405001"
        assert {e.exam_date for e in exams.values()} == {dt.date(2024, 5, d) for d in (10, 11, 12, 13)}
        b = s_.get(ImportBatch, s["batch_id"])
        assert (b.status, b.kind, b.source, b.created_by, b.rows_read, b.inserted) == (
            "loaded", "hospital", "H01", "tester", 4, 4)
        assert len(b.file_hash) == 64
        assert s_.scalar(select(Hospital.name).where(Hospital.code == "H01")) == "H01"


def test_ing002_same_file_again_inserts_nothing(url):
    load_hospital_file(url, D / "hospital_utf8.csv", "H01")
    with session_scope(url) as s:
        version = int(get_meta(s, "data_version"))
    again = load_hospital_file(url, D / "hospital_utf8.csv", "H01")
    assert core(again) == {"file": "hospital_utf8.csv", "format": "csv-wide", "rows_read": 4, "inserted": 0,
                           "updated": 0, "unchanged": 4, "quarantined": 0, "errors": []}
    assert again["hospital_registered"] is False and again["observations_inserted"] == 0
    assert count(url, Observation) == 50 and count(url, Exam) == 4
    with session_scope(url) as s:
        assert int(get_meta(s, "data_version")) == version + 1


def test_ing003_corrected_reexport_updates_only_what_changed(url):
    first = load_hospital_file(url, D / "hospital_utf8.csv", "H01")
    data = (D / "hospital_utf8.csv").read_text(encoding="utf-8")
    fixed = data.replace("172,80.5,92,145,95", "172,80.5,92,150,95").replace("轻度脂肪肝", "中度脂肪肝")
    s = load_hospital_bytes(url, fixed.encode(), "H01", filename="hospital_utf8_v2.csv")
    assert core(s) == {"file": "hospital_utf8_v2.csv", "format": "csv-wide", "rows_read": 4, "inserted": 0,
                       "updated": 1, "unchanged": 3, "quarantined": 0, "errors": []}
    assert (s["observations_updated"], s["observations_inserted"], s["exams_updated"]) == (1, 0, 1)
    assert values(url, "J10001")["sbp"] == (150.0, "mmHg")
    with session_scope(url) as s_:
        obs = s_.scalar(select(Observation).join(Officer, Officer.id == Observation.officer_id)
                        .where(Officer.badge == "J10001", Observation.code == "sbp"))
        assert obs.batch_id == s["batch_id"]
        dbp = s_.scalar(select(Observation).join(Officer, Officer.id == Observation.officer_id)
                        .where(Officer.badge == "J10001", Observation.code == "dbp"))
        assert dbp.batch_id == first["batch_id"]  # untouched
        assert s_.scalar(select(Exam.ultrasound_text).where(Exam.external_id == "TJ2405001")) == "中度脂肪肝"


def test_ing004_bom_english_headers_units_judged(url):
    s = load_hospital_file(url, D / "hospital_bom.csv", "H02")
    assert core(s) == {"file": "hospital_bom.csv", "format": "csv-wide", "rows_read": 2, "inserted": 2, "updated": 0,
                       "unchanged": 0, "quarantined": 0, "errors": []}
    assert s["encoding"] == "utf-8-sig"
    v = values(url, "J10003")
    assert v["tc"] == (5.0, "mmol/L") and v["ua"] == (380.0, "µmol/L") and v["fpg"] == (5.6, "mmol/L")
    with session_scope(url) as s_:
        assert s_.scalar(select(Exam.findings).where(Exam.external_id == "E-0001")) == ["fatty_liver"]


def test_ing005_gbk_rare_chars(url):
    raw = (D / "hospital_gbk.csv").read_bytes()
    assert "刘䶮".encode("gb18030") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    s = load_hospital_file(url, D / "hospital_gbk.csv", "H03")
    assert core(s) == {"file": "hospital_gbk.csv", "format": "csv-wide", "rows_read": 2, "inserted": 2, "updated": 0,
                       "unchanged": 0, "quarantined": 0, "errors": []}
    assert s["encoding"] == "gb18030"
    assert values(url, "J10003")["ua"] == (430.0, "µmol/L")  # matched by ID number and the name 刘䶮
    with session_scope(url) as s_:
        days = set(s_.scalars(select(Exam.exam_date).join(Hospital).where(Hospital.code == "H03")))
    assert days == {dt.date(2024, 7, 8), dt.date(2024, 7, 12)}  # 45485 is an Excel serial date


def test_ing006_mgdl_hospital_converted(url):
    s = load_hospital_file(url, D / "hospital_mgdl.csv", "H04")
    assert core(s) == {"file": "hospital_mgdl.csv", "format": "csv-wide", "rows_read": 2, "inserted": 2, "updated": 0,
                       "unchanged": 0, "quarantined": 0, "errors": []}
    assert s["notes"] == [{"row": None, "field": "餐后2小时血糖",
                           "note": "ogtt2h: no unit given; judged mg/dL from the values' range (median 170)"}]
    v = values(url, "J10001")
    assert v == {"fpg": (5.5, "mmol/L"), "ogtt2h": (7.78, "mmol/L"), "tc": (5.2, "mmol/L"), "tg": (1.69, "mmol/L"),
                 "hdl": (1.03, "mmol/L"), "ldl": (3.36, "mmol/L"), "ua": (416.4, "µmol/L"), "cr": (88.4, "µmol/L")}
    assert values(url, "J10002")["fpg"] == (7.0, "mmol/L")
    assert values(url, "J10002")["ogtt2h"] == (11.11, "mmol/L")


def test_ing007_duplicated_rows_counted_once_conflicts_quarantined(url):
    s = load_hospital_file(url, D / "hospital_dupes.csv", "H05")
    assert core(s) == {"file": "hospital_dupes.csv", "format": "csv-wide", "rows_read": 4, "inserted": 2, "updated": 0,
                       "unchanged": 1, "quarantined": 1, "errors": [
                           {"row": 5, "field": "row",
                            "reason": "conflicts with row 4 (same officer and exam date): sbp 112 there, 121 here"}]}
    assert s["duplicates"] == [{"row": 3, "of": 2}]
    assert count(url, Observation) == 6
    again = load_hospital_file(url, D / "hospital_dupes.csv", "H05")
    assert (again["inserted"], again["updated"], again["unchanged"], again["quarantined"]) == (0, 0, 3, 1)


def test_ing008_unknown_officers_bad_ids_impossible_values(url):
    s = load_hospital_file(url, D / "hospital_problems.csv", "H06")
    assert core(s) == {"file": "hospital_problems.csv", "format": "csv-wide", "rows_read": 7, "inserted": 2,
                       "updated": 0, "unchanged": 0, "quarantined": 9, "errors": [
        {"row": 2, "field": "id_number", "reason": "no officer with ID number 440604********1113"},
        {"row": 3, "field": "id_number",
         "reason": "the ID number 440606********4040 fails the GB 11643 check digit (expected X)"},
        {"row": 4, "field": "体重", "reason": "-5 kg is impossible for weight_kg (allowed 25–300)"},
        {"row": 4, "field": "收缩压", "reason": "1200 mmHg is impossible for sbp (allowed 50–300)"},
        {"row": 5, "field": "空腹血糖", "reason": "'2.2.8' has more than one decimal point"},
        {"row": 5, "field": "甘油三酯", "reason": "'+' is a qualitative result, not a number"},
        {"row": 6, "field": "exam_date", "reason": "exam date: '2024-02-30' is not a real date"},
        {"row": 7, "field": "badge", "reason": "no officer with badge J99999"},
        {"row": 8, "field": "name", "reason": "the name 陈大伟 does not match the officer's name 陈伟"}]}
    assert s["rows_rejected"] == 5 and s["unplaced_columns"] == []  # haemoglobin is in the catalogue (issue 20)
    v = values(url, "J10004", "H06")
    assert "sbp" not in v and "weight_kg" not in v and v["dbp"] == (70.0, "mmHg")
    with session_scope(url) as s_:
        rows = list(s_.scalars(select(QuarantineRow).where(QuarantineRow.batch_id == s["batch_id"])
                               .order_by(QuarantineRow.id)))
        assert len(rows) == 9 and all(r.status == "open" for r in rows)
        assert rows[0].raw["cells"]["身份证号"] == "440604198404041113"  # raw content kept verbatim
        assert rows[0].raw["cells"]["姓名"] == "赵六"
        assert rows[0].raw["cells"]["血红蛋白(g/L)"] == "150"


def test_ing009_truncated_csv_keeps_what_is_whole(url):
    s = load_hospital_file(url, D / "hospital_truncated.csv", "H10")
    assert core(s) == {"file": "hospital_truncated.csv", "format": "csv-wide", "rows_read": 3, "inserted": 2,
                       "updated": 0, "unchanged": 0, "quarantined": 1, "errors": [
                           {"row": 4, "field": "row", "reason": "the row has 5 of 12 cells: the file seems cut off here"}]}
    with session_scope(url) as s_:
        q = s_.scalar(select(QuarantineRow).where(QuarantineRow.batch_id == s["batch_id"]))
        assert q.raw["cells"] == {"警号": "J10004", "姓名": "黄静", "体检日期": "2024-09-09", "身高": "158", "体重": "5"}


def test_ing010_long_form_item_outside_the_catalogue_kept_raw_then_placed_by_a_mapping(url):
    s = load_hospital_file(url, D / "hospital_long.csv", "H07")
    # the unknown item no longer goes to quarantine: it is kept with its exam, as sent, with its unit
    assert core(s) == {"file": "hospital_long.csv", "format": "csv-long", "rows_read": 7, "inserted": 6, "updated": 0,
                       "unchanged": 1, "quarantined": 0, "errors": []}
    assert s["not_done"] == 1 and s["rows_rejected"] == 0 and s["kept_raw"] == {"血清低密度脂蛋白测定": 1}
    v = values(url, "J10001", "H07")
    assert v == {"sbp": (138.0, "mmHg"), "dbp": (88.0, "mmHg"), "fpg": (6.11, "mmol/L"), "tc": (5.1, "mmol/L")}
    with session_scope(url) as s_:
        exam = s_.scalar(select(Exam).join(Hospital).where(Hospital.code == "H07"))
        assert exam.findings == ["qtc_gt500"]
        assert exam.extra == {"血清低密度脂蛋白测定": {"value": "3.3", "unit": "mmol/L"}}
    mapping = json.loads((D / "mapping_long.json").read_text(encoding="utf-8"))
    again = load_hospital_file(url, D / "hospital_long.csv", "H07", mapping=mapping)
    assert (again["inserted"], again["unchanged"], again["quarantined"], again["kept_raw"]) == (1, 6, 0, {})
    assert values(url, "J10001", "H07")["ldl"] == (3.3, "mmol/L")
    with session_scope(url) as s_:
        assert not s_.scalar(select(Exam.extra).join(Hospital).where(Hospital.code == "H07"))
        assert s_.scalar(select(Hospital.mapping).where(Hospital.code == "H07")) == mapping
    assert reprocess(url, s["batch_id"])["rows_read"] == 0  # nothing was quarantined


def test_ing011_wide_column_outside_the_catalogue_kept_raw_then_placed_by_a_mapping(url):
    data = (D / "hospital_utf8.csv").read_text(encoding="utf-8").replace("空腹血糖(mmol/L)", "血糖值")
    s = load_hospital_bytes(url, data.encode(), "H11", filename="glu.csv")
    assert (s["rows_read"], s["inserted"], s["quarantined"]) == (4, 4, 0)
    assert s["kept_raw"] == {"血糖值": 4} and s["unplaced"] == ["血糖值"]
    assert "fpg" not in values(url, "J10001", "H11")
    r = load_hospital_bytes(url, data.encode(), "H11", filename="glu.csv",
                            mapping={"columns": {"血糖值": {"field": "fpg", "unit": "mmol/L"}}})
    assert (r["rows_read"], r["inserted"], r["updated"], r["quarantined"]) == (4, 0, 4, 0)
    assert values(url, "J10001", "H11")["fpg"] == (6.3, "mmol/L")
    assert count(url, Observation, source_id="H11") == 50


def test_ing012_reprocess_keeps_still_failing_rows_open(url):
    s = load_hospital_file(url, D / "hospital_problems.csv", "H06")
    r = reprocess(url, s["batch_id"])
    assert (r["resolved"], r["still_open"], r["inserted"]) == (0, 9, 0)
    with session_scope(url) as s_:
        reasons = [q.reason for q in s_.scalars(select(QuarantineRow).where(QuarantineRow.batch_id == s["batch_id"])
                                                 .order_by(QuarantineRow.id))]
    assert reasons[3] == "1200 mmHg is impossible for sbp (allowed 50–300)"


def test_ing013_xlsx_wide_with_excel_dates(url, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["体检中心导出 2024年"])  # a title row above the header
    ws.append(["警号", "姓名", "体检日期", "收缩压(mmHg)", "舒张压(mmHg)", "总胆固醇(mg/dL)", "心电图"])
    ws.append(["J10001", "陈伟", 45422, 135, 85, 201, "窦性心律"])                      # serial number cell
    ws.append(["J10002", "李芳", dt.datetime(2024, 5, 11), 120, 80, 180, "心房颤动"])   # a real date cell
    ws.append(["J10004", "黄静", "2024.5.12", 110, 70, "未查", None])
    path = tmp_path / "export.xlsx"
    wb.save(path)
    s = load_hospital_file(url, path, "H12")
    assert core(s) == {"file": "export.xlsx", "format": "xlsx-wide", "rows_read": 3, "inserted": 3, "updated": 0,
                       "unchanged": 0, "quarantined": 0, "errors": []}
    with session_scope(url) as s_:
        days = dict(s_.execute(select(Officer.badge, Exam.exam_date).join(Exam, Exam.officer_id == Officer.id)).all())
        assert days == {"J10001": dt.date(2024, 5, 10), "J10002": dt.date(2024, 5, 11), "J10004": dt.date(2024, 5, 12)}
    assert values(url, "J10002")["tc"] == (4.65, "mmol/L")
    again = load_hospital_file(url, path, "H12")
    assert (again["inserted"], again["unchanged"]) == (0, 3)


def test_ing014_unreadable_files_fail_with_reason(url, tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["警号", "体检日期", "收缩压"])
    wb.active.append(["J10001", "2024-05-10", 120])
    whole = tmp_path / "whole.xlsx"
    wb.save(whole)
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(whole.read_bytes()[:900])
    cases = {
        cut: "the Excel file is damaged or cut off",
        tmp_path / "missing.csv": "cannot open",
        D / "units.csv": "no header row found",
    }
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    cases[tmp_path / "old.xls"] = "old binary Excel file"
    (tmp_path / "empty.csv").write_bytes(b"")
    cases[tmp_path / "empty.csv"] = "the file is empty"
    (tmp_path / "cut.json").write_text('{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Pat')
    cases[tmp_path / "cut.json"] = "not valid JSON"
    for path, reason in cases.items():
        with pytest.raises(Unreadable) as exc:
            load_hospital_file(url, path, "H13")
        assert reason in str(exc.value), (path, str(exc.value))
    with session_scope(url) as s:
        failed = list(s.scalars(select(ImportBatch).where(ImportBatch.status == "failed")))
        assert len(failed) == len(cases) - 1  # a path that does not exist never becomes a batch
        assert all(b.summary["error"] and b.rows_read == 0 for b in failed)
    assert count(url, Exam) == 0


def test_ing015_crash_mid_file_leaves_nothing(url, monkeypatch):
    real = hospital_load.insert_rows

    def half_then_crash(session, table, columns, rows, json_columns=()):
        if table != "observation":
            return real(session, table, columns, rows, json_columns)
        real(session, table, columns, rows[: len(rows) // 2])
        raise RuntimeError("disk full")

    monkeypatch.setattr(hospital_load, "insert_rows", half_then_crash)
    with session_scope(url) as s:
        version = get_meta(s, "data_version")
        statuses = s.scalar(select(func.count()).select_from(OfficerStatus))
    quarantined = count(url, QuarantineRow)
    with pytest.raises(RuntimeError, match="disk full"):
        load_hospital_file(url, D / "hospital_problems.csv", "H01")
    assert count(url, Observation) == 0 and count(url, Exam) == 0 and count(url, QuarantineRow) == quarantined
    assert count(url, Hospital) == 0
    with session_scope(url) as s:
        assert get_meta(s, "data_version") == version
        assert s.scalar(select(func.count()).select_from(OfficerStatus)) == statuses
        b = s.scalar(select(ImportBatch).where(ImportBatch.kind == "hospital"))
        assert b.status == "failed" and "rolled back" in b.summary["error"] and "disk full" in b.summary["error"]
    monkeypatch.setattr(hospital_load, "insert_rows", real)
    s = load_hospital_file(url, D / "hospital_utf8.csv", "H01")
    assert (s["inserted"], s["observations_inserted"]) == (4, 50)


def test_ing016_dry_run_writes_nothing(url):
    s = load_hospital_file(url, D / "hospital_utf8.csv", "H01", dry_run=True)
    assert core(s) == {"file": "hospital_utf8.csv", "format": "csv-wide", "rows_read": 4, "inserted": 4, "updated": 0,
                       "unchanged": 0, "quarantined": 0, "errors": []}
    assert s["batch_id"] is None and s["dry_run"] is True
    assert count(url, Exam) == 0 and count(url, Hospital) == 0 and count(url, ImportBatch, kind="hospital") == 0


def test_ing017_status_recomputed_for_touched_officers(url):
    with session_scope(url) as s:
        before = dict(s.execute(select(Officer.badge, OfficerStatus.level)
                                .join(OfficerStatus, OfficerStatus.officer_id == Officer.id)).all())
    assert before["J10005"] != "red"
    s = load_hospital_file(url, D / "hospital_utf8.csv", "H01")
    assert s["officers_recomputed"] == 4
    with session_scope(url) as s_:
        st = s_.scalar(select(OfficerStatus).join(Officer, Officer.id == OfficerStatus.officer_id)
                       .where(Officer.badge == "J10005"))
        assert st.level == "red"  # third-degree AV block on the ECG
        assert st.last_exam_date == dt.date(2024, 5, 13)
        assert st.latest["sbp"]["value"] == 168


def test_ing018_mapping_file_overrides_headers(url, tmp_path):
    data = "工号,姓名,检查日,血压上,血压下,GLU(mg/dL),附注\nJ10001,陈伟,2024-03-01,128,84,99,无\n"
    mapping = {"columns": {"工号": "badge", "检查日": "exam_date", "血压上": "sbp", "血压下": "dbp", "附注": "ignore"}}
    path = tmp_path / "m.json"
    path.write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    s = load_hospital_bytes(url, data.encode(), "H14", filename="x.csv", mapping=hospital_load.load_mapping_file(path))
    assert core(s) == {"file": "x.csv", "format": "csv-wide", "rows_read": 1, "inserted": 1, "updated": 0,
                       "unchanged": 0, "quarantined": 0, "errors": []}
    assert values(url, "J10001", "H14") == {"sbp": (128.0, "mmHg"), "dbp": (84.0, "mmHg"), "fpg": (5.5, "mmol/L")}
    bad = tmp_path / "bad.json"
    bad.write_text('{"columns": {"工号": "警号"}}', encoding="utf-8")
    with pytest.raises(Unreadable, match="'警号' is not a field"):
        hospital_load.load_mapping_file(bad)


def test_ing019_ambiguous_value_without_unit_quarantined(url):
    data = "警号,体检日期,甘油三酯\nJ10001,2024-03-01,27\nJ10002,2024-03-01,1.2\n"
    s = load_hospital_bytes(url, data.encode(), "H15", filename="tg.csv")
    assert core(s)["errors"] == [{"row": 2, "field": "甘油三酯", "reason": "27 fits no known unit of tg"}]
    assert (s["inserted"], s["rows_rejected"], s["quarantined"]) == (1, 1, 1)


def test_ing020_id_and_badge_of_different_officers_refused(url):
    data = f"身份证号,警号,体检日期,收缩压\n{IDS['J10001']},J10002,2024-03-01,120\n"
    s = load_hospital_bytes(url, data.encode(), "H16", filename="mix.csv")
    assert core(s)["errors"] == [{"row": 2, "field": "badge",
                                  "reason": "the ID number and the badge J10002 belong to different officers"}]


# --- issue 20: combined columns and the wider catalogue --------------------------------------------
WIDER = (
    "身份证号,姓名,体检日期,血压,血红蛋白(g/L),白细胞(10^9/L),血小板,谷草转氨酶(U/L),谷氨酰转肽酶,尿素(mmol/L),"
    "肌酐(μmol/L),尿蛋白,乙肝表面抗原,促甲状腺激素(mIU/L),胸部CT,眼底,听力,腹部彩超,尿比重\n"
    f"{IDS['J10001']},陈伟,2024-09-02,150/96,118,6.2,210,28,45,5.1,150,2+,阴性,2.1,"
    "右肺上叶磨玻璃结节 6mm，建议年度复查,视网膜动脉硬化,双耳听力正常,中度脂肪肝,1.020\n"
    f"{IDS['J10002']},李芳,2024-09-02,150/96mmHg,125,5.0,180,20,18,4.0,60,阴性,阳性,1.5,"
    "双肺未见明显结节,未见异常,左耳听力下降,肝胆胰脾未见异常,1.015\n"
    f"{IDS['J10003']},刘䶮,2024-09-02,150／96,140,7.1,250,25,30,6.0,80,±,阴性,3.0,,,,,\n"
)


def test_ing040_combined_bp_and_wider_items_load_without_quarantine(url):
    s = load_hospital_bytes(url, WIDER.encode(), "H40", filename="wider.csv", today=dt.date(2025, 1, 1))
    assert (s["rows_read"], s["inserted"], s["quarantined"], s["errors"]) == (3, 3, 0, [])
    assert s["kept_raw"] == {"尿比重": 2}  # outside the catalogue: kept with its exam, not quarantined (row 3 empty)
    for badge in ("J10001", "J10002", "J10003"):  # "150/96", "150/96mmHg", "150／96": two values each
        v = values(url, badge, "H40")
        assert (v["sbp"], v["dbp"]) == ((150.0, "mmHg"), (96.0, "mmHg"))
    v = values(url, "J10001", "H40")
    assert {c: v[c] for c in ("hb", "wbc", "plt", "ast", "ggt", "urea", "cr", "urine_protein", "hbsag", "tsh")} == {
        "hb": (118.0, "g/L"), "wbc": (6.2, "10^9/L"), "plt": (210.0, "10^9/L"), "ast": (28.0, "U/L"),
        "ggt": (45.0, "U/L"), "urea": (5.1, "mmol/L"), "cr": (150.0, "µmol/L"), "urine_protein": (2.0, "grade"),
        "hbsag": (0.0, "result"), "tsh": (2.1, "mIU/L")}
    assert values(url, "J10002", "H40")["hbsag"] == (1.0, "result")
    assert values(url, "J10003", "H40")["urine_protein"] == (0.5, "grade")  # ± is trace
    with session_scope(url) as s_:
        exams = {o.badge: e for e, o in s_.execute(select(Exam, Officer).join(Officer, Officer.id == Exam.officer_id))}
        assert exams["J10001"].findings == ["fatty_liver", "fatty_liver_severe", "pulmonary_nodule",
                                            "hypertensive_retinopathy"]
        assert exams["J10001"].chest_text.startswith("右肺上叶磨玻璃结节")
        assert exams["J10001"].extra == {"尿比重": {"value": "1.020", "unit": None}}
        assert exams["J10002"].findings == ["hearing_loss"]  # 未见明显结节 is not a nodule
        status = {o.badge: st for st, o in s_.execute(select(OfficerStatus, Officer)
                                                      .join(Officer, Officer.id == OfficerStatus.officer_id))}
    man, woman = status["J10001"], status["J10002"]
    # WHO anaemia by sex: 118 g/L is anaemia for a man, 125 g/L is not for a woman
    assert man.classes["anaemia"] == "anaemia" and woman.classes["anaemia"] == "normal"
    # CKD-EPI 2021 from creatinine 150 µmol/L, man born 1980-03-15, aged 44 at 2025-01-01 -> G3a
    assert man.classes["ckd"] == "G3a" and man.classes["urine_protein"] == "positive"
    assert woman.classes["hbsag"] == "positive" and woman.classes["ckd"] == "G1"
    rules = {r["rule"] for r in man.reasons}
    assert {"anaemia", "egfr_reduced", "urine_protein", "finding_follow_up"} <= rules
    nodule = next(r for r in man.reasons if r["rule"] == "finding_follow_up" and r["value"] == "pulmonary_nodule")
    assert nodule["date"] == "2024-09-02" and "肺结节" in nodule["text"] and "pulmonary nodule" in nodule["text_en"]
    assert "hbsag" not in {r["rule"] for r in woman.reasons}  # HBsAg is a class for the officer and manager only


def test_ing041_combined_and_qualitative_values_refused_with_the_reason(url):
    bad = ("身份证号,姓名,体检日期,血压,尿蛋白,乙肝表面抗原\n"
           f"{IDS['J10001']},陈伟,2024-09-02,150-96,30mg/dL,0.8\n")
    s = load_hospital_bytes(url, bad.encode(), "H41", filename="bad.csv", today=dt.date(2025, 1, 1))
    assert [(e["field"], e["reason"]) for e in s["errors"]] == [
        ("血压", "'150-96' is not a blood pressure written as systolic/diastolic (such as 150/96)"),
        ("尿蛋白", "'30mg/dL' is not a urine protein result (阴性, ±, 1+ … 4+)"),
        ("乙肝表面抗原", "HBsAg 0.8 without a unit (IU/mL or COI) cannot be read as negative or positive")]


def _statuses(url) -> dict:
    with session_scope(url) as s:
        return {badge: (st.level, st.reasons, st.latest, st.classes) for badge, st in s.execute(
            select(Officer.badge, OfficerStatus).join(OfficerStatus, OfficerStatus.officer_id == Officer.id))}


def test_ing042_values_written_chunk_by_chunk_give_the_statuses_of_a_full_recompute(url, monkeypatch):
    """A batch writes each chunk of officers' new values as the recompute reaches them (on PostgreSQL
    in a second thread while the chunk before is judged): the statuses are those of a recompute of
    everyone after the load, and every value is stored."""
    import threading

    from models import snapshot

    monkeypatch.setattr(snapshot, "CHUNK", 2)  # 4 touched officers: two chunks
    threads, real = [], hospital_load.NewObservations.write

    def spy(self, officer_ids):
        threads.append(threading.current_thread().name)
        return real(self, officer_ids)

    monkeypatch.setattr(hospital_load.NewObservations, "write", spy)
    s = load_hospital_file(url, D / "hospital_utf8.csv", "H01")
    assert (s["officers_recomputed"], s["observations_inserted"]) == (4, 50)
    assert count(url, Observation) == 50
    if url.startswith("postgresql"):
        assert threads[:2] == ["snapshot-writer_0"] * 2  # both chunks streamed beside the judging
    loaded = _statuses(url)
    assert loaded["J10005"][0] == "red"
    with session_scope(url) as s_:
        snapshot.recompute_all(s_)
    assert _statuses(url) == loaded


def test_ing043_a_chunk_write_that_fails_leaves_nothing(url, monkeypatch):
    from models import snapshot

    monkeypatch.setattr(snapshot, "CHUNK", 2)
    real, calls = hospital_load.insert_rows, []

    def second_chunk_fails(session, table, columns, rows, json_columns=()):
        if table == "observation":
            calls.append(len(rows))
            if len(calls) == 2:
                raise RuntimeError("connection lost")
        return real(session, table, columns, rows, json_columns)

    monkeypatch.setattr(hospital_load, "insert_rows", second_chunk_fails)
    with pytest.raises(RuntimeError, match="connection lost"):
        load_hospital_file(url, D / "hospital_utf8.csv", "H01")
    assert count(url, Observation) == 0 and count(url, Exam) == 0
    with session_scope(url) as s:
        b = s.scalar(select(ImportBatch).where(ImportBatch.kind == "hospital"))
        assert b.status == "failed" and "connection lost" in b.summary["error"]
