"""The front door and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from web.extensions import db_session
from web.security import public

bp = Blueprint("main", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """Everyone starts at the callback queue."""
    return redirect(url_for("callbacks.queue"))


@bp.get("/healthz")
@public
def healthz() -> ResponseReturnValue:
    """Process check: 200 when the app answers and reaches its database, else 503."""
    try:
        db_session().execute(text("SELECT 1"))
    except SQLAlchemyError:
        return jsonify(status="error", database="unavailable"), 503
    return jsonify(status="ok", database="ok")
