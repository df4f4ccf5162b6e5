"""Dealerships and console users: creation with checks that give clear Chinese messages."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.ids import ROLE_LABELS, Role
from callcenter.models import Dealership, User

MIN_PASSWORD_LENGTH = 8
_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class AccountError(ValueError):
    """A dealership or user cannot be created; the message says why, in Chinese."""


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone, else AccountError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise AccountError(f"未知的时区: {name}(应为 IANA 时区名,如 Asia/Shanghai)") from exc
    return name


def check_role(role: str) -> Role:
    """The Role for ``role``, else AccountError naming the allowed values."""
    try:
        return Role(role)
    except ValueError as exc:
        allowed = "、".join(f"{r.value}({ROLE_LABELS[r]})" for r in Role)
        raise AccountError(f"未知的角色: {role}(应为 {allowed})") from exc


def check_password(password: str) -> str:
    """``password`` if it is long enough, else AccountError."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"密码至少需要 {MIN_PASSWORD_LENGTH} 个字符")
    return password


def create_dealership(
    session: Session, code: str, name: str, timezone: str = "Asia/Shanghai"
) -> Dealership:
    """Add a dealership; its code must be new."""
    code, name = code.strip(), name.strip()
    if not _CODE_RE.match(code):
        raise AccountError(f"经销商代码 {code!r} 无效(应为 1–32 个字母、数字、下划线或连字符)")
    if not name or len(name) > 100:
        raise AccountError("经销商名称不能为空,且不超过 100 个字符")
    check_timezone(timezone)
    if session.scalar(select(Dealership.id).where(Dealership.code == code)) is not None:
        raise AccountError(f"经销商代码 {code} 已存在")
    dealer = Dealership(code=code, name=name, timezone=timezone)
    session.add(dealer)
    session.flush()
    return dealer


def find_dealership(session: Session, code: str | None) -> Dealership:
    """The dealership with ``code``; without a code, the only one there is."""
    if code:
        dealer = session.scalar(select(Dealership).where(Dealership.code == code))
        if dealer is None:
            raise AccountError(f"找不到经销商代码 {code}(先用 callcenter create-dealership 创建)")
        return dealer
    dealers = session.scalars(select(Dealership).order_by(Dealership.code)).all()
    if not dealers:
        raise AccountError("还没有经销商,请先运行 callcenter create-dealership")
    if len(dealers) > 1:
        codes = "、".join(d.code for d in dealers)
        raise AccountError(f"有多个经销商({codes}),请用 --dealership 指定")
    return dealers[0]


def check_new_username(session: Session, username: str) -> str:
    """The stripped ``username`` if it is well-formed and not taken, else AccountError."""
    username = username.strip()
    if not _USERNAME_RE.match(username):
        raise AccountError(f"用户名 {username!r} 无效(应为 1–64 个字母、数字、点、下划线或连字符)")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"用户名 {username} 已存在")
    return username


def create_user(
    session: Session,
    dealership: Dealership,
    username: str,
    role: str,
    display_name: str,
    password: str,
) -> User:
    """Add a console user with a hashed password; the username must be new."""
    username, display_name = check_new_username(session, username), display_name.strip()
    checked_role = check_role(role)
    if not display_name or len(display_name) > 64:
        raise AccountError("姓名不能为空,且不超过 64 个字符")
    check_password(password)
    user = User(
        dealership=dealership,
        username=username,
        display_name=display_name,
        role=checked_role,
    )
    user.set_password(password)
    session.add(user)
    session.flush()
    return user
