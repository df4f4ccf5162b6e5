"""Dealerships and console users: ``create-dealership``, ``create-user``."""

from __future__ import annotations

import click

from callcenter import accounts
from callcenter.cli.context import AppContext, pass_app
from callcenter.db import session_scope
from callcenter.ids import ROLE_LABELS


@click.command("create-dealership")
@click.option("--code", required=True, help="经销商代码,如 demo")
@click.option("--name", required=True, help="经销商名称,如 示范一汽-大众4S店")
@click.option("--timezone", default="Asia/Shanghai", show_default=True, help="时区 (IANA)")
@pass_app
def create_dealership(app: AppContext, code: str, name: str, timezone: str) -> None:
    """创建经销商。"""
    try:
        with session_scope(app.sessions) as session:
            accounts.create_dealership(session, code=code, name=name, timezone=timezone)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已创建经销商 {code.strip()}({name.strip()}),时区 {timezone}")


def _prompt_password() -> str:
    # click's own confirmation prompt reports a mismatch in English
    password: str = click.prompt("密码", hide_input=True)
    accounts.check_password(password)
    again: str = click.prompt("再次输入密码", hide_input=True)
    if password != again:
        raise accounts.AccountError("两次输入的密码不一致")
    return password


@click.command("create-user")
@click.argument("username")
@click.option(
    "--role", required=True, help="角色: agent(回访员)、supervisor(客服经理)、admin(管理员)"
)
@click.option("--name", "display_name", required=True, help="姓名,如 王丽")
@click.option("--dealership", "dealership_code", help="经销商代码(只有一个经销商时可省略)")
@click.option("--password", help="密码(省略时提示输入)")
@pass_app
def create_user(
    app: AppContext,
    username: str,
    role: str,
    display_name: str,
    dealership_code: str | None,
    password: str | None,
) -> None:
    """创建控制台用户。"""
    try:
        checked_role = accounts.check_role(role)
        if password is None:
            # fail on a bad dealership or a taken name before asking for a password
            with session_scope(app.sessions) as session:
                accounts.find_dealership(session, dealership_code)
                accounts.check_new_username(session, username)
            password = _prompt_password()
        with session_scope(app.sessions) as session:
            dealer = accounts.find_dealership(session, dealership_code)
            accounts.create_user(session, dealer, username, checked_role, display_name, password)
            dealer_name = dealer.name
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已创建用户 {username}({ROLE_LABELS[checked_role]},{dealer_name})")


COMMANDS: list[click.Command] = [create_dealership, create_user]
