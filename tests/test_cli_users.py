"""``create-dealership`` and ``create-user``: accounts from the command line, clear errors."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from callcenter.models import Dealership, User
from tests.conftest import CallcenterRunner


def test_create_dealership(runner: CallcenterRunner, sessions: sessionmaker[Session]) -> None:
    result = runner.invoke("create-dealership", "--code", "gz01", "--name", "广州一汽-大众4S店")
    assert result.exit_code == 0, result.output
    assert "已创建经销商 gz01" in result.output
    with sessions() as session:
        dealer = session.scalars(select(Dealership)).one()
        assert (dealer.code, dealer.name, dealer.timezone) == (
            "gz01",
            "广州一汽-大众4S店",
            "Asia/Shanghai",
        )

    again = runner.invoke("create-dealership", "--code", "gz01", "--name", "另一家")
    assert again.exit_code == 1
    assert "经销商代码 gz01 已存在" in again.output

    bad_zone = runner.invoke(
        "create-dealership", "--code", "x1", "--name", "某店", "--timezone", "Mars/Base"
    )
    assert bad_zone.exit_code == 1
    assert "未知的时区: Mars/Base" in bad_zone.output
    bad_code = runner.invoke("create-dealership", "--code", "广州 店", "--name", "某店")
    assert bad_code.exit_code == 1 and "经销商代码" in bad_code.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Dealership)) == 1


def test_create_user_with_password_option(
    runner: CallcenterRunner, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    runner.invoke("create-dealership", "--code", "gz01", "--name", "广州店")
    result = runner.invoke(
        "create-user", "wangli", "--role", "agent", "--name", "王丽", "--password", "s3cret-pw"
    )
    assert result.exit_code == 0, result.output
    assert "已创建用户 wangli(回访员,广州店)" in result.output
    with sessions() as session:
        user = session.scalars(select(User)).one()
        assert (user.username, user.role, user.display_name) == ("wangli", "agent", "王丽")
        assert user.password_hash != "s3cret-pw"
        assert user.check_password("s3cret-pw") and not user.check_password("s3cret-px")


def test_create_user_errors_are_clear(runner: CallcenterRunner, engine: Engine) -> None:
    no_dealer = runner.invoke(
        "create-user", "a", "--role", "agent", "--name", "甲", "--password", "x" * 8
    )
    assert no_dealer.exit_code == 1
    assert "还没有经销商" in no_dealer.output

    runner.invoke("create-dealership", "--code", "gz01", "--name", "广州店")
    runner.invoke("create-dealership", "--code", "sz01", "--name", "深圳店")
    base = ["--name", "王丽", "--password", "s3cret-pw"]
    cases = [
        (["wangli", "--role", "manager", *base], "未知的角色: manager"),
        (["wangli", "--role", "agent", *base], "有多个经销商(gz01、sz01),请用 --dealership 指定"),
        (["wangli", "--role", "agent", "--dealership", "bj01", *base], "找不到经销商代码 bj01"),
        (["wang li", "--role", "agent", "--dealership", "gz01", *base], "用户名 'wang li' 无效"),
        (
            [
                "wangli",
                "--role",
                "agent",
                "--dealership",
                "gz01",
                "--name",
                "王丽",
                "--password",
                "short",
            ],
            "密码至少需要 8 个字符",
        ),
    ]
    for args, message in cases:
        result = runner.invoke("create-user", *args)
        assert result.exit_code == 1, args
        assert message in result.output, (args, result.output)

    ok = runner.invoke("create-user", "wangli", "--role", "agent", "--dealership", "gz01", *base)
    assert ok.exit_code == 0, ok.output
    duplicate = runner.invoke(
        "create-user", "wangli", "--role", "admin", "--dealership", "sz01", *base
    )
    assert duplicate.exit_code == 1
    assert "用户名 wangli 已存在" in duplicate.output


def test_create_user_prompts_for_password_with_confirmation(
    runner: CallcenterRunner, engine: Engine, sessions: sessionmaker[Session]
) -> None:
    runner.invoke("create-dealership", "--code", "gz01", "--name", "广州店")
    args = ("create-user", "chenjing", "--role", "supervisor", "--name", "陈静")

    mismatch = runner.invoke(*args, input="first-pass\nother-pass\n")
    assert mismatch.exit_code == 1
    assert "两次输入的密码不一致" in mismatch.output

    result = runner.invoke(*args, input="first-pass\nfirst-pass\n")
    assert result.exit_code == 0, result.output
    assert "密码" in result.output and "再次输入密码" in result.output
    assert "first-pass" not in result.output  # hidden input is not echoed
    with sessions() as session:
        user = session.scalars(select(User)).one()
        assert user.role == "supervisor" and user.check_password("first-pass")
