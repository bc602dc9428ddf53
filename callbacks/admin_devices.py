"""/admin/devices: admins only. Every input is treated as forged: the reading id and the badge
are looked up again on the server, and only a reading still waiting can be assigned."""
from __future__ import annotations

import datetime as dt
import re

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from ingest.gateway.forwarder import AssignError, assign_frame
from models.devices import admin_devices_data, to_local
from models.vocab import DEVICE_STATES
from models.schema import utcnow
from web.access import audit, current_scope, db
from web.i18n import label, language, tr
from web.shell import kpi_card
from web.inputs import Clicks, Key, StoreRef, checked, next_count

STATE_COLOURS = {"ok": "#2ca02c", "amber": "#f0ad4e", "red": "#d62728"}
DRIVERS = {"tanita": ("人体成分分析仪", "Body composition"), "nibp": ("血压计", "Blood pressure"),
           "hl7": ("一体机 (HL7)", "Health-check machine (HL7)"), "card_reader": ("读卡器", "Card reader")}
CODES = {"weight_kg": ("体重", "Weight", "kg"), "height_cm": ("身高", "Height", "cm"), "bmi": ("BMI", "BMI", ""),
         "body_fat_pct": ("体脂率", "Body fat", "%"), "visceral_fat": ("内脏脂肪", "Visceral fat", ""),
         "waist_cm": ("腰围", "Waist", "cm"), "sbp": ("收缩压", "Systolic", "mmHg"),
         "dbp": ("舒张压", "Diastolic", "mmHg"), "pulse": ("脉搏", "Pulse", "/min"), "spo2": ("血氧", "SpO₂", "%"),
         "fpg": ("空腹血糖", "Fasting glucose", "mmol/L")}
# gateway reasons (English, stored centrally) -> Chinese, by pattern
REASONS = [
    (r"^checksum mismatch: frame says (\w+), bytes sum to (\w+)", "校验和错误（帧内 {0}，计算值 {1}）"),
    (r"^unknown badge (\S+)", "未知警号 {0}"),
    (r"^unknown ID card (\S+)", "身份证号 {0} 未匹配到民警"),
    (r"^card: unknown badge (\S+)", "刷卡：未知警号 {0}"),
    (r"^card: unknown ID card (\S+)", "刷卡：身份证号 {0} 未匹配到民警"),
    (r"^card: ID number fails the GB 11643 check", "刷卡：身份证号校验位错误"),
    (r"^card session: unknown badge (\S+)", "刷卡会话：未知警号 {0}"),
    (r"^card session: unknown ID card (\S+)", "刷卡会话：身份证号 {0} 未匹配到民警"),
    (r"^card session: last swipe was rejected", "刷卡会话：最近一次刷卡被拒收"),
    (r"^no ID on the reading and no card swipe at the station in the last (\d+) minutes",
     "读数无警号，且本站 {0} 分钟内无人刷卡"),
    (r"^ID number fails the GB 11643 check", "身份证号校验位错误"),
    (r"^incomplete frame: port lost", "不完整帧：串口断开"),
    (r"^incomplete frame: no end marker", "不完整帧：超时未收到帧尾"),
    (r"^truncated", "帧被截断（下一帧已开始）"),
    (r"^frame longer than (\d+) bytes", "帧过长（超过 {0} 字节）"),
    (r"^device error code M(\w+)", "设备错误码 M{0}，无读数"),
    (r"^all-zero pressures", "血压值全为零，无读数"),
    (r"^implausible (\w+) ([\d.]+)", "数值不合理：{0} = {1}"),
    (r"^no weight \(Wk\)", "帧内无体重 (Wk)"),
    (r"^non-metric units", "非公制单位：请将设备设为 kg/cm"),
    (r"^unsupported message type (.+?):", "不支持的消息类型 {0}"),
    (r"^no OBX with a known code", "消息中没有可识别的检测项目 (OBX)"),
    (r"^parser error", "解析程序错误"),
]


