"""/campaigns callbacks: the list, the officer's own standing, and the create/edit form.

Every callback starts from ``current_scope``; campaign ids, unit codes and form
values from the browser are checked again in ``models.campaigns.writes``.
"""
from __future__ import annotations

import datetime as dt

import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from models.campaigns.access import CampaignError, NotAllowed, NotVisible
from models.campaigns.reads import list_campaigns
from models.campaigns.writes import campaign_form, save_campaign, unit_choices
from models import suppression as sup
from models.vocab import CAMPAIGN_KIND_UNITS
from web.clock import today
from web.access import AccessDenied, audit, current_scope, db
from web.cache import CAMPAIGN, cached
from web.campaign_text import amount, daily_average_label, kind_name, status_badge, units_text
from web.i18n import tr
from web.standings import officer_standings
from web.inputs import (BadInput, Clicks, ClicksList, Code, Codes, Date, Flag, Number, Path, StoreRef, Text, Token,
                        checked, int_id, new_token, valid_token)
from models import save_tokens

# form field id -> model key (the order of the form's outputs)
FIELDS = {"cf-name": "name", "cf-kind": "kind", "cf-start": "start_date", "cf-end": "end_date",
          "cf-units": "unit_codes", "cf-team-level": "team_level", "cf-target-day": "target_per_day",
          "cf-target-total": "target_total", "cf-scoring": "team_scoring", "cf-pts-active": "points_per_active_day",
          "cf-pts-target": "points_per_day_target", "cf-pts-week": "points_full_week_bonus"}
INVALID_PROP = ("cf-name", "cf-kind", "cf-start", "cf-end", "cf-target-day", "cf-target-total", "cf-scoring",
                "cf-pts-active", "cf-pts-target", "cf-pts-week")
Typed = Number(-(10**12), 10**12)  # what a person can type in a number field; the model says what is out of range
DEFAULTS = {"name": "", "kind": "steps", "start_date": None, "end_date": None, "unit_codes": [],
            "team_level": "station", "target_per_day": 8000, "target_total": None, "team_scoring": "mean",
            "points_per_active_day": 0, "points_per_day_target": 1, "points_full_week_bonus": 10}


def _denied(exc: Exception):
    raise AccessDenied(str(exc)) from exc


def _campaign_card(c: dict, runs: bool, leader: bool):
    pct = c["progress"]
    bar = html.Div([
        html.Div([html.Span(tr("完成", "Achieved"), className="text-muted small me-2"),
                  html.Span(f"{pct:.0%}" if pct is not None else "–", className="fw-semibold"),
                  html.Span(tr(f"（目标 {amount(c['target'], c['kind'])}）", f" (target {amount(c['target'], c['kind'])})"),
                            className="text-muted small")]),
        dbc.Progress(value=min(100, (pct or 0) * 100), color="success", className="mb-1", style={"height": "10px"}),
        dbc.Progress(value=c["time_elapsed"] * 100, color="secondary", style={"height": "4px"},
                     className="opacity-50"),
        html.Div(tr(f"时间已过 {c['time_elapsed']:.0%}", f"{c['time_elapsed']:.0%} of the time gone"),
                 className="text-muted small"),
    ])
    members = sup.single(c["members"]) if leader else f"{c['members']:,}"
    footer = [dbc.Button(tr("查看详情", "Open"), href=f"/campaigns/{c['id']}", color="primary", size="sm",
                         className="me-2", id={"type": "campaign-open", "index": c["id"]})]
    if runs and c["editable"]:
        footer.append(dbc.Button(tr("编辑", "Edit"), id={"type": "campaign-edit", "index": c["id"]}, color="secondary",
                                 outline=True, size="sm"))
    return dbc.Card(dbc.CardBody([
        html.Div([status_badge(c["status"]), dbc.Badge(kind_name(c["kind"]), color="info", className="me-1")]),
        html.A(c["name"], href=f"/campaigns/{c['id']}", className="h6 d-block mt-2 mb-1 text-decoration-none"),
        html.Div(f"{c['start']} – {c['end']}", className="text-muted small"),
        html.Div(tr(f"参赛单位：{units_text(c['units'])} · {members} 人",
                    f"Units: {units_text(c['units'])} · {members} officers"), className="small mb-2"),
        bar,
        html.Div(footer, className="mt-2"),
    ]), className="h-100 shadow-sm campaign-card")


