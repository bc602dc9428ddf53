"""/admin/rules: admins only. The draft id and the grids' rows are untrusted: the draft is looked up
again (it must still be a draft), the rows are put into a copy of its body by rule id and check
position only, and the whole rule set is checked (``models.rule_versions.check_body``) before
anything is saved. The impact and publishing run as background jobs with a progress bar
(``web.jobs``); their work is in the plain functions ``impact_job``, ``publish_job`` and
``republish_job`` (who, what) -> result, so a general job runner can take them as they are."""
from __future__ import annotations

from typing import Any, Callable

import dash_ag_grid as dag
import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from models import audit as audit_model
from models import clock
from models import rule_impact as ri
from models import rule_versions as rv
from models.db import session_scope
from models.vocab import LEVEL_WORDS, RULE_VERSION_STATUSES
from web import jobs
from web.access import audit, client_ip, current_scope, db
from web.i18n import label, level_name, tr
from web.inputs import Clicks, Key, Rows, StoreRef, Text, checked, int_id, next_count

Words = Callable[[str, str], str]


def _stamp(at) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at else "–"


def _problems(t: Words, problems: list[tuple[str, str]]):
    return dbc.Alert([html.Div(t("草稿未通过校验，未保存：", "The draft does not pass the checks and was not saved:"),
                               className="fw-semibold"),
                      html.Ul([html.Li(t(zh, en)) for zh, en in problems], className="mb-0 small", id="rules-problems")],
                     color="danger")


def _level(t: Words, code: str) -> str:
    return t(*LEVEL_WORDS.get(code, (code, code)))


def impact_view(t: Words, data: dict, label_: str, names: bool):
    """The impact of a draft: how many officers change, by transition and by unit, and (for an admin) who."""
    changed = data["changed"]
    head = dbc.Alert(t(f"按草稿 {label_} 重新计算：{data['officers']:,} 名民警中有 {changed:,} 名的预警等级将改变。",
                       f"Under draft {label_}: {changed:,} of {data['officers']:,} officers would change level."),
                     color="warning" if changed else "success", id="rules-impact-count")
    if not changed:
        return html.Div(head)
    moves = html.Table([html.Thead(html.Tr([html.Th(t("原等级", "From")), html.Th(t("新等级", "To")),
                                            html.Th(t("人数", "Officers"), className="text-end")])),
                        html.Tbody([html.Tr([html.Td(_level(t, b)), html.Td(_level(t, a)), html.Td(f"{n:,}", className="text-end")])
                                    for b, a, n in data["transitions"]])],
                       className="table table-sm", id="rules-impact-moves")
    units = html.Table([html.Thead(html.Tr([html.Th(t("单位", "Unit")), html.Th(t("人数", "Officers"), className="text-end")])),
                        html.Tbody([html.Tr([html.Td(t(zh, en)), html.Td(f"{n:,}", className="text-end")])
                                    for zh, en, n in data["units"]])],
                       className="table table-sm", id="rules-impact-units")
    body = [head, dbc.Row([dbc.Col([html.Div(t("按等级变化", "By level change"), className="fw-semibold small"), moves], md=5),
                           dbc.Col([html.Div(t("按单位", "By unit"), className="fw-semibold small"), units], md=7)])]
    if names:
        rows = [{"badge": r["badge"], "name": r["name"], "unit": t(r["unit"], r["unit_en"]),
                 "from": _level(t, r["from"]), "to": _level(t, r["to"])} for r in data["rows"]]
        body.append(dag.AgGrid(
            id="rules-impact-grid", rowData=rows, getRowId="params.data.badge",
            columnDefs=[{"field": "badge", "headerName": t("警号", "Badge"), "width": 110},
                        {"field": "name", "headerName": t("姓名", "Name"), "width": 110},
                        {"field": "unit", "headerName": t("单位", "Unit"), "flex": 2},
                        {"field": "from", "headerName": t("原等级", "From"), "width": 100},
                        {"field": "to", "headerName": t("新等级", "To"), "width": 100}],
            defaultColDef={"sortable": True, "resizable": True}, className="ag-theme-alpine",
            style={"height": "300px"}))
    return html.Div(body)