def reason_text(reason: str | None) -> str:
    if not reason:
        return ""
    if language() == "en":
        return reason
    for pattern, zh in REASONS:
        m = re.match(pattern, reason)
        if m:
            return zh.format(*m.groups())
    return reason


def _when(utc: dt.datetime | None) -> str:
    return to_local(utc).strftime("%m-%d %H:%M:%S") if utc else "–"


def _ago(minutes: float | None) -> str:
    if minutes is None:
        return tr("从未收到", "never")
    if minutes < 1:
        return tr("刚刚", "just now")
    if minutes < 60:
        return tr(f"{minutes:.0f} 分钟前", f"{minutes:.0f} min ago")
    if minutes < 48 * 60:
        return tr(f"{minutes / 60:.0f} 小时前", f"{minutes / 60:.0f} h ago")
    return tr(f"{minutes / 1440:.0f} 天前", f"{minutes / 1440:.0f} days ago")


def _duration(minutes: int) -> str:
    if minutes % 1440 == 0:
        return tr(f"{minutes // 1440} 天", f"{minutes // 1440} d")
    if minutes % 60 == 0:
        return tr(f"{minutes // 60} 小时", f"{minutes // 60} h")
    return tr(f"{minutes} 分钟", f"{minutes} min")


def port_error_text(error: str | None, port: str | None) -> str:
    """The reader's last port error, in words an administrator acts on."""
    if not error:
        return ""
    if language() == "en":
        return error
    if "No such file or directory" in error:
        return f"找不到端口 {port or ''}（设备未接或线缆松脱）"
    if "returned no data" in error or "Input/output error" in error:
        return "设备已断开（线缆拔出或设备断电）"
    if "Permission denied" in error:
        return f"无权打开端口 {port or ''}（检查网关账户的串口权限）"
    if error == "gateway stopped":
        return "网关已停止"
    return error


def _values(values: dict) -> str:
    parts = []
    ordered = [c for c in CODES if c in values] + sorted(c for c in values if c not in CODES)
    for code in ordered:
        value = values[code]
        zh, en, unit = CODES.get(code, (code, code, ""))
        parts.append(f"{tr(zh, en)} {value:g}{(' ' + unit) if unit else ''}")
    return " · ".join(parts)


def _device_card(d: dict):
    colour = STATE_COLOURS[d["state"]]
    age, stale = d["age_minutes"], d["stale_minutes"]
    age_colour = None if age is not None and age <= stale else STATE_COLOURS["red" if age is None or age > 3 * stale
                                                                               else "amber"]
    state_label = label(DEVICE_STATES, d["state"])
    port = (html.Span(tr("串口已连接", "port connected"), className="text-success") if d["connected"] else
            html.Span(tr("串口断开", "port down") + (tr("：", ": ") + port_error_text(d["port_error"], d["port"])
                                                        if d["port_error"] else ""), className="text-danger"))
    name = tr(d["station_name"] or "", d["station_name_en"] or d["station_name"] or "")
    station = f"{name}{tr('（', ' (')}{d['station']}{tr('）', ')')}" if name and d["station"] else (d["station"] or "–")
    gateway_note = tr(f"网关 {d['gateway']} · {_ago(d['gateway_silent_minutes'])}上报",
                      f"gateway {d['gateway']} · reported {_ago(d['gateway_silent_minutes'])}")
    body = [
        html.Div([html.Span(d["name"], className="fw-semibold me-2 device-name"),
                  html.Span(state_label, className="badge device-state", style={"background": colour})],
                 className="d-flex align-items-center justify-content-between"),
        html.Div([tr(*DRIVERS.get(d["driver"], (d["driver"], d["driver"]))), " · ", station],
                 className="text-muted small mb-2"),
        html.Div([html.Span(tr("最近一帧：", "Last frame: ")),
                  html.Span(_ago(age), className="fw-semibold", style={"color": age_colour} if age_colour else None),
                  html.Span(f"  {_when(d['last_frame_at'])}", className="text-muted small")], className="small"),
        html.Div(tr(f"今日：正常 {d['ok_today']} · 拒收 {d['rejected_today']} · 待分配 {d['unassigned_today']}",
                    f"Today: OK {d['ok_today']} · rejected {d['rejected_today']} · unassigned {d['unassigned_today']}"),
                 className="small"),
        html.Div([tr(f"日志积压：{d['backlog']}", f"Journal backlog: {d['backlog']}"),
                  html.Span(f"  ({gateway_note})", className="text-muted")], className="small"),
        html.Div(port, className="small text-truncate", title=d["port_error"] or ""),
        html.Div(tr(f"超过 {_duration(stale)}无数据即提示", f"stale after {_duration(stale)} without a frame"),
                 className="text-muted small"),
    ]
    return dbc.Col(dbc.Card(dbc.CardBody(body), className=f"h-100 device-card device-{d['state']}",
                            style={"borderLeft": f"5px solid {colour}"}, id=f"dev-card-{d['id']}"),
                   xs=12, md=6, xl=4)


