"""The committed migrations build exactly the models, on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import DateTime, inspect, select

from callcenter.db import alembic_config, make_engine, make_session_factory, upgrade
from callcenter.models import Base, Customer, Dealership
from tests.servers import postgres_server


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def _diff(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def _round_trip(url: str) -> None:
    """Stored times come back timezone-aware and equal, whatever zone they were given in."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    beijing = timezone(timedelta(hours=8))
    at = datetime(2026, 11, 20, 18, 30, tzinfo=beijing)
    with sessions() as session:
        dealer = Dealership(code="rt", name="往返测试", created_at=at)
        session.add(dealer)
        session.flush()
        session.add(Customer(dealership_id=dealer.id, name="张三", phone="13812345678"))
        session.commit()
    with sessions() as session:
        loaded = session.scalars(select(Dealership).where(Dealership.code == "rt")).one()
        assert loaded.created_at == at
        assert loaded.created_at.tzinfo is not None
        assert loaded.created_at.utcoffset() == timedelta(0)
        assert session.scalars(select(Customer.name)).all() == ["张三"]
        with pytest.raises(Exception, match="naive datetime"):
            session.add(Dealership(code="naive", name="x", created_at=datetime(2026, 1, 1)))
            session.flush()
    engine.dispose()


def _check_migrations(url: str) -> None:
    upgrade(url)
    assert _diff(url) == []
    engine = make_engine(url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(Base.metadata.tables) <= tables
    _round_trip(url)
    cfg = alembic_config(url)
    command.downgrade(cfg, "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(cfg, "head")
    assert _diff(url) == []


def test_migrations_equal_models_on_sqlite(tmp_path: Path) -> None:
    _check_migrations(f"sqlite:///{tmp_path / 'm.db'}")


@pytest.mark.postgres
def test_migrations_equal_models_on_postgresql(postgres_url: str) -> None:
    _check_migrations(postgres_url)


def test_models_have_no_naive_timestamps() -> None:
    """Every datetime column stores UTC-aware times (STYLE.md 'Data')."""
    naive = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, DateTime)  # UTCDateTime wraps DateTime, it is not one
    ]
    assert naive == []


def test_utc_helper_is_aware() -> None:
    from callcenter.models import utcnow

    assert utcnow().tzinfo is UTC
