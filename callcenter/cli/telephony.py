"""``callcenter telephony`` (the SIP engine service, a test call, registration state) and
``callcenter simulate-customer``."""

from __future__ import annotations

import dataclasses
import json
import queue
import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

import click

from callcenter.cli.context import AppContext, pass_app


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def _event_dict(event: Any) -> dict[str, Any]:
    data = {"type": type(event).__name__, **dataclasses.asdict(event)}
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in data.items()}


@click.group("telephony", invoke_without_command=True)
@click.pass_context
def telephony(ctx: click.Context) -> None:
    """运行电话引擎(注册到 PBX/中继,执行控制台发起的点击呼叫并录音)。"""
    if ctx.invoked_subcommand is None:
        from callcenter.db import init_db
        from callcenter.telephony.service import run_service

        app: AppContext = ctx.obj
        init_db(app.settings)
        app.close()
        try:
            run_service(app.settings, stop=_stop_on_signals())
        except Exception as exc:  # the engine's own errors carry a readable reason
            raise click.ClickException(str(exc)) from exc


@telephony.command("call")
@click.option("--agent", "agent", required=True, help="坐席话机:分机号或 SIP URI")
@click.option("--customer", "customer", required=True, help="客户:电话号码或 SIP URI")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="双声道录音写到这里",
)
@click.option("--hangup-after", type=float, help="接通后多少秒由坐席挂断")
@click.option("--dtmf", default="", help="接通后向客户发送的按键")
@click.option("--dtmf-after", type=float, default=1.0, help="接通后多少秒发送按键")
@click.option("--port", type=int, help="本机 SIP 端口(默认取设置 telephony.sip_port)")
@pass_app
def call_command(
    app: AppContext,
    agent: str,
    customer: str,
    out: Path,
    hangup_after: float | None,
    dtmf: str,
    dtmf_after: float,
    port: int | None,
) -> None:
    """打一通测试电话:先呼坐席,接听后呼客户并桥接录音;每个事件输出一行 JSON。"""
    from callcenter.telephony.dialplan import DialPlanError
    from callcenter.telephony.endpoint import SipError
    from callcenter.telephony.engine import Engine
    from callcenter.telephony.events import CallEvent, LiveState, RecordingEvent

    settings = app.settings.telephony
    if port is not None:
        settings = dataclasses.replace(settings, sip_port=port)
    plan = settings.dial_plan()
    try:
        agent_uri, customer_uri = plan.agent_uri(agent), plan.customer_uri(customer)
    except DialPlanError as exc:
        raise click.ClickException(str(exc)) from exc
    engine = Engine(settings.sip_config(), settings.account(), settings.limits())
    try:
        engine.start()
    except SipError as exc:
        raise click.ClickException(str(exc)) from exc
    stop = _stop_on_signals()
    engine.click_to_call("1", agent_uri, customer_uri, out.resolve())
    bridged_at: float | None = None
    sent = finished = False
    code = 1

    def show(event: Any) -> None:
        nonlocal bridged_at, code, finished
        click.echo(json.dumps(_event_dict(event), ensure_ascii=False))
        if isinstance(event, CallEvent) and event.state == LiveState.BRIDGED:
            bridged_at = time.monotonic()
        if isinstance(event, CallEvent) and event.state == LiveState.ENDED:
            code, finished = 0, bridged_at is None  # no recording to wait for
        if isinstance(event, RecordingEvent):
            code, finished = (0 if event.path is not None else 1), True

    try:
        while not stop.is_set() and not finished:
            now = time.monotonic()
            if bridged_at is not None:
                if dtmf and not sent and now - bridged_at >= dtmf_after:
                    engine.send_dtmf("1", dtmf)
                    sent = True
                if hangup_after is not None and now - bridged_at >= hangup_after:
                    engine.hangup("1")
                    hangup_after = None
            try:
                show(engine.events.get(timeout=0.05))
            except queue.Empty:
                continue
    finally:
        engine.stop()  # on Ctrl+C / SIGTERM too: the call is hung up and its recording finished
        while True:
            try:
                show(engine.events.get_nowait())
            except queue.Empty:
                break
    if code:
        raise SystemExit(code)