# --- the jobs (plain functions: who started them, what they act on) -----------------------------------
def _who_ok(url: str, who: dict | None, target: str) -> bool:
    if who and who.get("role") == "admin":
        return True
    with session_scope(url) as s:  # a job has no request: the refusal is recorded here
        audit_model.record(s, action="access_denied", target=target, detail={"reason": "only admins edit the rules"},
                           user_id=(who or {}).get("id"), username=(who or {}).get("username"), ip=(who or {}).get("ip"))
    return False


def _record(s, who: dict, action: str, target: str, detail: dict, **kwargs) -> None:
    audit_model.record(s, action=action, target=target, detail=detail, user_id=who["id"], username=who["username"],
                       ip=who.get("ip"), **kwargs)


def _save(s, who: dict, draft_id, rule_rows, check_rows, note) -> tuple[Any, list]:
    """Put the grids' rows into the draft and save it; (version, []) or (None, problems)."""
    vid = int_id(draft_id)
    row = s.get(rv.RuleVersion, vid) if vid else None
    if row is None or row.status != "draft":
        return None, [("这个草稿已不存在（可能已发布或被放弃），请刷新页面。",
                       "This draft no longer exists (published or discarded): reload the page.")]
    body, problems = rv.apply_rows(row.body, _level_codes(rule_rows), check_rows)
    if problems:
        return None, problems
    saved, problems = rv.save_draft(s, row.id, body, note if isinstance(note, str) else None)
    if problems:
        _record(s, who, "rules_draft_refused", f"rules:{row.label}", {"problems": [en for _zh, en in problems][:10]})
        return None, problems
    _record(s, who, "rules_draft_saved", f"rules:{row.label}", {"number": row.number})
    return saved, []


def _saved_draft(url: str, who: dict, draft_id, rule_rows, check_rows, note) -> dict:
    """Impact and publish both start by saving the grids' edits: {"problems"} or the saved draft's
    {"id", "label", "body"}, committed before the long work begins."""
    with session_scope(url) as s:
        saved, problems = _save(s, who, draft_id, rule_rows, check_rows, note)
        if saved is None:
            return {"problems": problems}
        return {"id": saved.id, "label": saved.label, "body": saved.body}


def impact_job(url: str, today, who: dict, draft_id, rule_rows, check_rows, note,
               progress: Callable[[int, int], None]) -> dict:
    """Save the draft and evaluate it over the current snapshot's inputs: {"problems"} or {"label", "impact"}."""
    saved = _saved_draft(url, who, draft_id, rule_rows, check_rows, note)
    if "problems" in saved:
        return saved
    label_, body = saved["label"], saved["body"]
    with session_scope(url) as s:
        names = who.get("role") == "admin"  # the names of the officers: for the roles that see them
        data = ri.impact(s, body, today, names=names, psych=who.get("role") == "admin", progress=progress)
        _record(s, who, "rules_impact", f"rules:{label_}", {"changed": data["changed"]},
                badges=[r["badge"] for r in data["rows"]])
    return {"label": label_, "impact": data, "names": names}


def publish_job(url: str, today, who: dict, draft_id, rule_rows, check_rows, note,
                progress: Callable[[int, int], None]) -> dict:
    """Save the draft, then publish it (every officer recomputed): {"problems"} or publish()'s result."""
    saved = _saved_draft(url, who, draft_id, rule_rows, check_rows, note)
    if "problems" in saved:
        return saved
    with session_scope(url) as s:
        result = ri.publish(s, saved["id"], who["id"], today, progress)
        _record(s, who, "rules_published", f"rules:{result['label']}",
                {"number": result["number"], "previous": result["previous"], "levels": result["levels"]})
    return result


def republish_job(url: str, today, who: dict, number: int, progress: Callable[[int, int], None]) -> dict:
    with session_scope(url) as s:
        try:
            result = ri.republish(s, number, who["id"], today, progress)
        except LookupError:
            return {"problems": [("只能再次发布已停用的版本。", "Only a retired version can be published again.")]}
        _record(s, who, "rules_published", f"rules:{result['label']}",
                {"number": result["number"], "previous": result["previous"], "republished": number,
                 "levels": result["levels"]})
    return result


