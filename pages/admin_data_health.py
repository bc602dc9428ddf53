"""/admin/data-health: are the hospitals sending the yearly exams they owe, with which items, and are
hospitals and kiosks still sending (admins only). Numbers from models/data_health.py, through
callbacks/admin_data_health.py; kiosk detail on /admin/devices."""
import dash
from dash import dcc, html
from flask_login import current_user

from web.i18n import tr
from web.shell import no_access


def layout(**_):
    if current_user.role != "admin":
        return no_access()
    return html.Div([
        dcc.Store(id="dh-refresh", data=0),
        html.Div(tr("数据完整性", "Data health"), className="page-title", id="dh-title"),
        html.Div([tr("各医院是否按年度周期送来应检的体检、带了哪些项目，以及医院和健康小屋设备是否仍在上传。设备的逐台状态见",
                     "Whether each hospital sends the yearly exams it owes and which items they carry, and whether hospitals "
                     "and kiosks are still sending. Each device in detail: "),
                  dcc.Link(tr("设备页", "Devices"), href="/admin/devices", id="dh-devices-link"), tr("。", ".")],
                 className="page-sub"),
        dcc.Loading(html.Div(id="dh-body"), delay_show=300),
    ])


dash.register_page(__name__, path="/admin/data-health", title="警康 · 数据完整性", layout=layout)
