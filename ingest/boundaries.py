"""Unit boundaries: load a GeoJSON FeatureCollection keyed by unit code into
``unit.geometry``, and generate plausible polygons for the demo city.

The map on /warnings draws these polygons itself (no tiles, no base map), so a
force that has no boundary file still gets the treemap, and one that has one
gets a map that works on a closed network.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import Voronoi
from shapely.geometry import MultiPoint, Polygon, mapping, shape
from shapely.ops import unary_union
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.db import bump_data_version
from models.schema import ImportBatch, Unit, utcnow

DECIMALS = 5  # about one metre


def _round(coords: Any) -> Any:
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), DECIMALS) for c in coords[:2]]
    return [_round(c) for c in coords]


def _geojson(geom) -> dict:
    g = mapping(geom)
    return {"type": g["type"], "coordinates": _round(g["coordinates"])}


def _feature_code(feature: dict, key: str) -> str | None:
    props = feature.get("properties") or {}
    code = props.get(key, feature.get("id"))
    return str(code) if code not in (None, "") else None


def load_boundaries(session: Session, source: str | Path | dict, key: str = "code",
                    created_by: str | None = None) -> dict:
    """Load polygons keyed by ``properties[key]`` (or the feature id) into the units.

    Returns {"loaded": [codes], "units_not_matched": [codes of units with no feature],
    "features_not_used": [{"index", "code", "reason"}], "batch_id"}."""
    if isinstance(source, dict):
        data, filename = source, None
    else:
        filename = str(source)
        with open(source, encoding="utf-8") as fh:
            data = json.load(fh)
    if data.get("type") != "FeatureCollection" or not isinstance(data.get("features"), list):
        raise ValueError("not a GeoJSON FeatureCollection")
    units = {u.code: u for u in session.scalars(select(Unit))}
    loaded, unused, seen = [], [], set()
    for i, feature in enumerate(data["features"]):
        code = _feature_code(feature if isinstance(feature, dict) else {}, key)
        reason = None
        if code is None:
            reason = f"no '{key}' property"
        elif code not in units:
            reason = "no unit with this code"
        elif code in seen:
            reason = "duplicate feature for this unit"
        else:
            reason, geom = _check_geometry(feature.get("geometry"))
        if reason:
            unused.append({"index": i, "code": code, "reason": reason})
            continue
        seen.add(code)
        units[code].geometry = _geojson(geom)
        loaded.append(code)
    not_matched = sorted(code for code in units if code not in seen)
    summary = {"loaded": sorted(loaded), "units_not_matched": not_matched, "features_not_used": unused}
    batch = ImportBatch(kind="boundaries", filename=filename, created_by=created_by, status="loaded",
                        rows_read=len(data["features"]), inserted=len(loaded), quarantined=len(unused),
                        finished_at=utcnow(), summary={k: v for k, v in summary.items() if k != "loaded"})
    session.add(batch)
    bump_data_version(session)
    session.flush()
    return {**summary, "batch_id": batch.id}


def _check_geometry(geometry: Any):
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return "geometry is not a Polygon or MultiPolygon", None
    try:
        geom = shape(geometry)
    except Exception as exc:  # malformed coordinates
        return f"bad geometry: {exc}", None
    if geom.is_empty:
        return "empty geometry", None
    if not geom.is_valid:
        geom = geom.buffer(0)
        if geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            return "invalid geometry", None
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return "coordinates are not longitude/latitude", None
    return None, geom


# --- demo polygons ------------------------------------------------------------------------------
def demo_boundaries(session: Session, margin: float = 0.18) -> dict:
    """Polygons for the demo force from its units' points: a Voronoi partition of the
    finest units that have a point, clipped to a city outline (the points' hull, widened),
    and each unit above them the union of its sub-units' cells. Departments and units
    without a point or such sub-units get no polygon (the treemap shows them)."""
    units = list(session.scalars(select(Unit).order_by(Unit.path)))
    # departments (city HQ offices) have an address but no jurisdiction of their own
    pointed = [u for u in units if u.lat is not None and u.lon is not None and u.level != "department"]
    if len(pointed) < 3:
        return {"units": 0}
    seeds = [u for u in pointed if not any(v is not u and v.path.startswith(u.path) for v in pointed)]
    lat0 = math.radians(sum(u.lat for u in seeds) / len(seeds))
    kx = math.cos(lat0)  # work in a plane where one unit is the same distance both ways

    pts = np.array([[u.lon * kx, u.lat] for u in seeds])
    pts = _separate(pts)
    hull = MultiPoint([tuple(p) for p in pts]).convex_hull
    span = max(np.ptp(pts[:, 0]), np.ptp(pts[:, 1])) or 0.1
    outline = hull.buffer(span * margin, quad_segs=3).simplify(span * 0.01)
    cells = _voronoi_cells(pts, outline, span)

    shapes: dict[str, Any] = {}
    for unit in units:
        if unit.depth == 0 or unit.parent_id is None:
            shapes[unit.code] = outline
            continue
        parts = [cells[i] for i, s in enumerate(seeds) if s.path.startswith(unit.path)]
        if parts:
            shapes[unit.code] = unary_union(parts)
    for unit in units:
        geom = shapes.get(unit.code)
        if geom is not None and not geom.is_empty:
            unit.geometry = _geojson(_to_lonlat(geom, kx))
    bump_data_version(session)
    session.flush()
    return {"units": len(shapes), "seeds": len(seeds)}


def _separate(pts: np.ndarray) -> np.ndarray:
    """Nudge coincident points apart (Voronoi needs distinct seeds)."""
    seen: dict[tuple, int] = {}
    out = pts.copy()
    for i, p in enumerate(pts):
        key = (round(p[0], 6), round(p[1], 6))
        n = seen.get(key, 0)
        if n:
            out[i] = p + 1e-4 * n * np.array([math.cos(n), math.sin(n)])
        seen[key] = n + 1
    return out


def _voronoi_cells(pts: np.ndarray, outline, span: float) -> list:
    """One polygon per point, clipped to ``outline``. Four far points bound every region."""
    cx, cy = pts.mean(axis=0)
    far = 10 * span
    vor = Voronoi(np.vstack([pts, [[cx - far, cy - far], [cx + far, cy - far], [cx + far, cy + far],
                                   [cx - far, cy + far]]]))
    cells = []
    for i in range(len(pts)):
        region = vor.regions[vor.point_region[i]]
        poly = Polygon([vor.vertices[v] for v in region]) if region and -1 not in region else Polygon()
        cells.append(poly.intersection(outline) if not poly.is_empty else poly)
    return cells


def _to_lonlat(geom, kx: float):
    from shapely import transform

    return transform(geom, lambda xy: np.column_stack([xy[:, 0] / kx, xy[:, 1]]))


def export_geojson(session: Session) -> dict:
    """The units' polygons as a FeatureCollection keyed by code (round-trips through load_boundaries)."""
    feats = [{"type": "Feature", "properties": {"code": u.code, "name": u.name, "level": u.level},
              "geometry": u.geometry}
             for u in session.scalars(select(Unit).where(Unit.geometry.is_not(None)).order_by(Unit.path))]
    return {"type": "FeatureCollection", "features": feats}