def _mine_card(c: dict):
    unit = tr(*CAMPAIGN_KIND_UNITS.get(c["kind"], ("", "")))
    if c["status"] == "upcoming":
        body = html.Div(tr(f"{c['start']} 开始", f"Starts {c['start']}"), className="text-muted")
    else:
        target = c["target_per_day"] or 0
        body = html.Div([
            dbc.Row([
                dbc.Col([html.Div(tr("我的排名", "My rank"), className="kpi-title"),
                         html.Div(f"{c['rank']:,}", className="kpi-value"),
                         html.Div(tr(f"共 {c['members']:,} 人", f"of {c['members']:,}"), className="kpi-sub")]),
                dbc.Col([html.Div(daily_average_label(), className="kpi-title"),
                         html.Div(f"{c['per_day']:,.0f}", className="kpi-value", id={"type": "mine-daily-average", "index": c["id"]}),
                         html.Div(tr(f"目标 {target:,.0f} {unit}", f"target {target:,.0f}{unit}"),
                                  className="kpi-sub")]),
                dbc.Col([html.Div(tr("积分", "Points"), className="kpi-title"),
                         html.Div(f"{c['points']:,}", className="kpi-value"),
                         html.Div(tr(f"达标 {c['target_days']} 天", f"{c['target_days']} days on target"),
                                  className="kpi-sub")]),
            ], className="g-2"),
            html.Div(tr(f"已参与 {c['active_days']} / {c['days_elapsed']} 天，累计 {amount(c['total'], c['kind'])}",
                        f"Active {c['active_days']} of {c['days_elapsed']} days, {amount(c['total'], c['kind'])} in all"),
                     className="small text-muted mt-2"),
        ])
    return dbc.Card(dbc.CardBody([
        html.Div([status_badge(c["status"]), dbc.Badge(kind_name(c["kind"]), color="info")]),
        html.A(c["name"], href=f"/campaigns/{c['id']}", className="h6 d-block mt-2 mb-2 text-decoration-none"),
        body,
    ]), className="h-100 shadow-sm mine-card")