def _published_view(t: Words, result: dict):
    if "problems" in result:
        return _problems(t, result["problems"])
    return dbc.Alert(t(f"已发布规则版本 {result['label']}（第 {result['number']} 版），所有民警的预警等级已按新规则重新计算。",
                       f"Rules {result['label']} (version {result['number']}) published; every officer's level was "
                       f"recomputed under it."), color="success", id="rules-published")


# --- the page ------------------------------------------------------------------------------------------
def _current(info: dict):
    return dbc.Card(dbc.CardBody([
        html.Div([html.Span(tr("生效版本", "In force"), className="badge bg-success me-2"),
                  html.Span(f"v{info['number']} · {info['label']}", className="fw-semibold", id="rules-current-label")]),
        html.Div(tr(f"发布于 {_stamp(info['published_at'])}（UTC）", f"Published {_stamp(info['published_at'])} (UTC)"),
                 className="text-muted small"),
    ]))


def _versions(rows: list[dict]):
    head = html.Thead(html.Tr([html.Th(tr(*w)) for w in (("版本", "Version"), ("状态", "Status"), ("创建", "Created"),
                                                          ("发布", "Published"), ("说明", "Note"))]))
    body = []
    for v in rows:
        created = f"{_stamp(v['created_at'])} · {v['created_by'] or tr('规则文件', 'rules file')}"
        published = f"{_stamp(v['published_at'])} · {v['published_by'] or tr('规则文件', 'rules file')}" \
            if v["published_at"] else "–"
        based = tr(f"（复制自 v{v['based_on']}）", f" (copied from v{v['based_on']})") if v["based_on"] else \
            tr("由规则文件建立", "seeded from the rules file") if v["created_by"] is None else ""
        body.append(html.Tr([html.Td(f"v{v['number']} · {v['label']}"), html.Td(label(RULE_VERSION_STATUSES, v["status"])),
                             html.Td(created), html.Td(published), html.Td(v["note"] + based)]))
    return html.Table([head, html.Tbody(body)], className="table table-sm small", id="rules-versions-table")


def _rule_rows(rows: list[dict]) -> list[dict]:
    for r in rows:
        r["name"] = tr(r.pop("name_zh") or "", r.pop("name_en") or "")
        r["level"] = level_name(r["level"])  # the grid shows and picks words; _level_codes turns them back
    return rows


LEVEL_CODES = {word: code for code, words in LEVEL_WORDS.items() for word in (*words, code)}


def _level_codes(rows):
    """The rule grid's level words back to codes (anything else is left for the check to refuse)."""
    if not isinstance(rows, list):
        return rows
    return [dict(r, level=LEVEL_CODES.get(r["level"], r["level"])) if isinstance(r, dict) and isinstance(r.get("level"), str)
            else r for r in rows]


def _check_rows(rows: list[dict]) -> list[dict]:
    for r in rows:
        r["level_label"] = level_name(r.pop("level"))
    return rows


