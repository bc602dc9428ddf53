"""One check for everything a callback receives from the browser: types, ranges, sizes, ids.

A callback declares what each argument may hold with the types below and is decorated
with :func:`checked`; the values are validated (pydantic, strict: no "1" for 1, no bool for
a number, no Infinity or NaN) before the callback body runs. A value that does not fit is
refused with :class:`BadInput`, an :class:`~web.access.AccessDenied`, so the browser gets the
app's 403 answer and nothing runs: forged requests meet a refusal, never a 500.

The controls of the screens only ever send values that fit (a dropdown sends one of its
options, a number field a number or nothing); anything else was forged. What a user types
(a date, a note) is checked further by the models, which answer with a message on screen.
"""
from __future__ import annotations

import functools
import inspect
import re
import uuid
from typing import Annotated, Any, Callable, get_type_hints

from typing_extensions import TypedDict

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from web.access import AccessDenied

MAX_LIST = 500  # no control of the portal offers more choices than this at once
MAX_ROWS_WINDOW = 1000  # one page of a server grid


class BadInput(AccessDenied):
    """A callback argument outside what its control can send: refused like any forged request."""


def _text(max_length: int, pattern: str | None = None):
    return Annotated[str, StringConstraints(max_length=max_length, pattern=pattern)]


Clicks = Annotated[int, Field(ge=0, le=10**9)] | None  # n_clicks, n_intervals
Code = _text(64) | None  # a unit code, a badge, a dropdown's value, a rule id
Codes = Annotated[list[_text(64) | None], Field(max_length=MAX_LIST)] | None  # a multi-select
Flag = bool | None  # a switch
Path = _text(2000) | None  # a pathname
Search = _text(2000) | None  # a query string
Text = _text(4000) | None  # a note, a name, a free text field
LongText = _text(64_000) | None  # an editable JSON mapping
Key = Annotated[int, Field(ge=0, le=2**31 - 1)] | _text(64) | None  # a database id or code held by a control
Date = _text(10, r"^\d{4}-\d{2}-\d{2}$") | None  # a date picker or date field
Year = Annotated[int, Field(ge=1900, le=2200)] | _text(4, r"^\d{4}$") | None
Count = Annotated[int, Field(ge=-1, le=10**9)] | None  # a counter kept in a store
Token = _text(64, r"^[A-Za-z0-9_-]{8,64}$") | None  # a client token carried by a save


def Number(ge: float, le: float):  # noqa: N802 - reads like the other types where it is used
    """A number field: an int or a finite float inside [ge, le], or empty."""
    return Annotated[int | float, Field(ge=ge, le=le, allow_inf_nan=False)] | None


Scalar = _text(200) | Annotated[int, Field(ge=-(10**12), le=10**12)] | Annotated[float, Field(allow_inf_nan=False)] \
    | bool | None


class Point(TypedDict, total=False):
    """One point of a plotly clickData (the fields the portal reads; others pass unchecked)."""
    customdata: Scalar | Annotated[list[Scalar], Field(max_length=10)]
    curveNumber: Annotated[int, Field(ge=0, le=10_000)]
    pointNumber: Annotated[int, Field(ge=0, le=10**6)] | Annotated[list[int], Field(max_length=4)]
    label: Scalar
    id: Scalar


class _ClickData(TypedDict, total=False):
    points: Annotated[list[Point], Field(max_length=50)]


ClickData = _ClickData | None


class _Cell(TypedDict, total=False):
    """AG Grid's cellClicked."""
    rowId: _text(64) | None
    colId: _text(64) | None
    value: Scalar
    rowIndex: Annotated[int, Field(ge=0, le=10**7)] | None
    timestamp: Annotated[int | float, Field(ge=0, le=10**14, allow_inf_nan=False)] | None


Cell = _Cell | None
Cells = Annotated[list[_Cell | None], Field(max_length=10)] | None  # cellClicked of a pattern-matched grid


class _Sort(TypedDict):
    colId: _text(64)
    sort: _text(8)


class _RowsRequest(TypedDict, total=False):
    """AG Grid's getRowsRequest (infinite row model)."""
    startRow: Annotated[int, Field(ge=-(10**12), le=10**12)]  # integers; the models clamp the range
    endRow: Annotated[int, Field(ge=-(10**12), le=10**12)]
    sortModel: Annotated[list[_Sort], Field(max_length=20)]
    filterModel: Annotated[dict[_text(64), Any], Field(max_length=20)]


