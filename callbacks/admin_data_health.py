"""/admin/data-health: admins only; one call to ``models.data_health.data_health``, drawn as cards,
a grid per hospital and month, a heatmap of item shares and the stale hospitals and kiosks."""
from __future__ import annotations

import datetime as dt

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import plotly.graph_objects as go
from dash import Input, Output, dcc, html

from models import data_health as dh
from models.devices import to_local
from models.vocab import DEVICE_STATES, FINDING_TESTS, ITEM_WORDS
from web.access import current_scope, db
from web.clock import today
from web.i18n import label, tr
from web.inputs import StoreRef, checked
from web.shell import graph, kpi_card

KINDS = ("expected", "received", "on_time", "late", "missing", "open")
KIND_WORDS = {"expected": ("应检", "Expected"), "received": ("已收到", "Received"), "on_time": ("按时", "On time"),
              "late": ("迟到", "Late"), "missing": ("缺失", "Missing"), "open": ("待收", "Open")}


def _item_name(code: str) -> str:
    return label(FINDING_TESTS if code in FINDING_TESTS else ITEM_WORDS, code)


def _completeness(c: dict):
    cols = [{"field": "hospital", "headerName": tr("医院", "Hospital"), "pinned": "left", "width": 190},
            {"field": "officers", "headerName": tr("所属民警", "Officers"), "width": 96, "type": "rightAligned",
             "headerTooltip": tr(*dh.DEFINITIONS["hospital"])}]
    cols += [{"field": k, "headerName": tr(*KIND_WORDS[k]), "width": 88, "type": "rightAligned",
              "headerTooltip": tr(*dh.DEFINITIONS[k])} for k in KINDS]
    cols += [{"field": m, "headerName": m, "width": 104, "type": "rightAligned",
              "headerTooltip": tr("已收到 / 应检（缺失）", "received / expected (missing)")} for m in c["months"]]
    rows = []
    for h in c["hospitals"]:
        row = {"hospital": f"{h['name']}（{h['code']}）", "officers": h["officers"], **h["totals"]}
        for m, cell in h["months"].items():
            row[m] = f"{cell['received']} / {cell['expected']}" + (f" ({cell['missing']})" if cell["missing"] else "")
        rows.append(row)
    return dag.AgGrid(id="dh-completeness", columnDefs=cols, rowData=rows, getRowId="params.data.hospital",
                      defaultColDef={"resizable": True, "sortable": True}, className="ag-theme-alpine",
                      style={"height": f"{min(560, 60 + 42 * max(len(rows), 1))}px"})


def _items(items: dict):
    hospitals = [h for h in items["hospitals"] if h["exams"]]
    if not hospitals or not items["items"]:
        return html.Div(tr("近12个月没有体检。", "No exams in the last 12 months."), className="text-muted")
    z = [[None if h["shares"][i] is None else round(100 * h["shares"][i]) for i in items["items"]] for h in hospitals]
    fig = go.Figure(go.Heatmap(
        z=z, x=[_item_name(i) for i in items["items"]], y=[f"{h['name']} ({h['exams']})" for h in hospitals],
        colorscale=[[0, "#d62728"], [0.5, "#f2c500"], [1, "#2ca02c"]], zmin=0, zmax=100,
        text=[[f"{v}%" if v is not None else "" for v in row] for row in z], texttemplate="%{text}",
        hovertemplate="%{y} · %{x}: %{z}%<extra></extra>", colorbar={"title": "%"}))
    fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 80}, height=120 + 28 * len(hospitals),
                      xaxis={"tickangle": -45}, yaxis={"autorange": "reversed"}, plot_bgcolor="white")
    return graph("dh-items", figure=fig)


def _hospitals(rows: list[dict], days: int):
    stale = [r for r in rows if r["stale"]]
    if not stale:
        return html.Div(tr(f"所有医院在 {days} 天内都有文件。", f"Every hospital sent a file within {days} days."),
                        className="text-success small", id="dh-stale-hospitals")
    body = [html.Tr([html.Td(f"{r['name']}（{r['code']}）"),
                     html.Td(r["last_file"].strftime("%Y-%m-%d") if r["last_file"] else tr("从未", "never")),
                     html.Td(tr(f"{r['days']} 天", f"{r['days']} days") if r["days"] is not None else "–"),
                     html.Td(r["newest_exam"].isoformat() if r["newest_exam"] else "–")]) for r in stale]
    head = html.Thead(html.Tr([html.Th(tr(*w)) for w in (("医院", "Hospital"), ("最近文件", "Last file"),
                                                          ("距今", "Age"), ("最新体检日期", "Newest exam"))]))
    return html.Table([head, html.Tbody(body)], className="table table-sm small", id="dh-stale-hospitals")


