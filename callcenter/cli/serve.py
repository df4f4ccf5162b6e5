"""Running the system: ``serve`` (console + worker) and ``demo`` (sample data, then serve)."""

from __future__ import annotations

import hashlib
import socket
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter import accounts
from callcenter.cli.context import AppContext, pass_app
from callcenter.config import Settings
from callcenter.db import init_db, session_scope
from callcenter.ids import OPEN_CALLBACK_STATUSES, ROLE_LABELS, Role
from callcenter.models import Callback, Customer, Dealership, ImportRun, User
from callcenter.supervisor import ChildSpec


def _check_port_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"无法监听 {host}:{port}: {exc.strerror}(端口可能已被占用,可用 --port 换一个)"
            ) from exc


def run_embedded(app: AppContext, host: str, port: int, first: Sequence[ChildSpec] = ()) -> None:
    """Migrate the database, then run the console, the worker and the telephony engine (after
    the ``first`` children) until SIGINT/SIGTERM."""
    from callcenter.embedded import embedded_services
    from callcenter.supervisor import Supervisor

    init_db(app.settings)
    _check_port_free(host, port)
    app.close()  # the children open their own connections
    supervisor = Supervisor([*first, *embedded_services(app.settings, host, port)])
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"客服回访中心控制台: http://{shown}:{port} (按 Ctrl+C 停止)")
    code = supervisor.run()
    if code:
        raise SystemExit(code)


@click.command("serve")
@click.option("--host", help="监听地址(默认取设置 web.host)")
@click.option("--port", type=int, help="监听端口(默认取设置 web.port)")
@pass_app
def serve(app: AppContext, host: str | None, port: int | None) -> None:
    """运行控制台和后台任务进程(内嵌模式)。"""
    run_embedded(app, host or app.settings.web.host, port or app.settings.web.port)


# --- demo -------------------------------------------------------------------------------------

DEMO_DEALERSHIP_CODE = "demo"
DEMO_DEALERSHIP_NAME = "示范一汽-大众4S店"
DEMO_TIMEZONE = "Asia/Shanghai"


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    display_name: str
    password: str


DEMO_USERS = (
    DemoUser("agent1", Role.AGENT, "林晓雯", "agent1-demo"),
    DemoUser("agent2", Role.AGENT, "苏婉清", "agent2-demo"),
    DemoUser("supervisor", Role.SUPERVISOR, "沈慧敏", "supervisor-demo"),
    DemoUser("admin", Role.ADMIN, "韦志远", "admin-demo"),
)


def ensure_demo_dealership(session: Session) -> Dealership:
    """The demo dealership, created the first time."""
    dealer = session.scalar(select(Dealership).where(Dealership.code == DEMO_DEALERSHIP_CODE))
    if dealer is None:
        dealer = accounts.create_dealership(
            session, DEMO_DEALERSHIP_CODE, DEMO_DEALERSHIP_NAME, DEMO_TIMEZONE
        )
    return dealer


def ensure_demo_users(session: Session, dealer: Dealership) -> list[User]:
    """One user per role (two agents), created the first time, reset to the printed values."""
    users = []
    for demo in DEMO_USERS:
        user = session.scalar(select(User).where(User.username == demo.username))
        if user is None:
            user = accounts.create_user(
                session, dealer, demo.username, demo.role, demo.display_name, demo.password
            )
        elif user.dealership_id != dealer.id:
            # never take over a real account: the demo wants an instance of its own
            raise accounts.AccountError(
                f"用户名 {demo.username} 已被其他经销商使用,请用新的实例目录运行示范"
                "(callcenter --instance 目录 demo)"
            )
        else:
            user.role, user.display_name, user.active = demo.role, demo.display_name, True
            if not user.check_password(demo.password):
                user.set_password(demo.password)  # the printed table must stay true
        users.append(user)
    return users


