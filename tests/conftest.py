"""Shared fixtures: settings in a temporary instance folder, a migrated database, a dealership."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callcenter.config import Settings, load_settings
from callcenter.db import make_engine, make_session_factory, upgrade
from callcenter.models import Base, Dealership

MIGRATED_TEMPLATE: dict[str, Path] = {}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a fresh instance folder; the environment's CALLCENTER_* are ignored."""
    return load_settings(environ={}, instance_path=str(tmp_path / "instance"))


@pytest.fixture
def engine(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite database built by the committed migrations (copied from one migrated file)."""
    if "db" not in MIGRATED_TEMPLATE:
        template = tmp_path_factory.mktemp("migrated") / "template.db"
        upgrade(f"sqlite:///{template}")
        MIGRATED_TEMPLATE["db"] = template
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    target = settings.instance_dir / "callcenter.db"
    target.write_bytes(MIGRATED_TEMPLATE["db"].read_bytes())
    eng = make_engine(settings.sqlalchemy_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    with sessions() as s:
        yield s


@pytest.fixture
def dealership(session: Session) -> Dealership:
    dealer = Dealership(code="demo", name="示范4S店", timezone="Asia/Shanghai")
    session.add(dealer)
    session.commit()
    return dealer


__all__ = ["Base"]