RowsRequest = _RowsRequest | None
RowsRequests = Annotated[list[_RowsRequest | None], Field(max_length=10)] | None  # pattern-matched grids
Rows = Annotated[list[dict[_text(64), Scalar | Annotated[list[Scalar], Field(max_length=50)]]],
                 Field(max_length=MAX_LIST)] | None  # selectedRows of a grid
ClicksList = Annotated[list[Clicks], Field(max_length=MAX_LIST)] | None  # n_clicks of pattern-matched buttons
StoreRef = Annotated[dict[_text(16), Scalar], Field(max_length=8)] | Scalar  # a small store: an id, a badge, {id, t}
RowsList = Annotated[list[Rows], Field(max_length=10)] | None  # selectedRows of a pattern-matched grid
Upload = _text(8_000_000) | None  # an uploaded file as dcc.Upload sends it (a base64 data URL)
ImportFile = _text(31_000_000) | None  # a file for /admin/imports: its own limit (PORTAL_UPLOAD_MAX_MB) says no clearly


def next_count(counter) -> int:
    """The next value of a refresh counter held in a browser store (anything not a count starts again)."""
    return counter + 1 if isinstance(counter, int) and not isinstance(counter, bool) and 0 <= counter < 10**9 else 1


_STRICT = ConfigDict(strict=True)


def checked(fn: Callable) -> Callable:
    """Validate every argument of a callback against its annotation; BadInput when one does not fit.

    Annotations are required on every parameter (``Any`` says "the body checks this itself"),
    so a callback cannot silently skip the check."""
    hints = get_type_hints(fn, include_extras=True)
    params = list(inspect.signature(fn).parameters.values())
    missing = [p.name for p in params if p.name not in hints]
    if missing:
        raise TypeError(f"{fn.__qualname__}: annotate {missing} with a type from web.inputs")
    fixed = [(p.name, TypeAdapter(hints[p.name], config=_STRICT)) for p in params
             if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    rest = next(((p.name, TypeAdapter(hints[p.name], config=_STRICT)) for p in params if p.kind == p.VAR_POSITIONAL),
                None)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        clean = []
        for i, value in enumerate(args):
            name, adapter = fixed[i] if i < len(fixed) else (rest or (None, None))
            if adapter is None:
                raise BadInput(f"{fn.__name__}: unexpected argument")
            clean.append(_validate(fn.__name__, name, adapter, value))
        return fn(*clean, **kwargs)

    wrapper.__input_checks__ = True
    return wrapper


def _validate(callback: str, name: str, adapter: TypeAdapter, value):
    try:
        adapter.validate_python(value)
    except (ValidationError, ValueError, TypeError, RecursionError) as exc:
        reason = exc.errors()[0]["type"] if isinstance(exc, ValidationError) else type(exc).__name__
        raise BadInput(f"bad input: {callback}.{name} ({reason})") from None
    return value  # the value as sent: the check narrows what may arrive, it does not reshape it


def is_checked(fn: Callable) -> bool:
    """True when a registered callback (or the Dash wrapper around it) went through :func:`checked`."""
    return bool(getattr(fn, "__input_checks__", False))


def guard_pages_router(app) -> None:
    """Dash's own page router reads the address bar (pathname, search): check them like any input.

    Called on each request (cheap once done): Dash registers the router on its first request."""
    if getattr(app, "_router_guarded", False):
        return
    for key, cb in app.callback_map.items():
        if "_pages_content.children" in key and not is_checked(cb["callback"]):
            inner = cb["callback"]

            @functools.wraps(inner)
            def router(pathname, search, *args, _inner=inner, **kwargs):
                for name, value in (("pathname", pathname), ("search", search)):
                    if value is not None and (not isinstance(value, str) or len(value) > 2000):
                        raise BadInput(f"bad input: pages router.{name}")
                if not isinstance(pathname, str) or not pathname.startswith("/"):
                    raise BadInput("bad input: pages router.pathname")
                return _inner(pathname, search, *args, **kwargs)

            router.__input_checks__ = True
            cb["callback"] = router
            app._router_guarded = True


INT_ID = re.compile(r"^[1-9][0-9]{0,9}$")


def int_id(text) -> int | None:
    """A positive database id from text (a path segment, a store), or None when it is not one
    (too long, not digits, beyond a 32-bit integer)."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int):
        return text if 0 < text < 2**31 else None
    if isinstance(text, str) and INT_ID.match(text) and int(text) < 2**31:
        return int(text)
    return None


def valid_token(value) -> str | None:
    """A client token (a uuid the browser made when a form opened), or None."""
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{8,64}", value):
        return value
    return None


def new_token() -> str:
    return uuid.uuid4().hex