def register(app):
    url = app.server.config["DATABASE_URL"]

    def today():
        return clock.today(app.server.config.get("PORTAL_TODAY"))

    @app.callback(Output("rules-current", "children"), Output("rules-checks", "rowData"), Output("rules-rules", "rowData"),
                  Output("rules-note", "value"), Output("rules-draft-title", "children"), Output("rules-draft-id", "data"),
                  Output("rules-versions", "children"), Output("rules-republish-pick", "options"),
                  Output("rules-new-draft", "disabled"), Output("rules-discard", "disabled"), Output("rules-save", "disabled"),
                  Output("rules-impact-run", "disabled"), Output("rules-publish", "disabled"),
                  Input("rules-refresh", "data"))
    @checked
    def rules_load(_: StoreRef):
        current_scope("admin")
        with db() as s:
            info = rv.in_force_info(s)
            d = rv.draft(s)
            versions = rv.versions(s)
            if d is not None:
                rule_rows, check_rows = rv.editable_rows(d.body)
                title = tr(f"草稿 v{d.number} · {d.label}（复制自 v{d.based_on}，最后保存 {_stamp(d.updated_at)} UTC）",
                           f"Draft v{d.number} · {d.label} (copied from v{d.based_on}, last saved {_stamp(d.updated_at)} UTC)")
                note, draft_id = d.note or "", d.id
            else:
                rule_rows, check_rows, note, draft_id = [], [], "", None
                title = tr("没有草稿：先把生效版本复制为草稿，再修改。", "No draft: copy the version in force to a draft first.")
        retired = [{"label": f"v{v['number']} · {v['label']}", "value": v["number"]} for v in versions if v["status"] == "retired"]
        none = draft_id is None
        return (_current(info), _check_rows(check_rows), _rule_rows(rule_rows), note, title, draft_id, _versions(versions),
                retired, not none, none, none, none, none)

    @app.callback(Output("rules-refresh", "data", allow_duplicate=True), Output("rules-save-result", "children", allow_duplicate=True),
                  Input("rules-new-draft", "n_clicks"), State("rules-refresh", "data"), prevent_initial_call=True)
    @checked
    def rules_new_draft(n: Clicks, refresh: StoreRef):
        scope = current_scope("admin")
        if not n:
            return no_update, no_update
        with db() as s:
            d = rv.new_draft(s, scope.user_id)
            audit("rules_draft_created", f"rules:{d.label}", {"number": d.number, "based_on": d.based_on}, session=s)
        return next_count(refresh), None

    @app.callback(Output("rules-refresh", "data", allow_duplicate=True), Output("rules-save-result", "children", allow_duplicate=True),
                  Input("rules-discard", "n_clicks"), State("rules-draft-id", "data"), State("rules-refresh", "data"),
                  prevent_initial_call=True)
    @checked
    def rules_discard(n: Clicks, draft_id: Key, refresh: StoreRef):
        current_scope("admin")
        if not n:
            return no_update, no_update
        vid = int_id(draft_id)
        with db() as s:
            row = s.get(rv.RuleVersion, vid) if vid else None
            label_ = row.label if row is not None else None
            if not (vid and rv.discard_draft(s, vid)):
                return next_count(refresh), dbc.Alert(tr("这个草稿已不存在。", "This draft no longer exists."), color="warning")
            audit("rules_draft_discarded", f"rules:{label_}", {"id": vid}, session=s)
        return next_count(refresh), dbc.Alert(tr("草稿已放弃。", "The draft was discarded."), color="info")

    @app.callback(Output("rules-save-result", "children"), Output("rules-refresh", "data", allow_duplicate=True),
                  Input("rules-save", "n_clicks"), State("rules-draft-id", "data"), State("rules-rules", "rowData"),
                  State("rules-checks", "rowData"), State("rules-note", "value"), State("rules-refresh", "data"),
                  prevent_initial_call=True)
    @checked
    def rules_save(n: Clicks, draft_id: Key, rule_rows: Rows, check_rows: Rows, note: Text, refresh: StoreRef):
        scope = current_scope("admin")
        if not n:
            return no_update, no_update
        who = {"id": scope.user_id, "username": scope.username, "ip": client_ip()}
        with db() as s:
            saved, problems = _save(s, who, draft_id, rule_rows, check_rows, note)
        if saved is None:
            return _problems(tr, problems), no_update
        return dbc.Alert(tr("草稿已保存，校验通过。", "Draft saved; it passes the checks."), color="success",
                         id="rules-saved"), next_count(refresh)

    jobs.require("rules-impact", "admin")

    @app.callback(Output("rules-impact", "children"), Output("rules-save-result", "children", allow_duplicate=True),
                  Input("rules-impact-run", "n_clicks"), State("rules-draft-id", "data"), State("rules-rules", "rowData"),
                  State("rules-checks", "rowData"), State("rules-note", "value"),
                  background=True, manager=jobs.manager(app),
                  progress=[Output("rules-impact-progress", "value"), Output("rules-impact-progress", "max")],
                  running=[(Output("rules-impact-run", "disabled"), True, False),
                           (Output("rules-publish", "disabled"), True, False)],
                  prevent_initial_call=True)
    @checked
    @jobs.recorded("rules_impact", url, label=lambda _c, draft_id, *_: f"draft {draft_id}")
    def rules_impact(set_progress: Any, n: Clicks, draft_id: Key, rule_rows: Rows, check_rows: Rows, note: Text):
        who = jobs.caller()
        if not _who_ok(url, who, "rules-impact-run"):
            return dbc.Alert(jobs.words(who, "无权执行此操作。", "You may not do this."), color="warning"), no_update
        t = lambda zh, en: jobs.words(who, zh, en)  # noqa: E731 - the job's language, not a request's
        result = impact_job(url, today(), who, draft_id, rule_rows, check_rows, note,
                            lambda done, total: set_progress((done, max(total, 1))))
        if "problems" in result:
            return None, _problems(t, result["problems"])
        return impact_view(t, result["impact"], result["label"], result["names"]), \
            dbc.Alert(t("草稿已保存，校验通过。", "Draft saved; it passes the checks."), color="success", id="rules-saved")

    jobs.require("rules-publish-result", "admin")

    @app.callback(Output("rules-publish-result", "children"), Output("rules-refresh", "data", allow_duplicate=True),
                  Output("rules-impact", "children", allow_duplicate=True),
                  Input("rules-publish", "n_clicks"), State("rules-draft-id", "data"), State("rules-rules", "rowData"),
                  State("rules-checks", "rowData"), State("rules-note", "value"), State("rules-refresh", "data"),
                  background=True, manager=jobs.manager(app),
                  progress=[Output("rules-publish-progress", "value"), Output("rules-publish-progress", "max")],
                  running=[(Output("rules-publish", "disabled"), True, False),
                           (Output("rules-impact-run", "disabled"), True, False)],
                  prevent_initial_call=True)
    @checked
    @jobs.recorded("recompute", url, label=lambda _c, draft_id, *_: f"publish draft {draft_id}")
    def rules_publish(set_progress: Any, n: Clicks, draft_id: Key, rule_rows: Rows, check_rows: Rows, note: Text,
                      refresh: StoreRef):
        who = jobs.caller()
        if not _who_ok(url, who, "rules-publish"):
            return dbc.Alert(jobs.words(who, "无权执行此操作。", "You may not do this."), color="warning"), no_update, no_update
        t = lambda zh, en: jobs.words(who, zh, en)  # noqa: E731
        result = publish_job(url, today(), who, draft_id, rule_rows, check_rows, note,
                             lambda done, total: set_progress((done, max(total, 1))))
        if "problems" in result:
            jobs.current().outcome("未发布：草稿未通过校验", "Not published: the draft fails the checks")
            return _published_view(t, result), no_update, no_update
        jobs.current().outcome("已发布并重新计算", "Published and recomputed")
        return _published_view(t, result), next_count(refresh), None

    jobs.require("rules-republish-result", "admin")

    @app.callback(Output("rules-republish-result", "children"), Output("rules-refresh", "data", allow_duplicate=True),
                  Input("rules-republish", "n_clicks"), State("rules-republish-pick", "value"), State("rules-refresh", "data"),
                  background=True, manager=jobs.manager(app),
                  progress=[Output("rules-republish-progress", "value"), Output("rules-republish-progress", "max")],
                  running=[(Output("rules-republish", "disabled"), True, False)],
                  prevent_initial_call=True)
    @checked
    @jobs.recorded("recompute", url, label=lambda _n, number, _r: f"republish version {number}")
    def rules_republish(set_progress: Any, n: Clicks, number: Key, refresh: StoreRef):
        who = jobs.caller()
        if not _who_ok(url, who, "rules-republish"):
            return dbc.Alert(jobs.words(who, "无权执行此操作。", "You may not do this."), color="warning"), no_update
        t = lambda zh, en: jobs.words(who, zh, en)  # noqa: E731
        picked = int_id(number)
        if not n or picked is None:
            return dbc.Alert(t("请先选择一个已停用的版本。", "Pick a retired version first."), color="warning"), no_update
        result = republish_job(url, today(), who, picked, lambda done, total: set_progress((done, max(total, 1))))
        if "problems" in result:
            jobs.current().outcome("未发布", "Not published")
            return _published_view(t, result), no_update
        jobs.current().outcome("已重新发布并重新计算", "Re-published and recomputed")
        return _published_view(t, result), next_count(refresh)

