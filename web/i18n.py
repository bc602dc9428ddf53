"""Language choice: Simplified Chinese by default, English on request.

Text is written where it is used as ``tr("中文", "English")`` so each page keeps
its own words; the choice comes from the logged-in user (persisted per user) or,
before login, from the session.
"""
from __future__ import annotations

from flask import g, has_request_context, session
from flask_login import current_user

from models.vocab import LEVEL_WORDS, ROLE_WORDS, Words, words

LANGUAGES = ("zh", "en")


def language() -> str:
    if not has_request_context():
        return "zh"
    # Flask-Login keeps the request's user on g once loaded: read it there (every tr() asks, hundreds
    # of times per answer; the proxy costs more than the rest of tr)
    user = g.get("_login_user")
    if user is None:
        user = current_user
    if getattr(user, "is_authenticated", False):
        return user.language
    lang = session.get("lang", "zh")
    return lang if lang in LANGUAGES else "zh"


def tr(zh: str, en: str) -> str:
    return en if language() == "en" else zh


def plotly_locale() -> str:
    return "en" if language() == "en" else "zh-CN"


LEVEL_COLOURS = {"red": "#d62728", "orange": "#ff7f0e", "yellow": "#f2c500", "green": "#2ca02c", "none": "#b0b0b0"}


def label(table: dict[str, Words], code: str | None) -> str:
    """A code's word in the user's language, from one of the tables in ``models.vocab``."""
    return tr(*words(table, code))


def role_name(role: str) -> str:
    return label(ROLE_WORDS, role)


def level_name(level: str) -> str:
    return label(LEVEL_WORDS, level)


# --- the words inside third-party controls (issue 21: "3 selected", "No Rows To Show" in the Chinese UI) ---
def dropdown_labels() -> dict:
    """The texts a Dash 4 dropdown draws itself (multi-select count, search, select all)."""
    return {"select_all": tr("全选", "Select all"), "deselect_all": tr("全不选", "Deselect all"),
            "selected_count": tr("已选 {num_selected} 项", "{num_selected} selected"),
            "search": tr("搜索", "Search"), "clear_search": tr("清除搜索", "Clear search"),
            "clear_selection": tr("清除所选", "Clear selection"), "no_options_found": tr("没有匹配的选项", "No options found")}


def grid_locale() -> dict:
    """AG Grid's own texts (empty grid, loading, paging, selection, column menu) in the user's language."""
    return {"noRowsToShow": tr("没有数据", "No rows"), "loadingOoo": tr("加载中…", "Loading…"),
            "loadingError": tr("加载出错", "Could not load"), "page": tr("第", "Page"), "of": tr("/", "of"),
            "to": tr("–", "to"), "more": tr("更多", "more"), "next": tr("下一页", "Next"),
            "previous": tr("上一页", "Previous"), "first": tr("首页", "First"), "last": tr("末页", "Last"),
            "pageSizeSelectorLabel": tr("每页：", "Page size:"), "selectAll": tr("全选", "Select all"),
            "searchOoo": tr("搜索…", "Search…"), "blanks": tr("（空白）", "(Blanks)"),
            "ariaChecked": tr("已选", "checked"), "ariaUnchecked": tr("未选", "unchecked"),
            "rowCount": tr("行数", "Row count"), "totalRows": tr("总行数", "Total rows"),
            "selectedRows": tr("已选", "Selected"), "filteredRows": tr("已筛选", "Filtered"),
            "pinColumn": tr("固定列", "Pin column"), "autosizeThisColumn": tr("自动调整此列宽度", "Autosize this column"),
            "resetColumns": tr("重置列", "Reset columns"), "sortAscending": tr("升序", "Sort ascending"),
            "sortDescending": tr("降序", "Sort descending"), "sortUnSort": tr("取消排序", "Clear sort"),
            "copy": tr("复制", "Copy"), "export": tr("导出", "Export")}


def _localise_controls() -> None:
    """Every dcc.Dropdown and AG Grid built while answering a request gets the texts above (a page's
    own ``labels`` or ``localeText`` entries win), so no page can forget them."""
    import functools

    import dash_ag_grid as dag
    from dash import dcc

    def wrap(cls, fill):
        original = cls.__init__
        if getattr(original, "_localised", False):
            return

        @functools.wraps(original)
        def init(self, *args, **kwargs):
            if has_request_context():
                fill(kwargs)
            original(self, *args, **kwargs)

        init._localised = True
        cls.__init__ = init

    def dropdown(kwargs):
        kwargs["labels"] = {**dropdown_labels(), **(kwargs.get("labels") or {})}

    def grid(kwargs):
        options = dict(kwargs.get("dashGridOptions") or {})
        options["localeText"] = {**grid_locale(), **(options.get("localeText") or {})}
        kwargs["dashGridOptions"] = options

    wrap(dcc.Dropdown, dropdown)
    wrap(dag.AgGrid, grid)


_localise_controls()
