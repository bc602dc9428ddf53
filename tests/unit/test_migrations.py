"""Alembic migrations build exactly the schema the ORM declares, and can go down and up again."""
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from models.db import alembic_config, get_engine, init_db
from models.schema import Base


def _diff(url):
    with get_engine(url).connect() as conn:
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)


def test_mig001_single_head(new_db_url):
    heads = ScriptDirectory.from_config(alembic_config(new_db_url("heads"))).get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}; add a merge revision"


def test_mig002_upgrade_matches_models_and_round_trips(new_db_url):
    url = new_db_url("migrations")
    init_db(url)
    assert _diff(url) == []
    command.downgrade(alembic_config(url), "base")
    with get_engine(url).connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() is None
    init_db(url)
    init_db(url)  # a second upgrade changes nothing
    assert _diff(url) == []