def _kiosks(rows: list[dict]):
    if not rows:
        return html.Div(tr("没有超时的设备。", "No stale kiosk."), className="text-success small", id="dh-stale-kiosks")
    body = [html.Tr([html.Td(d["name"]), html.Td(d["station"] or "–"), html.Td(label(DEVICE_STATES, d["state"])),
                     html.Td(to_local(d["last_frame_at"]).strftime("%Y-%m-%d %H:%M") if d["last_frame_at"] else tr("从未", "never"))])
            for d in rows]
    head = html.Thead(html.Tr([html.Th(tr(*w)) for w in (("设备", "Device"), ("派出所", "Station"), ("状态", "State"),
                                                          ("最近一帧", "Last frame"))]))
    return html.Div([html.Table([head, html.Tbody(body)], className="table table-sm small", id="dh-stale-kiosks"),
                     dcc.Link(tr("到设备页查看详情", "Details on the devices page"), href="/admin/devices")])


def register(app):
    @app.callback(Output("dh-body", "children"), Input("dh-refresh", "data"))
    @checked
    def dh_body(_: StoreRef):
        current_scope("admin")
        day = today()
        with db() as s:
            data = dh.data_health(s, day, dt.datetime.combine(day, dt.time(23, 59)))
        c = data["completeness"]
        totals = {k: sum(h["totals"][k] for h in c["hospitals"]) for k in KINDS}
        stale_h = sum(1 for h in data["hospitals"] if h["stale"])
        cards = dbc.Row([
            dbc.Col(kpi_card(tr("近12个月应检", "Expected, last 12 months"), f"{totals['expected']:,}",
                             tr(f"已按时 {totals['on_time']:,} · 迟到 {totals['late']:,}", f"on time {totals['on_time']:,} · late {totals['late']:,}"),
                             id="dh-kpi-expected"), xs=6, lg=3),
            dbc.Col(kpi_card(tr("缺失", "Missing"), f"{totals['missing']:,}", tr(f"待收 {totals['open']:,}", f"open {totals['open']:,}"),
                             colour="#d62728" if totals["missing"] else None, id="dh-kpi-missing"), xs=6, lg=3),
            dbc.Col(kpi_card(tr("超时医院", "Stale hospitals"), f"{stale_h}",
                             tr(f"超过 {data['stale_days']} 天无文件", f"no file for over {data['stale_days']} days"),
                             colour="#f0ad4e" if stale_h else None, id="dh-kpi-hospitals"), xs=6, lg=3),
            dbc.Col(kpi_card(tr("超时设备", "Stale kiosks"), f"{len(data['kiosks'])}", tr("见设备页", "see Devices"),
                             href="/admin/devices", colour="#f0ad4e" if data["kiosks"] else None, id="dh-kpi-kiosks"),
                    xs=6, lg=3),
        ], className="g-3 mb-3")
        return [
            cards,
            dbc.Alert(tr(*dh.DEFINITIONS["hospital"]), color="info", className="small", id="dh-derived-note"),
            html.Div(tr("各医院按月的应检与收到", "Expected and received, per hospital and month"), className="section-title"),
            _completeness(c),
            html.Div(tr("各医院的项目覆盖率（近12个月，%）", "How often each hospital sends each item (last 12 months, %)"),
                     className="section-title"),
            _items(data["items"]),
            html.Div(tr("超时医院", "Stale hospitals"), className="section-title"),
            _hospitals(data["hospitals"], data["stale_days"]),
            html.Div(tr("超时设备", "Stale kiosks"), className="section-title"),
            _kiosks(data["kiosks"]),
            html.Div(tr("口径", "Definitions"), className="section-title"),
            html.Ul([html.Li(tr(*words)) for words in dh.DEFINITIONS.values()], className="small text-muted",
                    id="dh-definitions"),
        ]
