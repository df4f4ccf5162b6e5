"""JSON for the console's scripts: start a click-to-call, follow its live state, hang it up.

The telephony engine takes requests and reports state through the ``Call`` row; the page polls
``GET /api/calls/<id>`` while a call is live (dialling → ringing → answered → bridged → ended).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from callcenter.ids import OPEN_CALLBACK_STATUSES
from callcenter.models import Call, Callback, Customer, User
from callcenter.telephony.events import LiveState
from callcenter.telephony.service import (
    TelephonyRequestError,
    request_click_to_call,
    request_hangup,
)
from web.extensions import db_session

bp = Blueprint("api", __name__, url_prefix="/api")

STATE_LABELS = {
    LiveState.REQUESTED: "正在连接电话引擎",
    LiveState.DIALLING: "正在呼叫",
    LiveState.RINGING: "客户振铃中",
    LiveState.ANSWERED: "客户已接听",
    LiveState.BRIDGED: "通话中(录音)",
    LiveState.ENDED: "已结束",
}
DISPOSITION_LABELS = {
    "answered": "已接通",
    "busy": "占线",
    "no_answer": "无人接听",
    "rejected": "客户拒接",
    "invalid_number": "空号/号码错误",
    "unreachable": "无法接通",
    "hangup_customer": "客户挂断",
    "hangup_agent": "坐席挂断",
    "failed": "呼叫失败",
}


def _visible_call(call_id: int) -> Call:
    """The call if this user may see it: their own, or any of the dealership's for
    supervisors and admins (404 otherwise, so ids reveal nothing)."""
    call = db_session().get(Call, call_id)
    if call is None or call.agent_id is None:
        abort(404)
    agent = db_session().get(User, call.agent_id)
    if agent is None or agent.dealership_id != current_user.dealership_id:
        abort(404)
    if not current_user.sees_all_callbacks and call.agent_id != current_user.id:
        abort(404)
    return call


def _state(call: Call) -> dict[str, Any]:
    state = call.live_state or LiveState.ENDED
    return {
        "id": call.id,
        "live_state": state,
        "label": STATE_LABELS.get(LiveState(state), state),
        "disposition": call.disposition,
        "disposition_label": DISPOSITION_LABELS.get(call.disposition or "", None),
        "sip_status_code": call.sip_status_code,
        "reason": call.end_reason,
        "duration_s": call.duration_s,
        "recorded": bool(call.recording_path),
        "pipeline_state": call.pipeline_state,
    }


@bp.post("/calls")
def start_call() -> ResponseReturnValue:
    """Click-to-call a callback's customer from the logged-in agent's phone."""
    payload = request.get_json(silent=True) or {}
    callback_id = payload.get("callback_id")
    if not isinstance(callback_id, int):
        return jsonify(error="缺少回访任务编号 callback_id(整数)"), 400
    session = db_session()
    callback = session.scalar(
        select(Callback)
        .join(Callback.customer)
        .where(Callback.id == callback_id, Customer.dealership_id == current_user.dealership_id)
    )
    if callback is None or (
        not current_user.sees_all_callbacks
        and callback.assigned_agent_id not in (None, current_user.id)
    ):
        abort(404)
    if callback.status not in OPEN_CALLBACK_STATUSES:
        return jsonify(error="该回访任务已完成,无需再拨"), 409
    agent = session.get(User, current_user.id)
    assert agent is not None  # noqa: S101 (logged in: the row exists)
    try:
        call = request_click_to_call(session, agent, callback.customer.phone, callback=callback)
    except TelephonyRequestError as exc:
        return jsonify(error=str(exc)), 409
    session.commit()
    return jsonify(_state(call)), 201


@bp.get("/calls/<int:call_id>")
def call_state(call_id: int) -> ResponseReturnValue:
    """The call's live state and, once it ended, its disposition."""
    return jsonify(_state(_visible_call(call_id)))


@bp.post("/calls/<int:call_id>/hangup")
def hang_up(call_id: int) -> ResponseReturnValue:
    """The agent's hang-up button."""
    call = _visible_call(call_id)
    if not request_hangup(db_session(), call.id):
        return jsonify(error="通话已结束", **_state(call)), 409
    db_session().commit()
    return jsonify(_state(call)), 202
