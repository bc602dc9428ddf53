"""portal ingest boundaries FILE.geojson: unit polygons for the /warnings map."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console

from portal.config import Config

console = Console(stderr=True)


def boundaries(file: Path = typer.Argument(..., exists=True, dir_okay=False,
                                           help="GeoJSON FeatureCollection, one feature per unit"),
               key: str = typer.Option("code", help="feature property that holds the unit code"),
               as_json: bool = typer.Option(False, "--json", help="print the report as one JSON object")) -> None:
    """Load unit boundary polygons keyed by unit code; reports units not matched and features not used."""
    from ingest.boundaries import load_boundaries
    from models.db import init_db, session_scope

    url = Config().database_url
    init_db(url)
    try:
        with session_scope(url) as s:
            report = load_boundaries(s, file, key=key, created_by="cli")
    except (ValueError, json.JSONDecodeError) as exc:
        console.print(f"[red]{file}: {exc}[/red]")
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
        return
    console.print(f"[green]loaded[/green] {len(report['loaded'])} unit polygons (batch {report['batch_id']})")
    if report["units_not_matched"]:
        console.print(f"[yellow]{len(report['units_not_matched'])} units without a feature[/yellow]: "
                      + ", ".join(report["units_not_matched"][:30]) + (" ..." if len(report["units_not_matched"]) > 30 else ""))
    for f in report["features_not_used"]:
        console.print(f"[red]feature {f['index']}[/red] ({f['code'] or '-'}): {f['reason']}")


def register(app: typer.Typer) -> None:
    from portal.commands.ingest import ingest_app

    ingest_app.command("boundaries")(boundaries)
