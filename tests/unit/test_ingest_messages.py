"""HL7 v2 files and the MLLP listener; FHIR R4 bundles."""
import json
import threading

import pytest
from dash.testing.wait import until
from sqlalchemy import select

from ingest.hospital import Unreadable
from ingest.hospital_load import load_hospital_bytes, load_hospital_file
from ingest.hospital import detect, hl7_messages, parse
from ingest.hl7msg import ack
from ingest.mllp import MLLPServer, send
from models.db import session_scope
from models.schema import Exam, Hospital, ImportBatch, QuarantineRow
from tests.unit.test_ingest_hospital import D, IDS, core, roster_db, values


@pytest.fixture()
def url(new_db_url, request):
    return roster_db(new_db_url, request.node.name[:30])


def _message(ctrl: str, pid3: str, obr7: str, obx: list[str], sender: str = "H20") -> str:
    segs = [f"MSH|^~\\&|LIS|{sender}|PORTAL|JK|20240901120000||ORU^R01|{ctrl}|P|2.5.1",
            f"PID|1||{pid3}||陈^伟||19800315|M", f"OBR|1||{ctrl}-EX|HC|||{obr7}"]
    segs += [f"OBX|{i}|{o}" for i, o in enumerate(obx, 1)]
    return "\r".join(segs) + "\r"


def test_ing101_hl7_file_with_malformed_date(url):
    s = load_hospital_file(url, D / "messages.hl7", "H08")
    assert core(s) == {"file": "messages.hl7", "format": "hl7", "rows_read": 3, "inserted": 2, "updated": 0,
                       "unchanged": 0, "quarantined": 1, "errors": [
                           {"row": 2, "field": "exam_date", "reason": "exam date: '2024-09-3l' is not a date in a known form"}]}
    assert values(url, "J10001", "H08") == {"sbp": (142.0, "mmHg"), "dbp": (91.0, "mmHg"), "tc": (5.2, "mmol/L"),
                                            "tg": (1.69, "mmol/L"), "ua": (430.0, "µmol/L")}
    # local codes matched by their Chinese text; haemoglobin is in the catalogue now (issue 20)
    assert values(url, "J10004", "H08") == {"fpg": (5.4, "mmol/L"), "hb": (130.0, "g/L")}
    with session_scope(url) as s_:
        exam = s_.scalar(select(Exam).join(Hospital).where(Hospital.code == "H08", Exam.external_id == "MSG0001-EX"))
        assert exam.findings == ["aflutter"] and exam.ecg_text == "窦性心律，心房扑动"
        q = s_.scalar(select(QuarantineRow).where(QuarantineRow.batch_id == s["batch_id"], QuarantineRow.row_number == 2))
        assert q.raw["kind"] == "hl7" and "2024-09-3l" in q.raw["message"] and q.raw["control_id"] == "MSG0002"
    again = load_hospital_file(url, D / "messages.hl7", "H08")
    assert (again["inserted"], again["unchanged"], again["quarantined"]) == (0, 2, 1)


def test_ing102_hl7_without_framing_and_newlines(url):
    text = (D / "messages.hl7").read_bytes().replace(b"\x0b", b"").replace(b"\x1c\r", b"").replace(b"\r", b"\n")
    assert detect(text) == "hl7"
    messages, _ = hl7_messages(text)
    assert len(messages) == 3 and all(m.startswith("MSH|") for m in messages)
    s = load_hospital_bytes(url, text, "H08", filename="plain.hl7")
    assert (s["rows_read"], s["inserted"], s["quarantined"]) == (3, 2, 1)


def test_ing103_hl7_item_outside_the_catalogue_kept_raw_then_placed_by_a_mapping(url):
    data = (D / "messages.hl7").read_bytes().replace("HGB^血红蛋白".encode(), "XHDB^血红蛋白测定值".encode())
    s = load_hospital_bytes(url, data, "H08", filename="local.hl7")
    assert s["quarantined"] == 1 and s["kept_raw"] == {"XHDB^血红蛋白测定值": 1}  # only the bad date
    assert values(url, "J10004", "H08") == {"fpg": (5.4, "mmol/L")}
    with session_scope(url) as s_:
        extra = s_.scalar(select(Exam.extra).join(Hospital).where(Hospital.code == "H08",
                                                                  Exam.external_id == "MSG0003-EX"))
    assert extra == {"XHDB^血红蛋白测定值": {"value": "130", "unit": "g/L"}}  # as sent, with its unit
    again = load_hospital_bytes(url, data, "H08", filename="local.hl7", mapping={"items": {"XHDB": "hb"}})
    assert again["updated"] == 1 and "kept_raw" not in again or not again["kept_raw"]
    assert values(url, "J10004", "H08")["hb"] == (130.0, "g/L")
    with session_scope(url) as s_:
        assert not s_.scalar(select(Exam.extra).join(Hospital).where(Hospital.code == "H08",
                                                                     Exam.external_id == "MSG0003-EX"))


