"""Home page KPI cards: numbers from models.overview, cut to the caller's scope."""
from urllib.parse import parse_qs

from dash import Input, Output, html
import dash_bootstrap_components as dbc

from models.overview import LEVELS, scope_counts, suppress_small
from portal.access import current_scope, db, unit_in_scope
from portal.i18n import LEVEL_COLOURS, level_name, tr
from portal.shell import kpi_card


def register(app):
    @app.callback(Output("home-kpis", "children"), Output("home-scope", "children"), Input("home-url", "search"))
    def home_kpis(search):
        scope = current_scope("leader", "manager", "admin")
        code = (parse_qs((search or "").lstrip("?")).get("unit") or [None])[0]
        with db() as s:
            unit = unit_in_scope(s, scope, code)  # a forged ?unit= outside the scope is refused here
            counts = scope_counts(s, unit.path)
            unit_name = tr(unit.name, unit.name_en or unit.name)
        fmt = suppress_small if scope.role == "leader" else (lambda n: f"{n:,}")
        cards = [
            kpi_card(tr("民警人数", "Officers"), fmt(counts["officers"]), unit_name, href="/units"),
            kpi_card(tr(f"{counts['year']}年体检覆盖率", f"Exam coverage {counts['year']}"),
                     f"{counts['coverage']:.0%}" if counts["coverage"] is not None else "–",
                     tr(f"已体检 {counts['examined']:,} 人", f"{counts['examined']:,} examined"), href="/units"),
        ]
        total = sum(counts["levels"].values())
        for level in LEVELS:
            n = counts["levels"][level]
            share = f"{n / total:.1%}" if total and n >= 5 else ""
            cards.append(kpi_card(level_name(level) + tr("预警", " warning"), fmt(n), share,
                                  href=f"/warnings?level={level}", colour=LEVEL_COLOURS[level]))
        return [dbc.Col(c, xs=6, md=4, xl=2) for c in cards], tr(f"范围：{unit_name}", f"Scope: {unit_name}")
