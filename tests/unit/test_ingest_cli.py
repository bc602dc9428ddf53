"""portal ingest ...: the JSON object, the readable summary, exit codes."""
import json

from typer.testing import CliRunner

from portal.cli import _load_commands, app
from tests.unit.test_ingest_hospital import D, roster_db

_load_commands()
runner = CliRunner()


def _run(url, tmp_path, *args):
    return runner.invoke(app, list(args), env={"PORTAL_DATABASE_URL": url, "PORTAL_INSTANCE": str(tmp_path),
                                               "COLUMNS": "200"})


def test_ing401_hospital_json_object(new_db_url, tmp_path):
    url = roster_db(new_db_url, "cli_json")
    res = _run(url, tmp_path, "ingest", "hospital", str(D / "hospital_problems.csv"), "--hospital", "H06", "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"batch_id", "file", "format", "rows_read", "inserted", "updated", "unchanged", "quarantined",
            "errors"} <= set(data)
    assert (data["file"], data["format"], data["rows_read"], data["inserted"], data["updated"], data["unchanged"],
            data["quarantined"]) == ("hospital_problems.csv", "csv-wide", 7, 2, 0, 0, 9)
    assert data["errors"][0] == {"row": 2, "field": "id_number", "reason": "no officer with ID number 440604********1113"}
    assert data["hospital_registered"] is True and isinstance(data["batch_id"], int)
    again = json.loads(_run(url, tmp_path, "ingest", "hospital", str(D / "hospital_problems.csv"), "--hospital", "H06",
                            "--json").stdout)
    assert (again["inserted"], again["unchanged"], again["hospital_registered"]) == (0, 2, False)


def test_ing402_readable_summary_and_several_files(new_db_url, tmp_path):
    url = roster_db(new_db_url, "cli_text")
    res = _run(url, tmp_path, "ingest", "hospital", str(D / "hospital_utf8.csv"), str(D / "messages.hl7"),
               "--hospital", "H01", "--name", "南江市第一人民医院")
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "hospital_utf8.csv" in out and "messages.hl7" in out
    assert "inserted / 新增" in out and "hospital H01 was seen for the first time" in out
    assert "exam date: '2024-09-3l' is not a date in a known form" in out
    lines = [json.loads(x) for x in _run(url, tmp_path, "ingest", "hospital", str(D / "hospital_utf8.csv"),
                                         str(D / "bundle.json"), "--hospital", "H01", "--json").stdout.splitlines()]
    assert [(d["format"], d["unchanged"]) for d in lines] == [("csv-wide", 4), ("fhir", 0)]


def test_ing403_unreadable_file_exits_non_zero(new_db_url, tmp_path):
    url = roster_db(new_db_url, "cli_bad")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04garbage")
    res = _run(url, tmp_path, "ingest", "hospital", str(bad), "--hospital", "H01")
    assert res.exit_code == 1
    assert "cannot load" in res.stderr and "the Excel file is damaged or cut off" in res.stderr
    res = _run(url, tmp_path, "ingest", "hospital", str(bad), "--hospital", "H01", "--json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert data["status"] == "failed" and "damaged" in data["error"] and data["batch_id"]
    res = _run(url, tmp_path, "ingest", "hospital", str(tmp_path / "none.csv"), "--hospital", "H01")
    assert res.exit_code == 1 and "cannot open" in res.stderr


def test_ing404_roster_and_reprocess_commands(new_db_url, tmp_path):
    url = new_db_url("cli_roster")
    _run(url, tmp_path, "init-db")
    units = json.loads(_run(url, tmp_path, "ingest", "units", str(D / "units.csv"), "--json").stdout)
    assert (units["inserted"], units["quarantined"]) == (5, 1)
    officers = _run(url, tmp_path, "ingest", "officers", str(D / "officers.csv"), "--json")
    assert officers.exit_code == 0 and json.loads(officers.stdout)["inserted"] == 6
    loaded = json.loads(_run(url, tmp_path, "ingest", "hospital", str(D / "hospital_long.csv"), "--hospital", "H07",
                             "--json").stdout)
    res = _run(url, tmp_path, "ingest", "reprocess", str(loaded["batch_id"]), "--mapping", str(D / "mapping_long.json"))
    assert res.exit_code == 0, res.output
    # the unknown item was kept raw with its exam (issue 20), not quarantined: the mapping places it
    assert "0 of 0 quarantined rows now load; 0 stay open" in res.stdout
    assert "1 item(s) kept raw with their exams are now placed by the mapping" in res.stdout
    assert _run(url, tmp_path, "ingest", "reprocess", "9999").exit_code == 1