@telephony.command("status")
@pass_app
def status_command(app: AppContext) -> None:
    """显示电话引擎的注册状态、心跳和进行中的通话。"""
    from sqlalchemy import func, select

    from callcenter.db import init_db, session_scope
    from callcenter.models import Call, TelephonyStatus
    from callcenter.telephony.service import LIVE

    init_db(app.settings)
    with session_scope(app.sessions) as session:
        engines = session.scalars(select(TelephonyStatus).order_by(TelephonyStatus.engine)).all()
        live = session.scalar(
            select(func.count()).select_from(Call).where(Call.live_state.in_(list(LIVE)))
        )
        if not engines:
            click.echo("还没有电话引擎运行过(callcenter serve 或 callcenter telephony)")
        for status in engines:
            state = "已注册" if status.registered else "未注册"
            detail = " ".join(str(x) for x in (status.status_code, status.reason) if x)
            click.echo(
                f"{status.engine}: {state} {status.account_uri or ''} {detail};"
                f"通话中 {status.active_calls};最近心跳 {status.seen_at:%Y-%m-%d %H:%M:%S} UTC"
            )
        click.echo(f"进行中的通话: {live}")


@click.command("simulate-customer")
@click.option("--listen", default="127.0.0.1:5072", show_default=True, help="SIP 监听地址:端口")
@click.option(
    "--scripts",
    "scripts_path",
    type=click.Path(path_type=Path, exists=True),
    required=True,
    help="脚本目录(<用户>.yaml,其余用 default.yaml)或单个脚本文件",
)
@click.option("--rtp-port", type=int, default=42000, show_default=True)
@click.option("--transport", type=click.Choice(["udp", "tcp"]), default="udp", show_default=True)
@click.option(
    "--heard",
    type=click.Path(path_type=Path, file_okay=False),
    help="把每通电话听到的声音录到此目录",
)
@click.option(
    "--log", "log_path", type=click.Path(path_type=Path, dir_okay=False), help="每个事件一行 JSON"
)
@click.option("--registrar", default="", help="把每个脚本用户注册到此 SIP 注册服务器")
@click.option("--password", default="", envvar="CALLCENTER_SIMULATOR_PASSWORD")
@click.option("--sip-log", type=click.IntRange(0, 6), default=0, help="pjsip 日志级别(0–6)")
def simulate_customer(
    listen: str,
    scripts_path: Path,
    rtp_port: int,
    transport: str,
    heard: Path | None,
    log_path: Path | None,
    registrar: str,
    password: str,
    sip_log: int,
) -> None:
    """模拟客户(或坐席话机):按脚本接听/占线/拒接/不接,播放录音、按键、挂断。"""
    from callcenter.telephony.endpoint import SipConfig, SipError
    from callcenter.telephony.simulator import ScriptError, Simulator, load_script, load_scripts

    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter("应为 地址:端口,如 127.0.0.1:5072", param_hint="--listen")
    try:
        if scripts_path.is_dir():
            scripts = load_scripts(scripts_path)
        else:
            scripts = {"default": load_script(scripts_path)}
    except ScriptError as exc:
        raise click.ClickException(str(exc)) from exc
    if not scripts:
        raise click.ClickException(f"{scripts_path} 中没有 .yaml 脚本")
    stop = _stop_on_signals()
    sip = SipConfig(
        bind_address=host,
        sip_port=int(port),
        rtp_port=rtp_port,
        transport=transport,
        log_level=sip_log,
    )
    log_file = log_path.open("a", encoding="utf-8") if log_path else None
    ready = threading.Event()

    def announce() -> None:
        if ready.wait(30):
            click.echo(f"模拟客户已在 {listen} 监听,脚本: {', '.join(sorted(scripts))}")

    threading.Thread(target=announce, daemon=True).start()
    try:
        Simulator(sip, scripts, heard, log_file, registrar, password).run(stop, ready)
    except SipError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        if log_file is not None:
            log_file.close()


COMMANDS: list[click.Command] = [telephony, simulate_customer]
