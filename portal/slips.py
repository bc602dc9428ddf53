"""What a from-roster run hands to the units: a CSV of the codes and a printable page of slips per
unit (``templates/slips.html``). Used by ``portal accounts from-roster`` and, through the app's
``portal_slips`` extension, by /admin/users."""
from __future__ import annotations

import csv
import io
from itertools import groupby
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
CSV_COLUMNS = ("unit_code", "unit_name", "badge", "name", "activation_code", "expires_utc")
_env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def slips_csv(created: list[dict]) -> str:
    """The codes as CSV text (Excel opens it with the byte-order mark the caller writes)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for c in created:
        writer.writerow((c["unit_code"], c["unit_name"], c["badge"], c["name"], c["code"],
                         c["expires"].strftime("%Y-%m-%d %H:%M")))
    return out.getvalue()


def slips_html(created: list[dict], site: str = "警康 Portal") -> str:
    """One printable page of cut-out slips per unit."""
    units = [{"code": code, "name": group[0]["unit_name"], "slips": group}
             for code, group in ((k, list(g)) for k, g in groupby(created, key=lambda c: c["unit_code"]))]
    return _env.get_template("slips.html").render(units=units, site=site)