def assign_demo_callbacks(session: Session, dealership_id: int, agent_ids: list[int]) -> int:
    """Share the open callbacks between the demo agents, once; every third stays unassigned."""
    assigned = session.scalar(
        select(func.count()).select_from(Callback).where(Callback.assigned_agent_id.in_(agent_ids))
    )
    if assigned:
        return 0
    callbacks = session.scalars(
        select(Callback)
        .join(Callback.customer)
        .where(
            Customer.dealership_id == dealership_id,
            Callback.status.in_(OPEN_CALLBACK_STATUSES),
            Callback.assigned_agent_id.is_(None),
        )
        .order_by(Callback.due_at, Callback.id)
    ).all()
    owners: list[int | None] = [*agent_ids, None]  # agents also see a shared, unassigned pool
    count = 0
    for position, callback in enumerate(callbacks):
        owner = owners[position % len(owners)]
        if owner is not None:
            callback.assigned_agent_id = owner
            count += 1
    return count


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table whose columns line up with Chinese text in a terminal."""
    widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _import_sample(app: AppContext, dealer: Dealership, settings: Settings) -> None:
    from callcenter.demo.sample_dms import write_sample_export
    from callcenter.importer import ImportReport, RowError, import_file
    from callcenter.importer.report import empty_counts

    today = datetime.now(ZoneInfo(dealer.timezone)).date()
    export_dir = settings.instance_dir / "demo"
    export_dir.mkdir(parents=True, exist_ok=True)
    path = write_sample_export(export_dir / "dms_export.csv", today=today)
    click.echo(f"\n示例 DMS 导出文件: {path}")
    sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    with session_scope(app.sessions) as session:
        # the same file imports to the same rows; skipping it also keeps the import log unchanged
        previous = session.scalar(
            select(ImportRun)
            .where(ImportRun.dealership_id == dealer.id, ImportRun.sha256 == sha256)
            .order_by(ImportRun.id.desc())
            .limit(1)
        )
        if previous is None:
            report = import_file(session, path, dealership_id=dealer.id, settings=settings)
        else:
            click.echo(f"同一文件已于导入记录 #{previous.id} 导入过,本次跳过。上次的导入报告:")
            report = ImportReport(
                filename=previous.filename,
                rows_total=previous.rows_total,
                rows_imported=previous.rows_imported,
                errors=[RowError(**error) for error in previous.errors],
                counts=previous.summary.get("counts") or empty_counts(),
                ignored_headers=previous.summary.get("ignored_headers", []),
                import_run_id=previous.id,
            )
    click.echo(report.format())


def _schedule(app: AppContext, settings: Settings) -> None:
    from callcenter.schedule import schedule_callbacks

    with session_scope(app.sessions) as session:
        result = schedule_callbacks(session, settings)
    click.echo("\n" + result.format())


DEMO_EXTENSIONS = {"agent1": "8001", "agent2": "8002"}


def _demo_calls(app: AppContext, dealer: Dealership) -> list[ChildSpec]:
    """Point the engine at a local customer simulator and ask it for three click-to-calls:
    two customers who answer (one complains), one busy line. Returns the simulator's child."""
    from callcenter.demo.calls import DemoLine, run_simulator, write_scripts
    from callcenter.phone import normalise_phone
    from callcenter.telephony.service import request_click_to_call

    settings = app.settings
    line = DemoLine.free()
    telephony = settings.telephony
    telephony.enabled, telephony.registrar = True, ""
    telephony.sip_port, telephony.rtp_port = line.engine_port, line.rtp_port
    telephony.domain = f"127.0.0.1:{line.simulator_port}"
    telephony.max_channels = 2  # one simulator process answers four calls at once
    with session_scope(app.sessions) as session:
        agents = {
            u.username: u
            for u in session.scalars(select(User).where(User.dealership_id == dealer.id))
        }
        for username, extension in DEMO_EXTENSIONS.items():
            agents[username].sip_extension = extension
        agent = agents["agent1"]
        callbacks = session.scalars(
            select(Callback)
            .join(Callback.customer)
            .where(
                Callback.assigned_agent_id == agent.id,
                Callback.kind == "service_3dc",
                Callback.status.in_(OPEN_CALLBACK_STATUSES),
            )
            .order_by(Callback.due_at, Callback.id)
            .limit(3)
        ).all()
        numbers = [normalise_phone(c.customer.phone) for c in callbacks]
        for callback, number in zip(callbacks, numbers, strict=True):
            request_click_to_call(session, agent, number, callback=callback)
    folder = write_scripts(
        settings.instance_dir / "demo" / "simulator",
        list(DEMO_EXTENSIONS.values()),
        talking=numbers[:2],
        busy=numbers[2:],
    )
    click.echo(
        f"\n示范电话: 模拟客户在 127.0.0.1:{line.simulator_port},已为回访员"
        f"{agent.display_name}发起 {len(numbers)} 通点击呼叫(两通接听、一通占线),"
        "录音和转写稍后出现在通话记录中"
    )
    return [ChildSpec("simulator", run_simulator, (folder, line))]


@click.command("demo")
@click.option("--port", type=int, help="监听端口(默认 5000,取设置 web.port)")
@click.option("--no-serve", is_flag=True, help="只准备示范数据,不启动控制台")
@click.option("--no-calls", is_flag=True, help="不拨打示范电话")
@pass_app
def demo(app: AppContext, port: int | None, no_serve: bool, no_calls: bool) -> None:
    """准备示范经销商、用户和示例数据,然后启动控制台。"""
    settings = app.settings
    init_db(settings)
    try:
        with session_scope(app.sessions) as session:
            dealer = ensure_demo_dealership(session)
            users = ensure_demo_users(session, dealer)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"示范经销商: {dealer.name}(代码 {dealer.code},时区 {dealer.timezone})\n")
    click.echo(
        format_table(
            ["用户名", "角色", "姓名", "密码"],
            [[u.username, ROLE_LABELS[u.role], u.display_name, u.password] for u in DEMO_USERS],
        )
    )
    _import_sample(app, dealer, settings)
    _schedule(app, settings)
    with session_scope(app.sessions) as session:
        agents = [u for u in users if u.role == Role.AGENT]
        count = assign_demo_callbacks(session, dealer.id, [agent.id for agent in agents])
    if count:
        names = "、".join(agent.display_name for agent in agents)
        click.echo(f"\n已将 {count} 条待回访分配给回访员 {names},其余留作公共队列")
    if not no_serve:
        first = [] if no_calls else _demo_calls(app, dealer)
        click.echo("")
        run_embedded(app, settings.web.host, port or settings.web.port, first)


COMMANDS: list[click.Command] = [serve, demo]