def test_ing104_mllp_listener_acks(url):
    seen = []
    server = MLLPServer(url, "127.0.0.1", 0, on_message=lambda code, text, summary: seen.append((code, text)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]

    def handled(n):
        # the server sends the ACK before it reports the message: wait for the report, so the
        # next connection's handler cannot overtake this one
        until(lambda: len(seen) >= n, 10, msg=f"the listener did not report message {n}")

    try:
        good = _message("C1", f"{IDS['J10001']}^^^^NNCHN", "20240315",
                        ["NM|8480-6^SBP^LN||150|mm[Hg]|||||F", "NM|2345-7^Glucose^LN||1200|mg/dL|||||F"])
        a1 = send("127.0.0.1", port, good)
        handled(1)
        assert a1.split("\r")[1].startswith("MSA|AA|C1|stored in batch ")
        assert a1.split("\r")[1].endswith("; 1 value(s) quarantined")
        assert a1.startswith("MSH|^~\\&|PORTAL|JK|LIS|H20|") and "|ACK^R01^ACK|" in a1
        bad_date = _message("C2", f"{IDS['J10001']}^^^^NNCHN", "2024-03-1x", ["NM|8480-6^SBP^LN||150|mm[Hg]|||||F"])
        a2 = send("127.0.0.1", port, bad_date)
        handled(2)
        msa = a2.split("\r")[1]
        assert msa.startswith("MSA|AE|C2|refused (batch ") and "2024-03-1x" in msa and a2.split("\r")[2].startswith("ERR|")
        unknown = _message("C3", "J55555^^^^BADGE", "20240315", ["NM|8480-6^SBP^LN||150|mm[Hg]|||||F"])
        assert "no officer with badge J55555" in send("127.0.0.1", port, unknown).split("\r")[1]
        handled(3)
        a4 = send("127.0.0.1", port, "this is not HL7")
        assert a4.split("\r")[1].startswith("MSA|AR||no HL7 message")
        handled(4)
    finally:
        server.shutdown()
        server.server_close()
    assert [c for c, _ in seen] == ["AA", "AE", "AE", "AR"]
    assert values(url, "J10001", "H20") == {"sbp": (150.0, "mmHg")}
    with session_scope(url) as s:
        batches = list(s.scalars(select(ImportBatch).where(ImportBatch.source == "H20").order_by(ImportBatch.id)))
        assert [(b.status, b.file_format, b.created_by) for b in batches] == [("loaded", "hl7", "mllp")] * 3
        assert batches[0].quarantined == 1 and batches[1].quarantined == 1


def test_ing105_ack_escapes_separators():
    a = ack("MSH|^~\\&|A|B|C|D|20240101||ORU^R01|X9|P|2.5", "AE", "bad | value ^ here")
    assert a.split("\r")[1] == "MSA|AE|X9|bad \\F\\ value \\S\\ here"


def test_ing106_fhir_bundle_with_invalid_resource(url):
    s = load_hospital_file(url, D / "bundle.json", "H09")
    assert core(s) == {"file": "bundle.json", "format": "fhir", "rows_read": 7, "inserted": 5, "updated": 0,
                       "unchanged": 0, "quarantined": 2, "errors": [
                           {"row": 8, "field": "Observation",
                            "reason": "invalid resource: valueQuantity.value: Value error, Decimal value string does "
                                      "not match spec regex."},
                           {"row": 9, "field": "subject", "reason": "the subject Patient/p9 is not a Patient in this bundle"}]}
    assert values(url, "J10003", "H09") == {"tc": (4.91, "mmol/L"), "hdl": (1.16, "mmol/L"), "sbp": (128.0, "mmHg"),
                                            "dbp": (82.0, "mmHg")}
    assert values(url, "J10006", "H09") == {"tc": (5.6, "mmol/L"), "tg": (1.9, "mmol/L")}  # molar LOINC, no conversion
    again = load_hospital_file(url, D / "bundle.json", "H09")
    assert (again["inserted"], again["unchanged"], again["quarantined"]) == (0, 5, 2)


def test_ing107_fhir_status_and_shape_checks(url):
    bundle = json.loads((D / "bundle.json").read_text(encoding="utf-8"))
    bundle["entry"][2]["resource"]["status"] = "finalised"
    bundle["entry"].append({"resource": {"resourceType": "Encounter", "id": "e1", "status": "finished",
                                         "class": {"code": "AMB"}}})
    parsed = parse(json.dumps(bundle, ensure_ascii=False).encode())
    errors = {r.row: r.error for r in parsed.records if r.error}
    assert errors[3] == ("status", "invalid resource: status 'finalised' is not an Observation status")
    assert errors[10] == ("resourceType", "Encounter resources are not loaded")
    with pytest.raises(Unreadable, match="expected a FHIR Bundle, found Patient"):
        load_hospital_bytes(url, b'{"resourceType": "Patient", "id": "x"}', "H09", filename="p.json")
