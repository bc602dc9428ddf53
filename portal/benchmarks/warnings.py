"""/warnings: the map aggregate and one page of the officer list (issue 8), beside the raw SQL
each stands on: a GROUP BY unit_path, level over the snapshot and a plain ORDER BY/LIMIT page."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, text

from models import warnings_queries as wq
from models.schema import Unit
from models.rule_versions import in_force
from portal.bench import BenchContext, Result, measure

RAW_MAP = "SELECT unit_path, level, count(*) FROM officer_status GROUP BY unit_path, level"
RAW_PAGE = ("SELECT o.badge, o.name, u.name, s.level, s.confirmed, s.reasons, s.latest, s.last_exam_date "
            "FROM officer_status s JOIN officer o ON o.id = s.officer_id JOIN unit u ON u.id = o.unit_id "
            "WHERE s.level IN ('red', 'orange') ORDER BY o.name LIMIT 100 OFFSET 200")


def run(ctx: BenchContext) -> list[Result]:
    target = 200 if ctx.scale in ("city", "tiny") else 800
    today = dt.date.today()
    with ctx.session() as s:
        rules = in_force(s)
        root = s.scalar(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id))
        s.expunge(root)

    def map_query():
        with ctx.session() as s:
            wq.map_data(s, None, root, wq.Filters(), rules, today, tree_depth=1)

    def list_page():
        with ctx.session() as s:
            wq.officer_rows(s, None, wq.Filters(levels=("red", "orange")), today, leader=False,
                            sort=[("name", False)], start=200, end=300)

    def counts():
        with ctx.session() as s:
            wq.level_counts(s, None, wq.Filters(sex="male"), today)

    def raw(sql):
        def go():
            with ctx.session() as s:
                s.execute(text(sql)).all()
        return go

    return [
        measure("warnings_map", map_query, raw(RAW_MAP), target,
                note="sub-unit colours + treemap of the whole force; raw = GROUP BY unit_path, level"),
        measure("warnings_list_page", list_page, raw(RAW_PAGE), target,
                note="rows 200-300 of red+orange by name, with follow-up state and total; raw = the page alone"),
        measure("warnings_counts", counts, raw(RAW_MAP), target, note="counts per colour with a filter"),
    ]