def _table(header: list[str], rows: list[list], empty: str, id: str, wide_only: tuple[int, ...] = ()):
    """A small table; columns in ``wide_only`` are hidden on phones."""
    if not rows:
        return html.Div(empty, className="text-muted small", id=id)
    cls = ["d-none d-md-table-cell" if i in wide_only else None for i in range(len(header))]
    return dbc.Table([html.Thead(html.Tr([html.Th(h, className=cls[i]) for i, h in enumerate(header)])),
                      html.Tbody([html.Tr([html.Td(c, className=cls[i]) for i, c in enumerate(r)]) for r in rows])],
                     size="sm", striped=True, hover=True, responsive=True, className="bg-white small", id=id)


def _summary(data: dict):
    devices = data["devices"]
    attention = sum(1 for d in devices if d["state"] != "ok")
    backlog = sum(d["backlog"] for d in devices)
    cards = [
        kpi_card(tr("设备", "Devices"), f"{len(devices)}", tr("各网关上报", "as reported by the gateways")),
        kpi_card(tr("需关注", "Need attention"), f"{attention}", tr("超时或串口断开", "stale or port down"),
                 colour=STATE_COLOURS["red"] if attention else STATE_COLOURS["ok"]),
        kpi_card(tr("待分配读数", "Unassigned readings"), f"{data['unassigned_total']}",
                 tr("等待指定民警", "waiting for an officer"),
                 colour=STATE_COLOURS["amber"] if data["unassigned_total"] else None),
        kpi_card(tr("日志积压", "Journal backlog"), f"{backlog}", tr("尚未转发到中心库的帧", "frames not yet forwarded"),
                 colour=STATE_COLOURS["amber"] if backlog else None),
    ]
    return [dbc.Col(c, xs=6, lg=3) for c in cards]


def _queue_rows(queue: list[dict]):
    return [[_when(q["received_at"]), q["device"], q["station"] or "–", _values(q["values"]),
             q["ident"] or "–", reason_text(q["reason"])] for q in queue]


def _options(queue: list[dict]):
    return [{"label": f"{_when(q['received_at'])} · {q['device']} · {_values(q['values'])}", "value": q["id"]}
            for q in queue]



