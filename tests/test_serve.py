"""``demo`` prepares the sample data once; ``serve`` runs the console and worker, stops cleanly."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.cli.serve import DEMO_USERS
from callcenter.config import Settings
from callcenter.db import make_engine, make_session_factory
from callcenter.ids import Role
from callcenter.models import Base, Callback, User
from tests.conftest import CallcenterRunner, login
from web import create_app
from web.extensions import database

REPO = Path(__file__).resolve().parent.parent
# straight to 127.0.0.1, whatever proxy the environment names
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def row_counts(session: Session) -> dict[str, int]:
    """Rows in every table of the schema."""
    return {
        table.name: session.scalar(select(func.count()).select_from(table)) or 0
        for table in Base.metadata.sorted_tables
    }


def test_demo_twice_creates_nothing_new(runner: CallcenterRunner, settings: Settings) -> None:
    first = runner.invoke("demo", "--no-serve")
    assert first.exit_code == 0, first.output
    for demo in DEMO_USERS:
        assert re.search(
            rf"{demo.username}\s+\S+\s+{demo.display_name}\s+{demo.password}", first.output
        )
    assert "有问题的行" in first.output and "第 " in first.output  # the import's bad rows
    assert "回访排程完成" in first.output
    assert (settings.instance_dir / "demo" / "dms_export.csv").is_file()

    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_session_factory(engine)
    try:
        with sessions() as session:
            before = row_counts(session)
            owners = dict(session.execute(select(Callback.id, Callback.assigned_agent_id)).all())
        assert before["dealership"] == 1 and before["user_account"] == len(DEMO_USERS)
        assert before["customer"] > 0 and before["callback"] > 0 and before["import_run"] == 1
        with sessions() as session:
            agent_ids = set(session.scalars(select(User.id).where(User.role == Role.AGENT)))
            first_agent_id = session.scalar(
                select(User.id).where(User.username == DEMO_USERS[0].username)
            )
        assert set(owners.values()) == agent_ids | {None}  # each agent has some, some are shared

        second = runner.invoke("demo", "--no-serve")
        assert second.exit_code == 0, second.output
        assert "跳过" in second.output and "有问题的行" in second.output
        with sessions() as session:
            assert row_counts(session) == before
            again = dict(session.execute(select(Callback.id, Callback.assigned_agent_id)).all())
        assert again == owners
    finally:
        engine.dispose()

    # the printed demo passwords log in, and an agent's queue holds its own and shared callbacks
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=settings)
    try:
        agent = DEMO_USERS[0]
        client = login(app.test_client(), agent.username, agent.password)
        page = client.get("/callbacks/").get_data(as_text=True)
        visible = sum(1 for owner in owners.values() if owner in (first_agent_id, None))
        assert f"共 {visible} 条待回访" in page
    finally:
        database(app).engine.dispose()


# --- a real server process ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children_of(pid: int) -> set[int]:
    """Live processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_for(check: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def healthy(base: str) -> bool:
    try:
        with DIRECT.open(f"{base}/healthz", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.mark.slow
def test_serve_runs_console_and_worker_and_stops_on_sigterm(
    runner: CallcenterRunner, settings: Settings, tmp_path: Path
) -> None:
    assert runner.invoke("init-db").exit_code == 0
    assert runner.invoke("create-dealership", "--code", "gz01", "--name", "广州店").exit_code == 0
    created = runner.invoke(
        "create-user", "wangli", "--role", "agent", "--name", "王丽", "--password", "s3cret-pw"
    )
    assert created.exit_code == 0, created.output

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLCENTER_")}
    env["CALLCENTER_TELEPHONY__SIP_PORT"] = str(free_port())
    env["CALLCENTER_TELEPHONY__RTP_PORT"] = str(20000 + 2 * (free_port() % 10000))
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "callcenter", "--instance", settings.instance_path]
            + ["serve", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: healthy(base) or server.poll() is not None, 60, "/healthz")
        assert server.poll() is None, log_path.read_text()
        output = log_path.read_text()
        assert f"http://127.0.0.1:{port}" in output
        assert "已启动 web" in output and "已启动 worker" in output
        assert "已启动 telephony" in output

        # log in through the real form, with the CSRF token and session cookie a browser keeps
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(CookieJar())
        )
        with opener.open(f"{base}/auth/login", timeout=10) as response:
            assert response.status == 200
            page = response.read().decode("utf-8")
        assert '<html lang="zh-CN">' in page and "登录客服回访中心" in page
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token is not None
        form = {"csrf_token": token[1], "username": "wangli", "password": "s3cret-pw"}
        body = urllib.parse.urlencode(form).encode()
        with opener.open(f"{base}/auth/login", data=body, timeout=10) as response:
            assert response.status == 200
            assert response.url == f"{base}/callbacks/"
            queue = response.read().decode("utf-8")
        assert "回访队列" in queue and "王丽(回访员)" in queue

        # a child that dies is started again
        web_pid = int(re.findall(r"已启动 web \(pid (\d+)\)", log_path.read_text())[-1])
        os.kill(web_pid, signal.SIGKILL)
        wait_for(lambda: not is_running(web_pid), 10, "the killed web child to go")
        wait_for(lambda: healthy(base), 30, "the web child to be restarted")
        assert "web 意外退出(被信号 SIGKILL 结束)" in log_path.read_text()

        children = children_of(server.pid)
        assert len(children) >= 3, children  # web, worker, telephony (and a tracker)
        assert web_pid not in children

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, log_path.read_text()
        wait_for(lambda: not any(is_running(pid) for pid in children), 10, "children to exit")
        assert "所有服务进程已停止" in log_path.read_text()
        assert not healthy(base)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
