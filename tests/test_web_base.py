"""The console's base: login, the agent's queue, role checks and secure defaults."""

from __future__ import annotations

import re
import stat
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from callcenter.config import Settings
from callcenter.ids import CallbackKind, CallbackStatus, Role, VisitKind
from callcenter.models import Callback, Customer, Dealership, Sale, ServiceVisit, User, Vehicle
from tests.conftest import USER_PASSWORDS, login
from web import create_app
from web.extensions import database
from web.security import roles_required

_serial = count(1)


def add_callback(
    session: Session,
    dealer: Dealership,
    *,
    customer_name: str,
    phone: str = "13812345678",
    kind: str = CallbackKind.SERVICE_3DC,
    due_at: datetime,
    agent: User | None = None,
    status: str = CallbackStatus.PENDING,
    attempts: int = 0,
    plate: str = "粤A12345",
    model: str = "迈腾",
    advisor: str = "李师傅",
    delivered_at: datetime | None = None,
) -> Callback:
    """A customer with a car, a visit (or a sale for 7DC) and one callback for it."""
    n = next(_serial)
    customer = Customer(dealership=dealer, name=customer_name, phone=phone)
    vehicle = Vehicle(customer=customer, vin=f"LFV2A21K{n:09d}", plate=plate, model=model)
    delivered = delivered_at or due_at - timedelta(days=2)
    callback = Callback(
        dedupe_key=f"test:{n}",
        kind=kind,
        customer=customer,
        due_at=due_at,
        status=status,
        assigned_agent=agent,
        attempts=attempts,
    )
    if kind == CallbackKind.SALES_7DC:
        callback.sale = Sale(
            customer=customer, vehicle=vehicle, sales_consultant=advisor, delivered_at=delivered
        )
    else:
        callback.visit = ServiceVisit(
            customer=customer,
            vehicle=vehicle,
            repair_order_no=f"RO{n:06d}",
            kind=VisitKind.MAINTENANCE,
            service_advisor=advisor,
            delivered_at=delivered,
        )
    session.add(callback)
    session.commit()
    return callback


def queue_names(client: FlaskClient, query: str = "") -> list[str]:
    """Customer names in the queue table, in page order."""
    response = client.get(f"/callbacks/{query}")
    assert response.status_code == 200
    return re.findall(r'<td class="customer">([^<]+)</td>', response.get_data(as_text=True))


# --- login and logout ------------------------------------------------------------------------


