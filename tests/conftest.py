"""Shared fixtures: settings in a temporary instance folder, a migrated database, a dealership."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from callcenter.cli import cli
from callcenter.config import Settings, load_settings
from callcenter.db import make_engine, make_session_factory, upgrade
from callcenter.ids import Role
from callcenter.models import Base, Dealership, User
from web import create_app
from web.extensions import database

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


# --- web console and command line ------------------------------------------------------------

USER_PASSWORDS: dict[str, str] = {
    Role.AGENT: "agent-pass-1",
    Role.SUPERVISOR: "supervisor-pass-1",
    Role.ADMIN: "admin-pass-1",
}
USER_NAMES: dict[str, str] = {Role.AGENT: "王丽", Role.SUPERVISOR: "陈静", Role.ADMIN: "赵强"}
_PASSWORD_HASHES: dict[str, str] = {}  # hashing is deliberately slow: once per test session


@pytest.fixture
def app(settings: Settings, engine: Engine) -> Iterator[Flask]:
    """The console on the migrated test database, CSRF off so tests can post forms directly."""
    application = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=settings)
    yield application
    database(application).engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class CallcenterRunner:
    """Runs the ``callcenter`` command in-process on the test instance folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def invoke(self, *args: str, input: str | None = None) -> Result:
        # CALLCENTER_* from the developer's shell must not leak into the test instance
        env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CALLCENTER_")}
        return CliRunner().invoke(
            cli, ["--instance", self.settings.instance_path, *args], input=input, env=env
        )


@pytest.fixture
def runner(settings: Settings) -> CallcenterRunner:
    return CallcenterRunner(settings)


@pytest.fixture
def users(session: Session, dealership: Dealership) -> dict[str, User]:
    """One active user per role in ``dealership``; passwords in ``USER_PASSWORDS``."""
    made = {}
    for role in Role:
        user = User(
            dealership=dealership,
            username=f"{role.value}1",
            display_name=USER_NAMES[role],
            role=role,
        )
        if role not in _PASSWORD_HASHES:
            user.set_password(USER_PASSWORDS[role])
            _PASSWORD_HASHES[role] = user.password_hash
        user.password_hash = _PASSWORD_HASHES[role]
        session.add(user)
        made[role.value] = user
    session.commit()
    return made


def login(client: FlaskClient, username: str, password: str) -> FlaskClient:
    """Log ``client`` in through the real login form."""
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
    return client


@pytest.fixture
def agent_client(app: Flask, users: dict[str, User]) -> FlaskClient:
    return login(app.test_client(), users["agent"].username, USER_PASSWORDS[Role.AGENT])


@pytest.fixture
def supervisor_client(app: Flask, users: dict[str, User]) -> FlaskClient:
    return login(app.test_client(), users["supervisor"].username, USER_PASSWORDS[Role.SUPERVISOR])


@pytest.fixture
def admin_client(app: Flask, users: dict[str, User]) -> FlaskClient:
    return login(app.test_client(), users["admin"].username, USER_PASSWORDS[Role.ADMIN])


__all__ = ["Base"]
