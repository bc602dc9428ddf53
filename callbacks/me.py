"""/me: the caller's own record; the officer id comes from current_user only."""
import dash_bootstrap_components as dbc
from dash import Input, Output, html

from models.officers import officer_summary
from models.schema import Officer
from portal.access import current_scope, db
from portal.i18n import tr
from portal.shell import level_badge

CODE_NAMES = {
    "sbp": ("收缩压", "Systolic BP"), "dbp": ("舒张压", "Diastolic BP"), "bmi": ("体重指数", "BMI"),
    "waist_cm": ("腰围", "Waist"), "weight_kg": ("体重", "Weight"), "body_fat_pct": ("体脂率", "Body fat"),
    "fpg": ("空腹血糖", "Fasting glucose"), "hba1c": ("糖化血红蛋白", "HbA1c"), "tc": ("总胆固醇", "Total cholesterol"),
    "tg": ("甘油三酯", "Triglycerides"), "hdl": ("高密度脂蛋白", "HDL-C"), "ldl": ("低密度脂蛋白", "LDL-C"),
    "ua": ("尿酸", "Uric acid"), "alt": ("谷丙转氨酶", "ALT"), "phq9": ("PHQ-9 抑郁量表", "PHQ-9"),
    "gad7": ("GAD-7 焦虑量表", "GAD-7"),
}


def register(app):
    @app.callback(Output("me-body", "children"), Input("me-title", "id"))
    def me_body(_):
        scope = current_scope("officer")
        with db() as s:
            officer = s.get(Officer, scope.officer_id)
            data = officer_summary(s, officer.badge)
        warning = data.get("warning") or {}
        reasons = [html.Li(f"{r.get('text') if tr('zh', 'en') == 'zh' else r.get('text_en', r.get('text'))}"
                           f" · {r.get('date', '')} · {r.get('source', '')}") for r in warning.get("reasons", [])]
        rows = [html.Tr([html.Td(tr(*name)), html.Td(f"{data['latest'][code]['value']:g} {data['latest'][code]['unit']}"),
                         html.Td(data["latest"][code]["date"]), html.Td(data["latest"][code]["source"] or "")])
                for code, name in CODE_NAMES.items() if code in data["latest"]]
        return html.Div([
            html.H5([data["name"], html.Small(f"  {tr('警号', 'Badge')} {data['badge']} · {data['unit']['name']} · "
                                             f"{data['age']}{tr('岁', ' y')}", className="text-muted")]),
            html.Div([tr("健康预警：", "Warning level: "), level_badge(warning.get("level"), warning.get("confirmed", True), id="me-level")],
                     className="mb-2"),
            html.Ul(reasons) if reasons else None,
            dbc.Table([html.Thead(html.Tr([html.Th(tr("指标", "Indicator")), html.Th(tr("最近值", "Latest")),
                                           html.Th(tr("日期", "Date")), html.Th(tr("来源", "Source"))])),
                       html.Tbody(rows)], size="sm", striped=True, responsive=True, id="me-latest"),
        ])