def test_login_redirects_to_next_and_records_last_login(
    client: FlaskClient, users: dict[str, User], session: Session
) -> None:
    response = client.get("/callbacks/?kind=sales_7dc")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/auth/login?next=")

    page = client.get(login_url).get_data(as_text=True)
    assert 'value="/callbacks/?kind=sales_7dc"' in page  # next carried in the form

    agent = users["agent"]
    assert agent.last_login_at is None
    response = client.post(
        "/auth/login",
        data={
            "username": agent.username,
            "password": USER_PASSWORDS[Role.AGENT],
            "next": "/callbacks/?kind=sales_7dc",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/callbacks/?kind=sales_7dc"
    session.refresh(agent)
    assert agent.last_login_at is not None
    assert datetime.now(UTC) - agent.last_login_at < timedelta(minutes=1)
    assert client.get("/callbacks/").status_code == 200


@pytest.mark.parametrize(
    ("username", "password"),
    [("agent1", "wrong-password"), ("nobody", "agent-pass-1"), ("agent1", "")],
)
def test_bad_login_gets_a_generic_message(
    client: FlaskClient, users: dict[str, User], username: str, password: str
) -> None:
    response = client.post("/auth/login", data={"username": username, "password": password})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    if password:
        assert "用户名或密码错误" in page
    else:
        assert "请输入密码" in page
    assert client.get("/callbacks/").status_code == 302  # still not logged in


def test_inactive_user_is_refused_and_loses_an_open_session(
    app: Flask, users: dict[str, User], session: Session
) -> None:
    agent = users["agent"]
    logged_in = login(app.test_client(), agent.username, USER_PASSWORDS[Role.AGENT])
    session.refresh(agent)
    first_login = agent.last_login_at
    assert first_login is not None
    agent.active = False
    session.commit()

    assert logged_in.get("/callbacks/").status_code == 302  # the old session no longer works
    response = app.test_client().post(
        "/auth/login", data={"username": agent.username, "password": USER_PASSWORDS[Role.AGENT]}
    )
    assert response.status_code == 200
    assert "该账号已停用" in response.get_data(as_text=True)
    session.refresh(agent)
    assert agent.last_login_at == first_login  # a refused login is not recorded as a login


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_next_only_redirects_to_local_paths(
    client: FlaskClient, users: dict[str, User], target: str
) -> None:
    response = client.post(
        "/auth/login",
        data={"username": "agent1", "password": USER_PASSWORDS[Role.AGENT], "next": target},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_logout_ends_the_session(agent_client: FlaskClient) -> None:
    assert agent_client.get("/callbacks/").status_code == 200
    assert agent_client.get("/auth/logout").status_code == 405  # a link cannot log you out
    response = agent_client.post("/auth/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    assert "已退出登录" in agent_client.get("/auth/login").get_data(as_text=True)
    assert agent_client.get("/callbacks/").status_code == 302


def test_every_route_needs_a_login(app: Flask, client: FlaskClient) -> None:
    public = {"static", "auth.login", "main.healthz"}
    checked = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in public:
            continue
        url = rule.build(dict.fromkeys(rule.arguments, "1"))[1]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 302, (method, url)
            assert response.headers["Location"].startswith("/auth/login?next="), (method, url)
            checked.append((method, rule.endpoint))
    assert {e for _, e in checked} >= {"main.index", "callbacks.queue", "auth.logout"}


def test_healthz_answers_without_login(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_roles_required_allows_only_the_named_roles(
    settings: Settings, engine: object, users: dict[str, User]
) -> None:
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False}, settings=settings)

    @roles_required(Role.SUPERVISOR, Role.ADMIN)
    def reviews() -> str:
        return "reviews page"

    app.add_url_rule("/reviews-for-test", view_func=reviews)
    try:
        assert app.test_client().get("/reviews-for-test").status_code == 302
        for role, expected in [("agent", 403), ("supervisor", 200), ("admin", 200)]:
            client = login(app.test_client(), users[role].username, USER_PASSWORDS[role])
            response = client.get("/reviews-for-test")
            assert response.status_code == expected, role
        assert "您没有权限" in response.get_data(as_text=True) or expected == 200
    finally:
        database(app).engine.dispose()
    with pytest.raises(ValueError):
        roles_required("manager")


# --- the queue -------------------------------------------------------------------------------


def test_agent_sees_own_and_unassigned_callbacks_supervisor_sees_all(
    app: Flask,
    session: Session,
    dealership: Dealership,
    users: dict[str, User],
    agent_client: FlaskClient,
    supervisor_client: FlaskClient,
    admin_client: FlaskClient,
) -> None:
    other_agent = User(
        dealership=dealership, username="agent2", display_name="刘洋", role=Role.AGENT
    )
    other_agent.set_password("agent2-pass")
    other_dealer = Dealership(code="other", name="别家4S店")
    session.add_all([other_agent, other_dealer])
    session.commit()
    soon = datetime.now(UTC) + timedelta(days=1)
    add_callback(session, dealership, customer_name="张三", due_at=soon, agent=users["agent"])
    add_callback(session, dealership, customer_name="李四", due_at=soon, agent=other_agent)
    add_callback(session, dealership, customer_name="王五", due_at=soon)
    add_callback(
        session,
        dealership,
        customer_name="赵六",
        due_at=soon,
        agent=users["agent"],
        status=CallbackStatus.COMPLETED,
    )
    add_callback(session, other_dealer, customer_name="钱七", due_at=soon)

    assert sorted(queue_names(agent_client)) == ["张三", "王五"]
    assert sorted(queue_names(supervisor_client)) == ["张三", "李四", "王五"]
    assert sorted(queue_names(admin_client)) == ["张三", "李四", "王五"]
    # supervisors see who holds each callback
    page = supervisor_client.get("/callbacks/").get_data(as_text=True)
    assert "刘洋" in page and "未分配" in page


def test_queue_orders_by_due_time_and_highlights_overdue(
    session: Session, dealership: Dealership, agent_client: FlaskClient
) -> None:
    now = datetime.now(UTC)
    add_callback(session, dealership, customer_name="后天", due_at=now + timedelta(days=2))
    add_callback(session, dealership, customer_name="昨天", due_at=now - timedelta(days=1))
    add_callback(session, dealership, customer_name="明天", due_at=now + timedelta(days=1))

    assert queue_names(agent_client) == ["昨天", "明天", "后天"]
    page = agent_client.get("/callbacks/").get_data(as_text=True)
    rows = re.findall(r'<tr class="([^"]*)" data-callback-id="\d+">', page)
    assert rows == ["overdue", "", ""]
    assert page.count("已逾期") == 1


def test_kind_filter(session: Session, dealership: Dealership, agent_client: FlaskClient) -> None:
    soon = datetime.now(UTC) + timedelta(days=1)
    add_callback(session, dealership, customer_name="保养客户", due_at=soon)
    add_callback(
        session, dealership, customer_name="新车客户", due_at=soon, kind=CallbackKind.SALES_7DC
    )

    assert queue_names(agent_client, "?kind=sales_7dc") == ["新车客户"]
    assert queue_names(agent_client, "?kind=service_3dc") == ["保养客户"]
    assert sorted(queue_names(agent_client)) == ["保养客户", "新车客户"]
    assert sorted(queue_names(agent_client, "?kind=no-such-kind")) == ["保养客户", "新车客户"]
    page = agent_client.get("/callbacks/?kind=sales_7dc").get_data(as_text=True)
    assert '<option value="sales_7dc" selected>' in page


def test_queue_row_shows_masked_phone_vehicle_visit_and_advisor(
    session: Session, dealership: Dealership, agent_client: FlaskClient
) -> None:
    add_callback(
        session,
        dealership,
        customer_name="张三",
        phone="13812345678",
        due_at=datetime.now(UTC) + timedelta(days=1),
        plate="粤B88888",
        model="速腾 1.4T",
        advisor="周顾问",
        attempts=2,
        # 18:30 UTC is 02:30 the next day in Shanghai: the page shows the local date
        delivered_at=datetime(2026, 3, 1, 18, 30, tzinfo=UTC),
    )
    add_callback(
        session,
        dealership,
        customer_name="李四",
        phone="13900001111",
        kind=CallbackKind.SALES_7DC,
        due_at=datetime.now(UTC) + timedelta(days=2),
        advisor="吴销售",
    )
    page = agent_client.get("/callbacks/").get_data(as_text=True)
    assert "138****5678" in page and "139****1111" in page
    assert "13812345678" not in page and "13900001111" not in page
    (row,) = [row for row in page.split("<tr class=")[1:] if "张三" in row]
    for text in ("粤B88888", "速腾 1.4T", "周顾问", "2026-03-02", "售后三日回访"):
        assert text in row, text
    assert re.search(r"<td>2</td>", row)  # attempts so far
    assert "吴销售" in page  # a sale shows its sales consultant


def test_pages_are_chinese_with_role_navigation(agent_client: FlaskClient) -> None:
    page = agent_client.get("/callbacks/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert "回访队列" in page and "王丽" in page and "回访员" in page
    assert "目前没有待回访的客户" in page
    assert 'action="/auth/logout"' in page


# --- secure defaults -------------------------------------------------------------------------


def test_security_headers_and_cookie_flags(client: FlaskClient, agent_client: FlaskClient) -> None:
    for response in (
        client.get("/auth/login"),
        agent_client.get("/callbacks/"),
        client.get("/static/style.css"),
        client.get("/healthz"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "http" not in csp  # nothing allowed from other hosts
        response.close()
    assert agent_client.get("/callbacks/").headers["Cache-Control"] == "no-store"

    response = client.post(
        "/auth/login", data={"username": "agent1", "password": USER_PASSWORDS[Role.AGENT]}
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("callcenter_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_csrf_is_enforced_when_enabled(
    settings: Settings, engine: object, users: dict[str, User]
) -> None:
    app = create_app({"TESTING": True}, settings=settings)  # CSRF on, as in production
    try:
        client = app.test_client()
        credentials = {"username": "agent1", "password": USER_PASSWORDS[Role.AGENT]}
        response = client.post("/auth/login", data=credentials)
        assert response.status_code == 400
        assert "安全校验码" in response.get_data(as_text=True)

        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token is not None
        response = client.post("/auth/login", data={**credentials, "csrf_token": token[1]})
        assert response.status_code == 302
        assert client.post("/auth/logout").status_code == 400  # no token: still logged in
        assert client.get("/callbacks/").status_code == 200
    finally:
        database(app).engine.dispose()


def test_secret_key_is_generated_once_and_private(settings: Settings, engine: object) -> None:
    first = create_app(settings=settings)
    key_file = settings.instance_dir / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    second = create_app(settings=settings)
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    settings.web.secret_key = "x" * 40
    assert create_app(settings=settings).secret_key == "x" * 40
    for app in (first, second):
        database(app).engine.dispose()
