"""/workbench: the health manager's day: new red officers without a follow-up, my open
follow-ups (overdue first), recently closed ones with the next assessment, recent changes.

``followup_modals()`` (the new-follow-up form and the follow-up detail) is also placed
on /warnings; their callbacks live in callbacks/workbench.py.
"""
import dash
import dash_bootstrap_components as dbc
from dash import dcc, html
from flask_login import current_user

from web.i18n import tr
from web.shell import no_access

KIND_NAMES = {"phone": ("电话随访", "Phone call"), "recheck": ("复查", "Re-check"), "referral": ("转诊", "Referral"),
              "counselling": ("心理疏导", "Counselling"), "lifestyle": ("生活方式干预", "Lifestyle plan")}
OUTCOME_NAMES = {"improved": ("好转", "Improved"), "unchanged": ("无变化", "Unchanged"),
                 "referred": ("已转诊", "Referred"), "declined": ("本人拒绝", "Declined")}
STATUS_NAMES = {"open": ("待处理", "Open"), "in_progress": ("处理中", "In progress"), "closed": ("已结案", "Closed"),
                "overdue": ("已超期", "Overdue"), "none": ("无跟进", "None")}


def followup_modals(new_badge: str | None = None):
    """The new-follow-up form and the follow-up detail, with the stores that open them
    (also on leaders' /warnings, where the callbacks refuse every follow-up action)."""
    new = dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(tr("新建跟进", "New follow-up"))),
        dbc.ModalBody([
            html.Div(id="fu-new-officer", className="mb-2 fw-semibold"),
            html.Div(id="fu-new-reason", className="small text-muted mb-3"),
            dbc.Label(tr("跟进方式", "Type"), html_for="fu-new-kind"),
            dbc.Select(id="fu-new-kind", value="phone",
                       options=[{"label": tr(*v), "value": k} for k, v in KIND_NAMES.items()]),
            dbc.Label(tr("负责人", "Assignee"), html_for="fu-new-assignee", className="mt-2"),
            dbc.Select(id="fu-new-assignee"),
            dbc.Label(tr("完成期限", "Due"), html_for="fu-new-due", className="mt-2"),
            dbc.Input(id="fu-new-due", type="date"),
            dbc.Label(tr("备注", "Note"), html_for="fu-new-note", className="mt-2"),
            dbc.Textarea(id="fu-new-note", rows=3, maxLength=2000,
                         placeholder=tr("例如：电话告知复查，预约下周三体检中心", "e.g. called, re-check booked")),
            html.Div(id="fu-new-msg", className="text-danger small mt-2"),
        ]),
        dbc.ModalFooter([
            dbc.Button(tr("取消", "Cancel"), id="fu-new-cancel", color="secondary", outline=True),
            dbc.Button(tr("保存", "Save"), id="fu-new-save", color="primary"),
        ]),
    ], id="fu-new-modal", is_open=False)
    detail = dbc.Modal([
        dbc.ModalHeader(dbc.ModalTitle(tr("跟进详情", "Follow-up"))),
        dbc.ModalBody([
            html.Div(id="fu-d-body"),
            html.Div([
                dbc.Label(tr("添加记录", "Add a note"), html_for="fu-d-note"),
                dbc.Textarea(id="fu-d-note", rows=2, maxLength=2000),
                dbc.Row([
                    dbc.Col(dbc.Button(tr("添加记录", "Add note"), id="fu-d-addnote", color="secondary",
                                       outline=True, size="sm"), width="auto"),
                    dbc.Col(dbc.Button(tr("开始处理", "Start"), id="fu-d-start", color="info", outline=True,
                                       size="sm"), width="auto"),
                ], className="g-2 mt-1"),
                dbc.Row([
                    dbc.Col(dbc.Select(id="fu-d-assignee", size="sm"), md=7),
                    dbc.Col(dbc.Button(tr("改派", "Reassign"), id="fu-d-assign", color="secondary", outline=True,
                                       size="sm"), width="auto"),
                ], className="g-2 mt-2 align-items-center"),
                dbc.Row([
                    dbc.Col(dbc.Select(id="fu-d-outcome", placeholder=tr("选择结案结果", "Choose an outcome"),
                                       options=[{"label": tr(*v), "value": k} for k, v in OUTCOME_NAMES.items()],
                                       size="sm"), md=7),
                    dbc.Col(dbc.Button(tr("结案", "Close"), id="fu-d-close", color="success", size="sm"), width="auto"),
                ], className="g-2 mt-2 align-items-center"),
            ], id="fu-d-actions", className="mt-3"),
            html.Div(id="fu-d-msg", className="small mt-2"),
        ]),
    ], id="fu-detail-modal", is_open=False, size="lg", scrollable=True)
    stores = [dcc.Store(id="fu-new-badge", data=new_badge), dcc.Store(id="fu-detail-id"),
              dcc.Store(id="fu-changed", data=0)]
    return html.Div(stores + [new, detail, html.Div(id="fu-toast-wrap")])


def layout(**_):
    if current_user.role not in ("manager", "admin"):
        return no_access(tr("工作台供健康管理师使用。", "The workbench is for health managers."))
    return html.Div([
        dcc.Location(id="wb-url", refresh=False),
        html.Div(tr("健康管理工作台", "Health manager's workbench"), className="page-title", id="wb-title"),
        html.Div(tr("新出现的红色预警、我的跟进任务和近期变化。", "New red warnings, my follow-ups and recent changes."),
                 className="page-sub"),
        dcc.Loading(html.Div(id="wb-body"), delay_show=300),
        followup_modals(),
    ])


dash.register_page(__name__, path="/workbench", title="警康 · 工作台", layout=layout)
