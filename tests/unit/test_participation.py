"""campaign_participant: the (officer, year) pairs with campaign activity that the database keeps
from campaign_entry, whoever writes the entries: the ORM, the activity import, deletes and
moves; the migration fills it from entries already there, and the demo rebuilds it after
its trigger-less bulk load."""
from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from sqlalchemy import delete, select, text, update

from ingest.activity import load_activity_bytes
from models.db import alembic_config, dispose, get_engine, init_db, session_scope, set_meta
from models.participation import rebuild_participants
from models.schema import Campaign, CampaignEntry, CampaignParticipant, Officer
from tests.unit.test_activity_ingest import csv_bytes
from tests.unit.test_campaigns import add_officers, add_units


def pairs(url) -> set[tuple[int, int]]:
    with session_scope(url) as s:
        return set(s.execute(select(CampaignParticipant.officer_id, CampaignParticipant.year)).all())


@pytest.fixture()
def world(new_db_url):
    url = new_db_url("participation")
    init_db(url)
    with session_scope(url) as s:
        set_meta(s, "id_hash_key", "test-key")
        units = add_units(s)
        officers = add_officers(s, units)
        walk = Campaign(name="健步走", kind="steps", start_date=dt.date(2025, 12, 1), end_date=dt.date(2026, 1, 31),
                        scope_unit_ids=[units["T"].id], team_level="station", target_per_day=8000,
                        team_scoring="mean", points_rule={})
        s.add(walk)
        s.flush()
        badges = {oid: s.get(Officer, oid).badge for oid in officers["T-D1-S1"]}
    yield {"url": url, "campaign": walk.id, "officers": officers["T-D1-S1"], "badges": badges}
    dispose(url)  # a database per test: give its connections back now, not at the end of the run


def _entry(world, officer, day, value=5000):
    return CampaignEntry(campaign_id=world["campaign"], officer_id=officer, day=day, value=value)


def test_part001_entries_added_through_the_orm_give_one_pair_per_officer_and_year(world):
    a, b = world["officers"][:2]
    with session_scope(world["url"]) as s:
        s.add_all([_entry(world, a, dt.date(2025, 12, 30)), _entry(world, a, dt.date(2025, 12, 31)),
                   _entry(world, a, dt.date(2026, 1, 2)), _entry(world, b, dt.date(2026, 1, 3))])
    assert pairs(world["url"]) == {(a, 2025), (a, 2026), (b, 2026)}


def test_part002_the_activity_import_keeps_pairs_and_a_rerun_changes_nothing(world):
    a, b, c = world["officers"][:3]
    badge = world["badges"]
    data = csv_bytes(["警号", "日期", "步数"], [(badge[a], "2025-12-15", 9000), (badge[b], "2026-01-05", 4000),
                                            (badge[b], "2026-01-06", 4100), (badge[c], "2026-02-10", 4000)])
    res = load_activity_bytes(world["url"], data, world["campaign"], filename="walk.csv", today=dt.date(2026, 2, 1))
    assert (res["inserted"], res["quarantined"]) == (3, 1)  # 10 Feb is after the campaign ended
    assert pairs(world["url"]) == {(a, 2025), (b, 2026)}
    load_activity_bytes(world["url"], data, world["campaign"], filename="walk.csv", today=dt.date(2026, 2, 1))
    assert pairs(world["url"]) == {(a, 2025), (b, 2026)}


def test_part003_a_pair_goes_with_the_last_entry_of_its_year(world):
    a = world["officers"][0]
    with session_scope(world["url"]) as s:
        s.add_all([_entry(world, a, dt.date(2026, 1, 2)), _entry(world, a, dt.date(2026, 1, 3))])
    with session_scope(world["url"]) as s:
        s.execute(delete(CampaignEntry).where(CampaignEntry.day == dt.date(2026, 1, 2)))
    assert pairs(world["url"]) == {(a, 2026)}  # one entry of 2026 is left
    with session_scope(world["url"]) as s:
        s.execute(delete(CampaignEntry).where(CampaignEntry.officer_id == a))
    assert pairs(world["url"]) == set()


def test_part004_moving_an_entry_to_another_year_or_officer_moves_the_pair(world):
    a, b = world["officers"][:2]
    with session_scope(world["url"]) as s:
        s.add(_entry(world, a, dt.date(2026, 1, 2)))
    with session_scope(world["url"]) as s:
        s.execute(update(CampaignEntry).where(CampaignEntry.officer_id == a).values(day=dt.date(2025, 12, 31)))
    assert pairs(world["url"]) == {(a, 2025)}
    with session_scope(world["url"]) as s:
        s.execute(update(CampaignEntry).where(CampaignEntry.officer_id == a).values(officer_id=b))
    assert pairs(world["url"]) == {(b, 2025)}
    with session_scope(world["url"]) as s:  # a value changes: nothing moves
        s.execute(update(CampaignEntry).where(CampaignEntry.officer_id == b).values(value=12000))
    assert pairs(world["url"]) == {(b, 2025)}


def test_part005_rebuild_restores_pairs_a_bulk_load_left_out(world):
    a, b = world["officers"][:2]
    with session_scope(world["url"]) as s:
        s.add_all([_entry(world, a, dt.date(2025, 12, 30)), _entry(world, b, dt.date(2026, 1, 3))])
    with session_scope(world["url"]) as s:  # as if the entries had been copied in with triggers off
        s.execute(delete(CampaignParticipant))
        s.add(CampaignParticipant(officer_id=world["officers"][5], year=2024))  # and a stale pair
    with get_engine(world["url"]).begin() as conn:
        rebuild_participants(conn)
    assert pairs(world["url"]) == {(a, 2025), (b, 2026)}


def test_part006_the_migration_fills_pairs_from_entries_already_there(world):
    a, b = world["officers"][:2]
    with session_scope(world["url"]) as s:
        s.add_all([_entry(world, a, dt.date(2025, 12, 30)), _entry(world, b, dt.date(2026, 1, 3))])
    command.downgrade(alembic_config(world["url"]), "0012")
    with get_engine(world["url"]).begin() as conn:
        conn.execute(text("INSERT INTO campaign_entry (campaign_id, officer_id, day, value, flagged) "
                          "VALUES (:c, :o, :d, 7000, false)"), {"c": world["campaign"], "o": a, "d": dt.date(2026, 1, 9)})
    init_db(world["url"])
    assert pairs(world["url"]) == {(a, 2025), (a, 2026), (b, 2026)}
    with session_scope(world["url"]) as s:  # and the triggers are back
        s.add(_entry(world, world["officers"][2], dt.date(2026, 1, 10)))
    assert (world["officers"][2], 2026) in pairs(world["url"])
