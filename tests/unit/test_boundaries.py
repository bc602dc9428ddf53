"""Boundaries: GeoJSON loading (what matched, what did not) and the demo's generated polygons."""
import json
import random

import pytest
from shapely.geometry import Point, shape
from sqlalchemy import select

from ingest.boundaries import demo_boundaries, export_geojson, load_boundaries
from models.db import init_db, session_scope
from models.schema import ImportBatch, Unit


def _city(url, seed=3):
    """A city with 3 districts of 4 stations each (points scattered) and one department without a point."""
    init_db(url)
    rnd = random.Random(seed)
    with session_scope(url) as s:
        city = Unit(code="TC", name="测试市", level="city", path="/TC/", depth=0, lat=23.0, lon=113.1)
        s.add(city)
        s.flush()
        for d in range(1, 4):
            dcode = f"TC-D{d}"
            dlat, dlon = 23.0 + 0.08 * (d - 2), 113.1 + 0.1 * (d % 2)
            district = Unit(code=dcode, name=f"第{d}区", level="district", path=f"/TC/{dcode}/", depth=1,
                            parent_id=city.id, lat=dlat, lon=dlon)
            s.add(district)
            s.flush()
            for k in range(1, 5):
                code = f"{dcode}-S{k}"
                s.add(Unit(code=code, name=f"第{d}区{k}所", level="station", path=f"/TC/{dcode}/{code}/", depth=2,
                           parent_id=district.id, lat=dlat + rnd.uniform(-0.03, 0.03),
                           lon=dlon + rnd.uniform(-0.04, 0.04)))
        s.add(Unit(code="TC-HQ", name="市局机关", level="department", path="/TC/TC-HQ/", depth=1, parent_id=city.id,
                   lat=23.001, lon=113.101))
    return url


@pytest.fixture()
def city_url(new_db_url):
    return _city(new_db_url("boundaries"))


def test_bnd001_demo_polygons_partition_the_city(city_url):
    with session_scope(city_url) as s:
        demo_boundaries(s)
    with session_scope(city_url) as s:
        units = {u.code: u for u in s.scalars(select(Unit))}
        city = shape(units["TC"].geometry)
        districts = [shape(units[f"TC-D{d}"].geometry) for d in range(1, 4)]
        # districts do not overlap and together cover the city outline
        for i in range(3):
            for j in range(i + 1, 3):
                assert districts[i].intersection(districts[j]).area < 1e-6 * city.area
        assert abs(sum(d.area for d in districts) - city.area) < 1e-3 * city.area
        for code, u in units.items():
            if u.level == "station":
                poly = shape(u.geometry)
                assert poly.is_valid and poly.area > 0
                assert poly.buffer(1e-4).contains(Point(u.lon, u.lat)), f"{code} lies outside its own cell"
                parent = shape(units[code.rsplit("-", 1)[0]].geometry)
                assert poly.difference(parent.buffer(1e-5)).area < 1e-6 * parent.area, f"{code} spills out of its district"
        assert units["TC-HQ"].geometry is None  # a department has no jurisdiction: treemap only


def test_bnd002_load_reports_unmatched_units_and_unused_features(city_url, tmp_path):
    square = {"type": "Polygon", "coordinates": [[[113.0, 22.9], [113.2, 22.9], [113.2, 23.1], [113.0, 23.1], [113.0, 22.9]]]}
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "TC-D1"}, "geometry": square},
        {"type": "Feature", "properties": {"code": "NOPE-9"}, "geometry": square},
        {"type": "Feature", "properties": {"name": "no code"}, "geometry": square},
        {"type": "Feature", "properties": {"code": "TC-D2"}, "geometry": {"type": "Point", "coordinates": [113, 23]}},
        {"type": "Feature", "properties": {"code": "TC-D1"}, "geometry": square},
        {"type": "Feature", "properties": {"code": "TC-D3"},
         "geometry": {"type": "Polygon", "coordinates": [[[11300, 2290], [11320, 2290], [11320, 2310], [11300, 2290]]]}},
    ]}
    path = tmp_path / "b.geojson"
    path.write_text(json.dumps(fc), encoding="utf-8")
    with session_scope(city_url) as s:
        report = load_boundaries(s, path, created_by="admin")
    assert report["loaded"] == ["TC-D1"]
    reasons = {f["index"]: f["reason"] for f in report["features_not_used"]}
    assert reasons[1] == "no unit with this code"
    assert "code" in reasons[2]
    assert "Polygon" in reasons[3]
    assert "duplicate" in reasons[4]
    assert "longitude" in reasons[5]
    assert "TC-D2" in report["units_not_matched"] and "TC-D1" not in report["units_not_matched"]
    with session_scope(city_url) as s:
        assert s.scalar(select(Unit.geometry).where(Unit.code == "TC-D1"))["type"] == "Polygon"
        batch = s.get(ImportBatch, report["batch_id"])
        assert batch.kind == "boundaries" and batch.inserted == 1 and batch.quarantined == 5


def test_bnd003_export_round_trips(city_url):
    with session_scope(city_url) as s:
        demo_boundaries(s)
        fc = export_geojson(s)
        report = load_boundaries(s, fc)
    assert report["features_not_used"] == []
    assert report["units_not_matched"] == ["TC-HQ"]


def test_bnd004_not_a_feature_collection_is_refused(city_url):
    with session_scope(city_url) as s, pytest.raises(ValueError):
        load_boundaries(s, {"type": "Feature"})


def test_bnd005_cli_ingest_boundaries(city_url, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from portal.cli import _load_commands, app

    square = {"type": "Polygon", "coordinates": [[[113.0, 22.9], [113.2, 22.9], [113.2, 23.1], [113.0, 22.9]]]}
    path = tmp_path / "units.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "TC-D3"}, "geometry": square},
        {"type": "Feature", "properties": {"code": "XX"}, "geometry": square}]}), encoding="utf-8")
    monkeypatch.setenv("PORTAL_DATABASE_URL", city_url)
    monkeypatch.setenv("PORTAL_INSTANCE", str(tmp_path / "inst"))
    _load_commands()
    result = CliRunner().invoke(app, ["ingest", "boundaries", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["loaded"] == ["TC-D3"] and report["features_not_used"][0]["code"] == "XX"
