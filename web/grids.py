"""Server-paged grids: AG Grid's infinite row model, rows fetched page by page by a callback.

A new id makes a new grid, which drops the rows cached for old filters or another batch.
"""
import dash_ag_grid as dag

from models.warnings_queries import clamp_range
from web.i18n import tr

PAGE_MOST = 500  # rows one request may ask for


def first_request(requests) -> dict | None:
    """The grid's row request among the inputs of a callback listening to several grids (or None)."""
    return next((r for r in requests if isinstance(r, dict)), None) if isinstance(requests, list) else None


def row_range(request: dict, most: int = PAGE_MOST) -> tuple[int, int]:
    """The rows a grid asks for as integers, ``0 <= start <= end <= start + most``: a forged range is clamped."""
    return clamp_range(request.get("startRow"), request.get("endRow"), most)


def server_grid(grid_id: dict, column_defs: list, *, row_id: str, empty_text: str, height: str,
                col_defaults: dict | None = None):
    return dag.AgGrid(
        id=grid_id,
        columnDefs=column_defs,
        rowModelType="infinite",
        getRowId=f"params.data.{row_id}",
        defaultColDef={"sortable": False, "resizable": True, "suppressHeaderMenuButton": True,
                       **(col_defaults or {})},
        dashGridOptions={"rowBuffer": 0, "cacheBlockSize": 100, "maxBlocksInCache": 10,
                         "infiniteInitialRowCount": 1, "tooltipShowDelay": 300,
                         "localeText": {"loadingOoo": tr("加载中…", "Loading…"), "noRowsToShow": empty_text}},
        style={"height": height},
        className="ag-theme-alpine",
    )


def warnings_grid(column_defs, version: str):
    """The /warnings officer list; ``version`` changes with the filters."""
    return server_grid({"type": "warn-grid", "v": version}, column_defs, row_id="badge", height="520px",
                       empty_text=tr("没有符合条件的人员", "No matching officers"))


def quarantine_grid(batch_id: int):
    """The quarantine of one import batch (its own grid and row cache per batch)."""
    return server_grid(
        {"type": "ai-qgrid", "batch": batch_id},
        [
            {"field": "row", "headerName": tr("行号", "Row"), "maxWidth": 90},
            {"field": "field", "headerName": tr("字段", "Field"), "maxWidth": 200},
            {"field": "reason", "headerName": tr("原因", "Reason"), "flex": 3, "tooltipField": "reason",
             "wrapText": True, "autoHeight": True},
            {"field": "status_name", "headerName": tr("状态", "Status"), "maxWidth": 110},
            {"field": "raw", "headerName": tr("原始内容", "Raw content"), "flex": 2, "tooltipField": "raw"},
        ],
        row_id="id", height="420px", col_defaults={"minWidth": 80},
        empty_text=tr("此批次没有隔离行", "This batch has no quarantined rows"))
