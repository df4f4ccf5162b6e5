"""The console's click-to-call API: a request becomes a Call the engine picks up; its live state
is readable by its agent and the supervisors only; the hang-up button."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from callcenter.models import Call, Dealership, User, utcnow
from tests.test_web_base import add_callback


def test_agent_starts_follows_and_hangs_up_a_call(
    session: Session,
    dealership: Dealership,
    users: dict[str, User],
    agent_client: FlaskClient,
    supervisor_client: FlaskClient,
) -> None:
    agent = users["agent"]
    agent.sip_extension = "8001"
    session.commit()
    callback = add_callback(
        session,
        dealership,
        customer_name="张伟",
        phone="13812345678",
        due_at=utcnow() + timedelta(days=1),
        agent=agent,
    )
    started = agent_client.post("/api/calls", json={"callback_id": callback.id})
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    assert body["live_state"] == "requested" and body["label"] == "正在连接电话引擎"
    call = session.get(Call, body["id"])
    assert call is not None
    assert (call.agent_phone, call.customer_number) == ("8001", "13812345678")
    assert call.callback_id == callback.id and call.template_id == "service_3dc"

    # what the engine reports shows up
    call.live_state = "bridged"
    session.commit()
    state = agent_client.get(f"/api/calls/{call.id}").get_json()
    assert state["live_state"] == "bridged" and state["label"] == "通话中(录音)"
    assert supervisor_client.get(f"/api/calls/{call.id}").status_code == 200

    hung = agent_client.post(f"/api/calls/{call.id}/hangup")
    assert hung.status_code == 202
    session.refresh(call)
    assert call.hangup_requested_at is not None

    call.live_state, call.disposition = "ended", "busy"
    session.commit()
    ended = agent_client.get(f"/api/calls/{call.id}").get_json()
    assert ended["disposition_label"] == "占线"
    assert agent_client.post(f"/api/calls/{call.id}/hangup").status_code == 409


def test_calls_are_private_and_requests_checked(
    app: object,
    session: Session,
    dealership: Dealership,
    users: dict[str, User],
    agent_client: FlaskClient,
    client: FlaskClient,
) -> None:
    other = User(
        dealership=dealership,
        username="agent2",
        display_name="苏婉清",
        role="agent",
        password_hash="x",
        sip_extension="8002",
    )
    session.add(other)
    session.commit()
    theirs = add_callback(
        session, dealership, customer_name="李娜", due_at=utcnow() + timedelta(days=1), agent=other
    )
    mine = add_callback(
        session,
        dealership,
        customer_name="王芳",
        due_at=utcnow() + timedelta(days=1),
        agent=users["agent"],
    )
    call = Call(agent_id=other.id, callback_id=theirs.id, live_state="bridged")
    session.add(call)
    session.commit()

    assert agent_client.get(f"/api/calls/{call.id}").status_code == 404
    assert agent_client.post(f"/api/calls/{call.id}/hangup").status_code == 404
    assert agent_client.post("/api/calls", json={"callback_id": theirs.id}).status_code == 404
    assert agent_client.post("/api/calls", json={}).status_code == 400
    no_phone = agent_client.post("/api/calls", json={"callback_id": mine.id})
    assert no_phone.status_code == 409  # this agent has no extension yet
    assert "分机号" in no_phone.get_json()["error"]
    anonymous = client.get(f"/api/calls/{call.id}")
    assert anonymous.status_code in (302, 401)
