"""Who is logged in, who may see what, and the secure defaults every response gets."""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, request
from flask.typing import ResponseReturnValue
from flask_login import UserMixin, current_user
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from callcenter.ids import Role
from callcenter.models import User
from web.extensions import db_session, login_manager

F = TypeVar("F", bound=Callable[..., Any])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


@dataclass(frozen=True, eq=False)
class AuthUser(UserMixin):
    """The logged-in user as the console sees it: a snapshot, detached from any session."""

    id: int
    username: str
    display_name: str
    role: str
    dealership_id: int
    dealership_name: str
    timezone: str
    active: bool

    @classmethod
    def from_row(cls, user: User) -> AuthUser:
        """Snapshot a ``User`` row (its dealership is loaded)."""
        return cls(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            dealership_id=user.dealership_id,
            dealership_name=user.dealership.name,
            timezone=user.dealership.timezone,
            active=user.active,
        )

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def sees_all_callbacks(self) -> bool:
        """Supervisors and admins work the whole dealership's queue, agents their own."""
        return self.role in (Role.SUPERVISOR, Role.ADMIN)


def public(view: F) -> F:
    """Mark a view as reachable without logging in (everything else needs a login)."""
    cast(Any, view).is_public = True
    return view


def roles_required(*roles: str) -> Callable[[F], F]:
    """Allow a view only to logged-in users whose role is one of ``roles`` (else 403)."""
    unknown = set(roles) - set(Role)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapped)

    return decorator


def require_login() -> ResponseReturnValue | None:
    """``before_request``: every endpoint needs a login unless its view is marked public."""
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "is_public", False) or current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


def add_security_headers(response: Response) -> Response:
    """``after_request``: security headers; pages with customer data are never cached."""
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.endpoint != "static":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def safe_next_url(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def load_secret_key(instance_dir: Path) -> str:
    """The key in ``<instance>/secret_key``, generated (mode 0600) the first time."""
    path = instance_dir / "secret_key"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        # write a private temp file, then link it into place: atomic, and a process that
        # loses the race reads the winner's key instead of overwriting it
        temp = instance_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(secrets.token_hex(32))
            try:
                os.link(temp, path)
            except FileExistsError:
                pass
        finally:
            temp.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < 32:
        raise RuntimeError(f"密钥文件 {path} 内容过短(至少 32 个字符),请删除后重新启动以重新生成")
    return key


def init_security(app: Flask) -> None:
    """Install the login requirement and the security headers on ``app``."""
    app.before_request(require_login)
    app.after_request(add_security_headers)


@login_manager.user_loader
def load_user(user_id: str) -> AuthUser | None:
    """Reload the session's user on each request; deactivated users are logged out."""
    try:
        key = int(user_id)
    except ValueError:
        return None
    user = db_session().get(User, key, options=[joinedload(User.dealership)])
    if user is None or not user.active:
        return None
    return AuthUser.from_row(user)