def register(app):
    @app.callback(Output("campaigns-list", "children"), Input("campaigns-url", "pathname"),
                  Input("campaigns-refresh", "data"))
    @checked
    def campaigns_list(_path: Path, _refresh: StoreRef):
        scope = current_scope()
        day = today()

        def compute():
            with db() as s:
                return list_campaigns(s, scope, day)

        rows = cached("campaigns_list", scope, {"today": day.isoformat()}, compute, CAMPAIGN)
        if not rows:
            return dbc.Alert(tr("您的范围内还没有健康活动。", "There are no campaigns in your scope yet."),
                             color="light", id="campaigns-empty")
        runs = scope.role in ("manager", "admin")
        return dbc.Row([dbc.Col(_campaign_card(c, runs, scope.role == "leader"), md=6, xl=4, className="mb-3")
                        for c in rows], id="campaigns-cards")

    @app.callback(Output("campaigns-archived", "children"), Input("campaigns-show-archived", "value"),
                  Input("campaigns-refresh", "data"))
    @checked
    def campaigns_archived(show: Flag, _refresh: StoreRef):
        """Archived campaigns leave the default list; this switch shows them (read-only)."""
        scope = current_scope()
        if not show:
            return None
        day = today()
        with db() as s:
            rows = [c for c in list_campaigns(s, scope, day, archived=True) if c["status"] == "archived"]
        if not rows:
            return dbc.Alert(tr("没有已归档的活动。", "No archived campaigns."), color="light", id="campaigns-archived-empty")
        return dbc.Row([dbc.Col(_campaign_card(c, False, scope.role == "leader"), md=6, xl=4, className="mb-3")
                        for c in rows], id="campaigns-archived-cards")

    @app.callback(Output("campaigns-mine", "children"), Input("campaigns-url", "pathname"),
                  Input("campaigns-refresh", "data"))
    @checked
    def campaigns_mine(_path: Path, _refresh: StoreRef):
        scope = current_scope("officer")
        day = today()
        with db() as s:
            rows = officer_standings(s, scope, scope.officer_id, day)
        if not rows:
            return dbc.Alert(tr("您所在单位目前没有参加健康活动。", "Your unit is not taking part in a campaign."),
                             color="light")
        return dbc.Row([dbc.Col(_mine_card(c), md=6, className="mb-3") for c in rows])

    @app.callback(Output("cf-units", "options"), Input("campaigns-url", "pathname"))
    @checked
    def unit_options(_path: Path):
        scope = current_scope("manager", "admin")
        with db() as s:
            units = unit_choices(s, scope)
        indent = {0: "", 1: "", 2: "　", 3: "　　"}
        return [{"label": indent.get(u["depth"], "　　") + tr(u["name"], u["name_en"]), "value": u["code"]}
                for u in units if u["level"] in ("city", "district", "station")]

    form_values = [Output(fid, "value") for fid in FIELDS]
    form_disabled = [Output(fid, "disabled") for fid in FIELDS if fid != "cf-team-level"]

    @app.callback(Output("cf-collapse", "is_open"), Output("cf-edit-id", "data"), Output("cf-title", "children"),
                  Output("cf-locked-note", "children"), Output("cf-locked-note", "is_open"),
                  *form_values, *form_disabled, Output("cf-token", "data"),
                  Input("campaigns-new", "n_clicks"), Input({"type": "campaign-edit", "index": ALL}, "n_clicks"),
                  Input("cf-cancel", "n_clicks"), prevent_initial_call=True)
    @checked
    def open_form(_new: Clicks, edit_clicks: ClicksList, _cancel: Clicks):
        scope = current_scope("manager", "admin")
        trigger = ctx.triggered_id
        n_disabled = len(form_disabled)
        if trigger == "cf-cancel":
            return (False, None, no_update, no_update, False, *[no_update] * len(FIELDS), *[no_update] * n_disabled,
                    None)
        if trigger == "campaigns-new":
            values = dict(DEFAULTS)
            start = today() + dt.timedelta(days=7)
            values["start_date"], values["end_date"] = start.isoformat(), (start + dt.timedelta(days=27)).isoformat()
            return (True, None, tr("新建活动", "New campaign"), None, False,
                    *[values[k] for k in FIELDS.values()], *[False] * n_disabled, new_token())
        if isinstance(trigger, dict) and trigger.get("type") == "campaign-edit":
            if not any(edit_clicks or []):
                raise PreventUpdate  # the buttons were re-rendered, not clicked
            try:
                with db() as s:
                    form = campaign_form(s, scope, int_id(trigger.get("index")), today())
            except (NotVisible, NotAllowed) as exc:
                _denied(exc)
            locked = set(form["locked"])
            note = None
            if form["status"] == "running":
                note = tr("活动已开始：为保证公平，只能修改名称、结束日期和总目标。",
                          "The campaign has started: to keep it fair, only its name, end date and overall target "
                          "can change.")
            values = {k: form.get(k) for k in FIELDS.values()}
            disabled = [FIELDS[fid] in locked for fid in FIELDS if fid != "cf-team-level"]
            return (True, form["id"], tr(f"编辑：{form['name']}", f"Edit: {form['name']}"), note, bool(note),
                    *[values[k] for k in FIELDS.values()], *disabled, new_token())
        raise PreventUpdate

    feedback_outputs = []
    for fid in FIELDS:
        feedback_outputs += [Output(f"{fid}-fb", "children"), Output(f"{fid}-fb", "style")]
    invalid_outputs = [Output(fid, "invalid") for fid in INVALID_PROP]

    @app.callback(Output("cf-error", "children"), Output("cf-collapse", "is_open", allow_duplicate=True),
                  Output("campaigns-refresh", "data"), Output("campaigns-feedback", "children"),
                  *feedback_outputs, *invalid_outputs,
                  Input("cf-save", "n_clicks"), State("cf-edit-id", "data"), State("cf-token", "data"),
                  *[State(fid, "value") for fid in FIELDS], prevent_initial_call=True)
    @checked
    def save(_n: Clicks, edit_id: StoreRef, token: Token, name: Text, kind: Code, start: Date, end: Date, units: Codes,
             team_level: Code, target_day: Typed, target_total: Typed, scoring: Code, pts_active: Typed,
             pts_target: Typed, pts_week: Typed):
        scope = current_scope("manager", "admin")
        values = (name, kind, start, end, units, team_level, target_day, target_total, scoring, pts_active, pts_target,
                  pts_week)
        data = {key: v for key, v in zip(FIELDS.values(), values)}
        token = valid_token(token)
        if token is None:
            raise BadInput("bad input: a save without its client token")
        if edit_id is not None and int_id(edit_id) is None:
            raise BadInput("bad input: campaign id")
        try:
            with db() as s:
                if not save_tokens.claim(s, scope.user_id, "campaign_update" if edit_id else "campaign_create", token):
                    return _saved(tr("已保存", "Saved"))  # a replay of a save already made: nothing changes
                campaign = save_campaign(s, scope, data, today(), int_id(edit_id))
                cid, name = campaign.id, campaign.name
                answer = _saved(tr(f"已保存：{name}", f"Saved: {name}"), token)  # built before the commit
                audit("campaign_update" if edit_id else "campaign_create", target=f"campaign:{cid}",
                      detail={"name": name, "units": data.get("unit_codes")}, session=s)
        except (NotVisible, NotAllowed) as exc:
            _denied(exc)
        except CampaignError as exc:
            errors = exc.errors
            fb = []
            for key in FIELDS.values():
                msg = errors.get(key)
                fb += [tr(*msg) if msg else None, {"display": "block"} if msg else {"display": "none"}]
            general = tr(*errors["_"]) if "_" in errors else tr("请更正标红的项目。", "Please correct the fields marked red.")
            return (general, no_update, no_update, no_update, *fb,
                    *[FIELDS[fid] in errors for fid in INVALID_PROP])
        return answer

    def _saved(text: str, marker=no_update):
        """The answer to a save: the form closes, the list reloads (its marker is the save's token)."""
        fb = []
        for _ in FIELDS:
            fb += [None, {"display": "none"}]
        done = dbc.Alert(text, color="success", dismissable=True, duration=6000, id="campaigns-saved")
        return (None, False, marker, done, *fb, *[False] * len(INVALID_PROP))
