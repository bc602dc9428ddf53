"""portal ingest: units, officers, hospital files, the HL7 MLLP listener and reprocess.

Other command modules add their loaders to the same ``ingest_app``.
"""
from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from portal.config import Config

ingest_app = typer.Typer(help="Load rosters, hospital exams and messages (one transaction per file).",
                         no_args_is_help=True)
console = Console(stderr=True)

JSON_OPT = typer.Option(False, "--json", help="print one JSON object per file")
DRY_OPT = typer.Option(False, "--dry-run", help="check everything and report, write nothing")
USER_OPT = typer.Option(None, "--user", help="who loads the file (default: cli:<login>)")


def _url() -> str:
    return Config().database_url


def _secret() -> str:
    """The portal secret ID numbers are hashed with (the loaders take it as a parameter)."""
    return Config().secret_key


def _user(user: str | None) -> str:
    if user:
        return user
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def _bar_progress(bar):
    """A loader's progress callback drawing one bar per step."""
    tasks: dict[str, int] = {}

    def progress(step: str, done: int, total: int) -> None:
        if step not in tasks:
            tasks[step] = bar.add_task(step, total=total)
        bar.update(tasks[step], completed=done, total=total)

    return progress


def _progress_bar():
    return Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,}"),
                    TimeElapsedColumn(), console=console, transient=True)


def _run(files: list[Path], as_json: bool, load) -> None:
    """Load each file with ``load(path, progress)``; print JSON or a summary; exit 1 if any file was unreadable."""
    from ingest.hospital import Unreadable

    failed = False
    for path in files:
        try:
            if as_json:
                summary = load(path, None)
            else:
                with _progress_bar() as bar:
                    summary = load(path, _bar_progress(bar))
        except Unreadable as exc:
            failed = True
            batch_id = getattr(exc, "batch_id", None)
            console.print(f"[red]cannot load {path}: {exc}[/red]" + (f" (failed batch {batch_id})" if batch_id else ""))
            if as_json:
                sys.stdout.write(json.dumps({"batch_id": batch_id, "file": str(path), "status": "failed",
                                             "error": str(exc)}, ensure_ascii=False) + "\n")
            continue
        if as_json:
            sys.stdout.write(json.dumps(summary, ensure_ascii=False, default=str) + "\n")
        else:
            print_summary(summary)
    if failed:
        raise typer.Exit(1)


