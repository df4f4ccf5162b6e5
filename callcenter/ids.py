"""Domain identifiers from BRIEF.md and CONTRACTS.md, used everywhere (database, JSON, UI keys)."""

from enum import StrEnum


class CallbackKind(StrEnum):
    """Callback kinds (回访类型) and the template id of the same name."""

    SERVICE_3DC = "service_3dc"
    SALES_7DC = "sales_7dc"
    LOST_CUSTOMER = "lost_customer"
    FIRST_SERVICE_REMINDER = "first_service_reminder"
    SERVICE_REMINDER = "service_reminder"
    COMPLAINT_FOLLOWUP = "complaint_followup"


CALLBACK_KIND_LABELS: dict[str, str] = {
    CallbackKind.SERVICE_3DC: "售后三日回访(3DC)",
    CallbackKind.SALES_7DC: "新车七日回访(7DC)",
    CallbackKind.LOST_CUSTOMER: "流失客户回访",
    CallbackKind.FIRST_SERVICE_REMINDER: "首保提醒",
    CallbackKind.SERVICE_REMINDER: "保养提醒",
    CallbackKind.COMPLAINT_FOLLOWUP: "投诉回访",
}


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


ROLE_LABELS: dict[str, str] = {
    Role.AGENT: "回访员",
    Role.SUPERVISOR: "客服经理",
    Role.ADMIN: "管理员",
}


class VisitKind(StrEnum):
    MAINTENANCE = "maintenance"
    REPAIR = "repair"
    INSURANCE = "insurance"


VISIT_KIND_LABELS: dict[str, str] = {
    VisitKind.MAINTENANCE: "保养",
    VisitKind.REPAIR: "维修",
    VisitKind.INSURANCE: "事故/保险",
}


class CallbackStatus(StrEnum):
    PENDING = "pending"  # waiting to be called
    IN_PROGRESS = "in_progress"  # a call is being placed or is up
    RESCHEDULED = "rescheduled"  # customer asked to be called at rescheduled_for
    COMPLETED = "completed"  # customer reached and answered (a valid callback)
    CLOSED = "closed"  # ended without a valid callback (refused, wrong number, attempts used up)
    CANCELLED = "cancelled"  # no longer needed (DNC added, duplicate, …)


OPEN_CALLBACK_STATUSES = frozenset(
    {CallbackStatus.PENDING, CallbackStatus.IN_PROGRESS, CallbackStatus.RESCHEDULED}
)


class Outcome(StrEnum):
    """Call outcome (CONTRACTS.md `outcome`)."""

    COMPLETED = "completed"
    RESCHEDULE = "reschedule"
    REFUSED = "refused"
    WRONG_NUMBER = "wrong_number"
    INCOMPLETE = "incomplete"


class PipelineState(StrEnum):
    """Where a recorded call is in the processing pipeline; the Call row is the truth."""

    PENDING = "pending"  # call not finished / no recording yet
    RECORDED = "recorded"
    TRANSCRIBED = "transcribed"
    SCORED = "scored"
    DONE = "done"
    FAILED = "failed"


class SipDisposition(StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    REJECTED = "rejected"
    INVALID_NUMBER = "invalid_number"
    UNREACHABLE = "unreachable"
    HANGUP_CUSTOMER = "hangup_customer"
    HANGUP_AGENT = "hangup_agent"
    FAILED = "failed"


class ComplaintCategory(StrEnum):
    WAIT_TIME = "wait_time"
    CLEANLINESS = "cleanliness"
    INVOICE_EXPLANATION = "invoice_explanation"
    REPAIR_QUALITY = "repair_quality"
    ATTITUDE = "attitude"
    PRICE = "price"
    PARTS = "parts"
    FACILITIES = "facilities"
    APPOINTMENT = "appointment"
    OTHER = "other"


COMPLAINT_CATEGORY_LABELS: dict[str, str] = {
    ComplaintCategory.WAIT_TIME: "等待时间长",
    ComplaintCategory.CLEANLINESS: "车辆清洁",
    ComplaintCategory.INVOICE_EXPLANATION: "结算解释",
    ComplaintCategory.REPAIR_QUALITY: "维修质量/返修",
    ComplaintCategory.ATTITUDE: "服务态度",
    ComplaintCategory.PRICE: "价格/收费",
    ComplaintCategory.PARTS: "配件不及时",
    ComplaintCategory.FACILITIES: "休息区/设施",
    ComplaintCategory.APPOINTMENT: "预约",
    ComplaintCategory.OTHER: "其他",
}


class TicketStatus(StrEnum):
    OPEN = "open"  # waiting for first contact
    CONTACTED = "contacted"  # first contact made, being handled
    RESOLVED = "resolved"  # handled, waiting for the complaint_followup callback
    CLOSED = "closed"  # follow-up done


class Answer(StrEnum):
    """Rating values (CONTRACTS.md `ratings`)."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    DISSATISFIED = "dissatisfied"
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


SCALE_SCORES: dict[str, int] = {
    Answer.VERY_SATISFIED: 100,
    Answer.SATISFIED: 80,
    Answer.NEUTRAL: 60,
    Answer.DISSATISFIED: 0,
}
