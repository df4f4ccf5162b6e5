"""The Flask console: ``create_app`` builds it from the callback-centre settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from callcenter.config import Settings, load_settings
from callcenter.ids import Role
from web.extensions import csrf, init_db, login_manager
from web.formatting import init_formatting
from web.security import init_security, load_secret_key

ERROR_MESSAGES = {
    400: "请求无效。",
    403: "您没有权限访问此页面。",
    404: "页面不存在。",
    405: "不支持此请求方式。",
    500: "服务器内部错误,请稍后重试。",
}


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: frozenset[str]


ALL_ROLES = frozenset(Role)
# later areas (calls, tickets, dashboard, admin) add their entries here with their roles
NAVIGATION: tuple[NavItem, ...] = (NavItem("callbacks.queue", "回访队列", ALL_ROLES),)


def create_app(config: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    """Build the console; ``config`` overrides Flask settings (e.g. TESTING)."""
    settings = settings if settings is not None else load_settings()
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.update(
        SECRET_KEY=settings.web.secret_key or load_secret_key(settings.instance_dir),
        SESSION_COOKIE_NAME="callcenter_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # the embedded default serves plain HTTP on 127.0.0.1; set True behind an HTTPS proxy
        SESSION_COOKIE_SECURE=False,
        # a token lives as long as the session: agents keep the queue open all day
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
    )
    if config:
        app.config.update(config)

    init_db(app, settings)
    login_manager.init_app(app)
    csrf.init_app(app)
    init_security(app)
    init_formatting(app)
    _register_blueprints(app)
    _register_errors(app)

    @app.context_processor
    def _navigation() -> dict[str, Any]:
        role = getattr(current_user, "role", None)
        return {
            "nav_items": [
                item
                for item in NAVIGATION
                if role in item.roles and item.endpoint in app.view_functions
            ]
        }

    return app


def _register_blueprints(app: Flask) -> None:
    from web.blueprints import api, auth, callbacks, main

    for module in (main, auth, callbacks, api):
        app.register_blueprint(module.bp)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(_exc: CSRFError) -> ResponseReturnValue:
        message = "表单已失效或缺少安全校验码,请刷新页面后重试。"
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        if code < 400:
            return exc
        message = ERROR_MESSAGES.get(code, exc.description or "请求失败。")
        return render_template("error.html", code=code, message=message), code