def print_summary(summary: dict) -> None:
    out = Console()
    title = f"{summary.get('file')}  ({summary.get('format')}"
    if summary.get("encoding"):
        title += f", {summary['encoding']}"
    title += ")"
    if summary.get("dry_run"):
        title += "  — dry run, nothing written"
    elif summary.get("batch_id") is not None:
        title = f"batch {summary['batch_id']}: " + title
    table = Table(title=title, show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, label in (("rows_read", "rows read / 读取行数"), ("inserted", "inserted / 新增"), ("updated", "updated / 更新"),
                       ("unchanged", "unchanged / 未变"), ("rows_rejected", "rows refused / 拒收行"),
                       ("quarantined", "quarantined / 隔离条目"), ("observations_inserted", "values inserted / 新增数值"),
                       ("observations_updated", "values updated / 更新数值"), ("not_done", "not done / 未查"),
                       ("officers_recomputed", "officers recomputed / 重算民警")):
        if key in summary:
            style = "red" if key in ("rows_rejected", "quarantined") and summary[key] else ""
            table.add_row(label, f"[{style}]{summary[key]:,}[/]" if style else f"{summary[key]:,}")
    out.print(table)
    if summary.get("hospital_registered"):
        out.print(f"[yellow]hospital {summary['hospital']} was seen for the first time and has been registered[/yellow]")
    if summary.get("unplaced_columns"):
        out.print("[yellow]columns not placed (values kept in quarantine): " + ", ".join(summary["unplaced_columns"]))
    if summary.get("duplicates"):
        out.print(f"{len(summary['duplicates'])} duplicated row(s) counted once, e.g. row "
                  f"{summary['duplicates'][0]['row']} repeats row {summary['duplicates'][0]['of']}")
    notes = summary.get("notes") or []
    for n in notes[:5]:
        out.print(f"note: {'row ' + str(n['row']) + ' ' if n.get('row') else ''}{n['field']}: {n['note']}")
    if len(notes) > 5:
        out.print(f"... and {len(notes) - 5} more notes (--json lists them)")
    errors = summary.get("errors") or []
    if errors:
        et = Table("row", "field", "reason", title=f"quarantined ({len(errors)})")
        for e in errors[:20]:
            et.add_row("" if e["row"] is None else str(e["row"]), str(e["field"] or ""), e["reason"])
        out.print(et)
        if len(errors) > 20:
            out.print(f"... and {len(errors) - 20} more (see /admin/imports or --json)")
    if "seconds" in summary:
        rows = summary.get("rows_read", 0)
        rate = f", {rows / summary['seconds']:,.0f} rows/s" if summary["seconds"] else ""
        out.print(f"done in {summary['seconds']:.1f} s{rate}")


@ingest_app.command("units")
def units(file: Path = typer.Argument(..., help="CSV or XLSX: code, name, parent code, level"),
          as_json: bool = JSON_OPT, dry_run: bool = DRY_OPT, user: str = USER_OPT) -> None:
    """Load or update units (单位) by code."""
    from ingest.roster import load_units_file

    _run([file], as_json, lambda p, progress: load_units_file(_url(), p, user=_user(user), dry_run=dry_run,
                                                              progress=progress))


@ingest_app.command("officers")
def officers(file: Path = typer.Argument(..., help="CSV or XLSX: badge, name, sex, birth date, ID number, unit code, "
                                                   "post type, hire date"),
             as_json: bool = JSON_OPT, dry_run: bool = DRY_OPT, user: str = USER_OPT) -> None:
    """Load or update officers (民警) by badge; ID numbers are checked and stored only hashed and masked."""
    from ingest.roster import load_officers_file

    _run([file], as_json, lambda p, progress: load_officers_file(_url(), p, user=_user(user), dry_run=dry_run,
                                                                 progress=progress, secret=_secret()))


@ingest_app.command("hospital")
def hospital(files: list[Path] = typer.Argument(..., help="CSV, XLSX, HL7 v2 or FHIR R4 Bundle files"),
             code: str = typer.Option(..., "--hospital", help="code of the sending hospital (registered if new)"),
             name: str = typer.Option(None, "--name", help="the hospital's name, when registering it"),
             mapping: Path = typer.Option(None, "--mapping", help="JSON mapping file; saved as the hospital's mapping"),
             dry_run: bool = DRY_OPT, as_json: bool = JSON_OPT, user: str = USER_OPT) -> None:
    """Load hospital exam exports and messages; the format is detected from the content."""
    from ingest.hospital import Unreadable
    from ingest.hospital_load import load_hospital_file, load_mapping_file

    mapping_data = None
    if mapping is not None:
        try:
            mapping_data = load_mapping_file(mapping)
        except Unreadable as exc:
            console.print(f"[red]{exc}[/red]")
            raise typer.Exit(1) from None
    _run(files, as_json, lambda p, progress: load_hospital_file(
        _url(), p, code, mapping=mapping_data, hospital_name=name, dry_run=dry_run, user=_user(user),
        progress=progress, secret=_secret()))


@ingest_app.command("reprocess")
def reprocess(batch_id: int = typer.Argument(..., help="the batch whose open quarantine rows to re-run"),
              mapping: Path = typer.Option(None, "--mapping", help="save this mapping for the hospital first"),
              as_json: bool = JSON_OPT, user: str = USER_OPT) -> None:
    """Re-run a batch's quarantined rows (after fixing the hospital's mapping or the roster)."""
    from ingest.hospital import Unreadable
    from ingest.hospital_load import load_mapping_file
    from ingest.reprocess import reprocess as run

    try:
        mapping_data = load_mapping_file(mapping) if mapping else None
        summary = run(_url(), batch_id, user=_user(user), mapping=mapping_data, secret=_secret())
    except Unreadable as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, default=str) + "\n")
        return
    print_summary(summary)
    Console().print(f"{summary.get('resolved', 0)} of {summary.get('quarantine_rows', 0)} quarantined rows now "
                    f"load; {summary.get('still_open', 0)} stay open")
    if summary.get("kept_raw_placed"):
        Console().print(f"{summary['kept_raw_placed']} item(s) kept raw with their exams are now placed by the mapping")


@ingest_app.command("hl7-listen")
def hl7_listen(port: int = typer.Option(2575, "--port", help="TCP port"),
               host: str = typer.Option("127.0.0.1", "--host", help="address to listen on (0.0.0.0: all)"),
               code: str = typer.Option(None, "--hospital", help="hospital code for every message "
                                                                  "(default: MSH-4 sending facility)")) -> None:
    """Listen for HL7 v2 ORU^R01 messages over MLLP; store each and answer ACK AA/AE/AR."""
    from models.db import init_db
    from ingest.mllp import MLLPServer

    url = _url()
    init_db(url)

    def report(code_: str, text: str, summary: dict | None) -> None:
        colour = {"AA": "green", "AE": "yellow"}.get(code_, "red")
        console.print(f"[{colour}]{code_}[/{colour}] {text}")

    server = MLLPServer(url, host, port, hospital=code, on_message=report, secret=_secret())
    console.print(f"listening for MLLP on {host}:{server.server_address[1]} (database {url}); Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