def register(app):
    @app.callback(Output("dev-summary", "children"), Output("dev-cards", "children"), Output("dev-queue", "children"),
                  Output("dev-queue-count", "children"), Output("dev-assign-frame", "options"),
                  Output("dev-rejected", "children"), Output("dev-updated", "children"),
                  Input("dev-interval", "n_intervals"), Input("dev-refresh", "data"))
    @checked
    def dev_refresh(_n: Clicks, _refresh: StoreRef):
        current_scope("admin")
        with db() as s:
            data = admin_devices_data(s, utcnow())
        order = {"red": 0, "amber": 1, "ok": 2}  # problems first
        devices = sorted(data["devices"], key=lambda d: (order[d["state"]], d["station"] or "", d["name"]))
        cards = [_device_card(d) for d in devices] or [dbc.Col(html.Div(
            tr("还没有网关上报设备。在派出所主机上运行 portal gateway --config 网关配置.toml。",
               "No gateway has reported a device yet. Run portal gateway --config gateway.toml on a station host."),
            className="text-muted"))]
        queue = _table([tr("时间", "Time"), tr("设备", "Device"), tr("站点", "Station"), tr("读数", "Reading"),
                        tr("设备上输入的ID", "ID typed"), tr("原因", "Reason")], _queue_rows(data["queue"]),
                       tr("没有待分配的读数。", "No readings are waiting."), "dev-queue-table", wide_only=(2, 4))
        rejected = _table(
            [tr("时间", "Time"), tr("设备", "Device"), tr("原因", "Reason"), tr("原始数据（节选）", "Raw bytes (excerpt)")],
            [[_when(r["received_at"]), r["device"], html.Span(reason_text(r["reason"]), title=r["reason"] or ""),
              html.Code(r["raw"], className="raw-excerpt", style={"wordBreak": "break-all"})] for r in data["rejected"]],
            tr("最近没有被拒收的帧。", "No frames were rejected recently."), "dev-rejected-table", wide_only=(3,))
        total = data["unassigned_total"]
        count = html.Span(f"{total}", className="badge bg-warning text-dark" if total else "badge bg-secondary")
        updated = tr(f"更新于 {dt.datetime.now():%H:%M:%S}，每 15 秒自动刷新", f"Updated {dt.datetime.now():%H:%M:%S}; "
                     "refreshes every 15 s")
        return _summary(data), cards, queue, count, _options(data["queue"]), rejected, updated

    @app.callback(Output("dev-assign-result", "children"), Output("dev-refresh", "data"),
                  Output("dev-assign-badge", "value"),
                  Input("dev-assign", "n_clicks"), State("dev-assign-frame", "value"),
                  State("dev-assign-badge", "value"), State("dev-refresh", "data"), prevent_initial_call=True)
    @checked
    def dev_assign(_clicks: Clicks, frame_id: Key, badge: Key, refresh: StoreRef):
        current_scope("admin")
        if frame_id is None or isinstance(frame_id, (list, dict, bool)):
            return dbc.Alert(tr("请先选择一条待分配读数。", "Pick a reading first."), color="warning"), no_update, no_update
        badge = str(badge or "").strip()[:20] if isinstance(badge, (str, int)) else ""
        if not badge:
            return dbc.Alert(tr("请填写警号。", "Enter a badge."), color="warning"), no_update, no_update
        try:
            with db() as s:
                done = assign_frame(s, frame_id, badge)
                audit("assign_reading", f"raw_frame:{done['frame_id']}",
                      {"badge": done["badge"], "device": done["device"], "codes": done["codes"]}, session=s)
        except AssignError as exc:
            messages = {"unknown badge": tr("没有这个警号的民警。", "No officer has this badge."),
                        "badge required": tr("请填写警号。", "Enter a badge.")}
            text = messages.get(str(exc), tr("这条读数已不在待分配队列中（可能已被分配）。",
                                             "This reading is no longer waiting (it may have been assigned)."))
            return dbc.Alert(text, color="danger"), next_count(refresh), no_update
        msg = tr(f"已将读数分配给 {done['name']}（警号 {done['badge']}），写入 {done['observations']} 项数据，健康状态已重新评估。",
                 f"Reading assigned to {done['name']} (badge {done['badge']}): {done['observations']} values stored, "
                 "status recomputed.")
        return dbc.Alert(msg, color="success", id="dev-assign-ok"), next_count(refresh), ""
