"""Extensions created once and bound to an app with ``init_app`` (login, CSRF, database)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app
from flask.globals import app_ctx
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine
from sqlalchemy.orm import Session, scoped_session

from callcenter.config import Settings
from callcenter.db import make_engine, make_session_factory

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "请先登录。"
login_manager.login_message_category = "info"

csrf = CSRFProtect()

_DB_KEY = "callcenter.db"
_SETTINGS_KEY = "callcenter.settings"


@dataclass(frozen=True)
class DatabaseBinding:
    """One app's engine and its sessions, one session per application context."""

    engine: Engine
    sessions: scoped_session[Session]


def _app_context_id() -> int:
    # one session per app context (request or CLI), like Flask-SQLAlchemy, not per thread
    # app_ctx is a LocalProxy; typed as the context itself, so mypy misses the proxy method
    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


def init_db(app: Flask, settings: Settings) -> DatabaseBinding:
    """Bind an engine and scoped sessions for ``settings.sqlalchemy_url`` to ``app``."""
    engine = make_engine(settings.sqlalchemy_url)
    binding = DatabaseBinding(
        engine, scoped_session(make_session_factory(engine), scopefunc=_app_context_id)
    )
    app.extensions[_DB_KEY] = binding
    app.extensions[_SETTINGS_KEY] = settings

    @app.teardown_appcontext
    def _remove_session(_exc: BaseException | None) -> None:
        binding.sessions.remove()

    return binding


def database(app: Flask | None = None) -> DatabaseBinding:
    """The database binding of ``app`` (default: the current app)."""
    target = app if app is not None else current_app
    binding: DatabaseBinding = target.extensions[_DB_KEY]
    return binding


def db_session() -> Session:
    """The session of the current application context; removed when the context ends."""
    return database().sessions()


def current_settings() -> Settings:
    """The callback-centre settings the current app was created with."""
    settings: Settings = current_app.extensions[_SETTINGS_KEY]
    return settings
