"""/me/points callbacks: the caller's own points ledger (the officer comes from the session only)."""
from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, html

from models.campaigns.reads import points_ledger
from models.vocab import POINT_REASON_WORDS
from web.access import current_scope, db
from web.i18n import label, tr
from web.inputs import Path, checked


def register(app):
    @app.callback(Output("me-points-ledger", "children"), Input("me-points-url", "pathname"))
    @checked
    def me_points_ledger(_path: Path):
        scope = current_scope("officer")
        with db() as s:
            d = points_ledger(s, scope.officer_id)
        head = html.Div([html.Span(f"{d['total']:,}", className="kpi-value me-2", id="me-points-total"),
                         html.Span(tr("分（合计）", "points in all"), className="text-muted")], className="mb-2")
        if not d["rows"]:
            return [head, html.Div(tr("还没有积分：参加健康活动，按周结算。", "No points yet: take part in a campaign; "
                                                                "points are awarded weekly."),
                                   className="text-muted small", id="me-points-empty")]
        rows = [html.Tr([html.Td(r["date"]),
                         html.Td(html.A(r["campaign"], href=f"/campaigns/{r['campaign_id']}")),
                         html.Td(label(POINT_REASON_WORDS, r["reason"])), html.Td(f"{r['points']:,}", className="text-end")])
                for r in d["rows"]]
        table = dbc.Table([html.Thead(html.Tr([html.Th(tr("日期", "Date")), html.Th(tr("活动", "Campaign")),
                                               html.Th(tr("原因", "Reason")), html.Th(tr("积分", "Points"),
                                                                                    className="text-end")])),
                           html.Tbody(rows)], size="sm", striped=True, responsive=True, id="me-points-table")
        return [head, table]
