"""The follow-up forms several screens place: the new-follow-up form and the follow-up detail.

They stand on the workbench and on /warnings (where the callbacks refuse every follow-up
action to leaders); their callbacks live in callbacks/workbench.py.
"""
import dash_bootstrap_components as dbc
from dash import dcc, html

from models.vocab import FOLLOWUP_KINDS, FOLLOWUP_OUTCOMES
from web.i18n import tr


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
                       options=[{"label": tr(*v), "value": k} for k, v in FOLLOWUP_KINDS.items()]),
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
                                       options=[{"label": tr(*v), "value": k} for k, v in FOLLOWUP_OUTCOMES.items()],
                                       size="sm"), md=7),
                    dbc.Col(dbc.Button(tr("结案", "Close"), id="fu-d-close", color="success", size="sm"), width="auto"),
                ], className="g-2 mt-2 align-items-center"),
            ], id="fu-d-actions", className="mt-3"),
            html.Div(id="fu-d-msg", className="small mt-2"),
        ]),
    ], id="fu-detail-modal", is_open=False, size="lg", scrollable=True)
    # fu-new-token and fu-d-token: the client token the next save carries (issued when the form opens)
    stores = [dcc.Store(id="fu-new-badge", data=new_badge), dcc.Store(id="fu-detail-id"),
              dcc.Store(id="fu-changed", data=0), dcc.Store(id="fu-new-token"), dcc.Store(id="fu-d-token")]
    return html.Div(stores + [new, detail, html.Div(id="fu-toast-wrap")])
