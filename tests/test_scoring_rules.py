"""The scorer against the labelling rules of CONTRACTS.md and LABELLING.md, on small calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from callcenter.scoring import (
    TemplateError,
    TranscriptFormatError,
    load_template,
    qa_score,
    score_transcript,
)
from callcenter.scoring.types import ComplianceResult

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALL_TIME = datetime(2026, 11, 20, 10, 15, tzinfo=SHANGHAI)  # a Friday morning

Turn = tuple[str, str]


def call(*turns: Turn) -> dict[str, Any]:
    """A CONTRACTS.md transcript; each turn starts half a second after the previous one ends."""
    segments = []
    t = 0.5
    for speaker, text in turns:
        length = max(1.0, 0.25 * len(text))
        segments.append({"speaker": speaker, "start": t, "end": round(t + length, 2), "text": text})
        t = round(t + length + 0.5, 2)
    return {"audio": "test.wav", "duration": t, "language": "zh", "segments": segments}


def score(*turns: Turn, template: str = "service_3dc") -> dict[str, Any]:
    """The CONTRACTS.md score of a call made of ``turns``."""
    return score_transcript(call(*turns), template, call_time=CALL_TIME).to_dict()


def within(evidence: dict[str, Any] | None, turn: Turn, turns: tuple[Turn, ...]) -> bool:
    """Whether ``evidence`` points into the segment of ``turn`` (its first occurrence)."""
    segment = call(*turns)["segments"][turns.index(turn)]
    return evidence is not None and segment["start"] <= evidence["start"] <= segment["end"]


def passed(result: dict[str, Any]) -> dict[str, bool | None]:
    """Compliance item → passed."""
    return {item: r["passed"] for item, r in result["compliance"].items()}


def agent(text: str) -> Turn:
    return ("agent", text)


def customer(text: str) -> Turn:
    return ("customer", text)


# --- building blocks of a service call --------------------------------------------------------

GREETING = agent("您好,请问是张建国张先生吗?")
OPENING = (
    GREETING,
    customer("对,我是。"),
    agent("张先生您好,我是水贝一汽-大众4S店的客服专员小林,请问您现在方便接听电话吗?"),
    customer("方便,你说吧。"),
    agent("您上周五来我们店保养过您的车,是吗?"),
    customer("对,是的。"),
)
INTRO = agent("我是水贝一汽-大众4S店的客服专员小林,请问您现在方便接听电话吗?")  # no 您好
INVITE = agent("好的。您对我们服务站的服务工作还有没有什么意见和要求呢?")
NO_OPINION = customer("没有了,挺好的。")
GOODBYE = agent("非常感谢您的配合,祝您用车愉快,有问题随时打我们的服务电话,再见!")
CLOSING = (INVITE, NO_OPINION, GOODBYE, customer("好,再见。"))
APOLOGY = agent("很抱歉,稍后我会提醒我们的工作人员下次注意。")

Q01 = agent("请问这次是您亲自把车开过来保养的吗?")
Q02 = agent("您来我们店之前有预约吗?")
Q03 = agent("保养开始之前,接待人员对要做的工作的解释,您是非常满意、满意、一般还是不满意?")
Q08 = agent("我们有没有正确地完成这次保养,有没有出现重复维修的情况?")
Q09 = agent("交车时车子的干净整洁程度,您是非常满意、满意、一般还是不满意?")
Q12 = agent("接车和交车时等待的时间,您是非常满意、满意、一般还是不满意?")
Q13 = agent("交车的时候服务顾问有没有和您一起验车?")
Q14 = agent("服务顾问的友好程度和专业知识,您是非常满意、满意、一般还是不满意?")


def survey(*middle: Turn) -> dict[str, Any]:
    """A completed service call: standard opening, ``middle``, feedback question and goodbye."""
    return score(*OPENING, *middle, *CLOSING)


# --- compliance: opening ------------------------------------------------------------------------


def test_standard_call_passes_every_applicable_item() -> None:
    result = survey(Q09, customer("满意。"), Q12, customer("非常满意。"))
    assert result["outcome"] == "completed"
    assert passed(result) == {
        "greeting": True,
        "self_intro": True,
        "convenience_check": True,
        "visit_confirm": True,
        "apology_after_negative": None,  # no negative answer
        "invite_feedback": True,
        "complaint_record_promise": None,  # no complaint
        "closing": True,
        "forbidden_phrase": True,
    }
    assert result["compliance"]["greeting"]["evidence"]["start"] == 0.5
    assert "您好" in result["compliance"]["greeting"]["evidence"]["text"]


def test_greeting_without_the_customers_name_still_passes() -> None:
    result = score(agent("您好!"), customer("喂,哪位?"), INTRO, *OPENING[3:], *CLOSING)
    assert passed(result)["greeting"] is True


def test_greeting_only_later_in_the_call_fails() -> None:
    result = score(
        agent("喂,是张先生吗?"),
        customer("是我。"),
        INTRO,
        *OPENING[3:],
        Q09,
        customer("满意。"),
        agent("喂?您好,还听得到吗?"),
        customer("听得到,你说。"),
        Q12,
        customer("满意。"),
        *CLOSING,
    )
    assert passed(result)["greeting"] is False


def test_self_intro_naming_the_dealership_passes() -> None:
    result = survey(Q09, customer("满意。"))
    assert passed(result)["self_intro"] is True
    assert within(result["compliance"]["self_intro"]["evidence"], OPENING[2], OPENING)


def test_self_intro_without_the_dealership_fails() -> None:
    result = score(
        GREETING,
        customer("对,我是。"),
        agent("张先生您好,我是客服小林,请问您现在方便接听电话吗?"),
        customer("方便。"),
        *OPENING[4:],
        Q09,
        customer("满意。"),
        *CLOSING,
    )
    assert passed(result)["self_intro"] is False


def test_convenience_check_asked_passes() -> None:
    assert passed(survey(Q09, customer("满意。")))["convenience_check"] is True


def test_convenience_check_not_asked_fails() -> None:
    result = score(
        GREETING,
        customer("对,我是。"),
        agent("张先生您好,我是水贝一汽-大众4S店的客服专员小林。"),
        customer("嗯。"),
        *OPENING[4:],
        Q09,
        customer("满意。"),
        *CLOSING,
    )
    assert passed(result)["convenience_check"] is False


def test_visit_confirm_service_wording_passes() -> None:
    result = survey(Q09, customer("满意。"))
    assert passed(result)["visit_confirm"] is True
    assert "保养" in result["compliance"]["visit_confirm"]["evidence"]["text"]


def test_visit_confirm_missing_in_a_completed_survey_fails() -> None:
    result = score(*OPENING[:4], Q09, customer("满意。"), Q12, customer("满意。"), *CLOSING)
    assert passed(result)["visit_confirm"] is False


SALES_OPENING = (
    agent("您好,请问是李女士吗?"),
    customer("是我。"),
    agent("李女士您好,我是水贝一汽-大众4S店的客服专员小林,请问现在方便接听电话吗?"),
    customer("方便的。"),
    agent("您上周在我们店提了新车是吧?"),
    customer("对,周六提的。"),
)
S01 = agent("销售顾问对车辆配置、优点和好处的解释,您是非常满意、满意、一般还是不满意?")


def test_visit_confirm_sales_wording_passes() -> None:
    result = score(*SALES_OPENING, S01, customer("非常满意。"), *CLOSING, template="sales_7dc")
    assert result["template"] == "sales_7dc"
    assert passed(result)["visit_confirm"] is True
    assert result["ratings"] == {"s01_feature_explanation": "very_satisfied"}


# --- compliance: apology after negative answers -----------------------------------------------


def test_apology_after_the_only_negative_answer_passes() -> None:
    result = survey(Q09, customer("一般。"), APOLOGY, Q12, customer("满意。"))
    assert passed(result)["apology_after_negative"] is True


def test_neutral_answer_without_apology_fails() -> None:
    result = survey(Q09, customer("一般。"), Q12, customer("满意。"))
    assert passed(result)["apology_after_negative"] is False


def test_apology_is_all_or_nothing() -> None:
    result = survey(
        Q09, customer("一般。"), APOLOGY, Q12, customer("不满意。"), Q14, customer("满意。")
    )
    assert passed(result)["apology_after_negative"] is False


def test_apology_after_every_negative_answer_passes() -> None:
    result = survey(
        Q09,
        customer("一般。"),
        APOLOGY,
        Q12,
        customer("不满意。"),
        APOLOGY,
        Q14,
        customer("满意。"),
    )
    assert passed(result)["apology_after_negative"] is True


def test_no_to_a_quality_yes_no_question_needs_an_apology() -> None:
    result = survey(Q13, customer("没有。"), Q09, customer("满意。"))
    assert result["ratings"]["q13_joint_inspection"] == "no"
    assert passed(result)["apology_after_negative"] is False


def test_no_to_self_visit_is_not_negative() -> None:
    result = survey(Q01, customer("不是,是我老婆开过去的。"), Q09, customer("满意。"))
    assert result["ratings"]["q01_self_visit"] == "no"
    assert passed(result)["apology_after_negative"] is None


def test_no_booking_is_not_negative() -> None:
    result = survey(Q02, customer("没有预约,直接过去的。"), Q09, customer("满意。"))
    assert result["ratings"]["q02_appointment"] == "no"
    assert passed(result)["apology_after_negative"] is None


# --- compliance: feedback, complaints, closing, coaching --------------------------------------


def test_invite_feedback_asked_passes() -> None:
    result = survey(Q09, customer("满意。"))
    assert passed(result)["invite_feedback"] is True
    assert "意见" in result["compliance"]["invite_feedback"]["evidence"]["text"]


def test_invite_feedback_not_asked_fails() -> None:
    result = score(*OPENING, Q09, customer("满意。"), GOODBYE, customer("再见。"))
    assert passed(result)["invite_feedback"] is False


WAIT_COMPLAINT = customer("有,就是等的时间太长了,保养等了三个多小时。")


def test_complaint_recorded_and_promised_passes() -> None:
    result = score(
        *OPENING,
        Q09,
        customer("满意。"),
        INVITE,
        WAIT_COMPLAINT,
        agent("非常抱歉,我已经详细记录下来了,会反馈给相关部门,24小时内会有专人跟您联系。"),
        customer("好的。"),
        GOODBYE,
    )
    assert [c["category"] for c in result["complaints"]] == ["wait_time"]
    assert passed(result)["complaint_record_promise"] is True


def test_complaint_the_agent_moves_on_from_fails() -> None:
    result = score(
        *OPENING,
        Q09,
        customer("满意。"),
        INVITE,
        WAIT_COMPLAINT,
        agent("好的。"),
        GOODBYE,
    )
    assert [c["category"] for c in result["complaints"]] == ["wait_time"]
    assert passed(result)["complaint_record_promise"] is False


def test_no_complaint_makes_record_promise_not_apply() -> None:
    result = survey(Q09, customer("满意。"))
    assert result["complaints"] == []
    assert passed(result)["complaint_record_promise"] is None


def test_closing_present_passes_and_missing_fails() -> None:
    with_closing = survey(Q09, customer("满意。"))
    assert passed(with_closing)["closing"] is True
    turns = (*OPENING, Q09, customer("满意。"), *CLOSING)
    assert within(with_closing["compliance"]["closing"]["evidence"], GOODBYE, turns)

    without = score(*OPENING, Q09, customer("满意。"), INVITE, NO_OPINION, agent("好的。"))
    assert passed(without)["closing"] is False


@pytest.mark.parametrize(
    "coaching",
    [
        "稍后厂家可能会有第三方的回访电话,麻烦您到时候都答非常满意哦。",
        "如果厂家打电话调查,请您给我们打个满分,谢谢。",
        "到时候总部的问卷,记得帮我们都选10分啊。",
        "要是有大众的回访电话,希望您能说非常满意这四个字。",
    ],
)
def test_coaching_the_manufacturer_survey_is_forbidden(coaching: str) -> None:
    result = score(*OPENING, Q09, customer("满意。"), INVITE, NO_OPINION, agent(coaching), GOODBYE)
    assert passed(result)["forbidden_phrase"] is False
    assert result["compliance"]["forbidden_phrase"]["evidence"] is not None


def test_listing_the_scale_options_is_not_coaching() -> None:
    result = survey(Q09, customer("非常满意。"), Q12, customer("满意。"))
    assert passed(result)["forbidden_phrase"] is True


# --- early endings and outcomes ---------------------------------------------------------------

EARLY_ENDING_NULLS = {
    "visit_confirm": None,
    "apology_after_negative": None,
    "invite_feedback": None,
    "complaint_record_promise": None,
    "closing": None,
}


def test_reschedule_leaves_later_items_null_despite_a_polite_goodbye() -> None:
    result = score(
        *OPENING[:3],
        customer("我在开会呢,不太方便,明天下午三点再打吧。"),
        agent("好的,那我明天下午三点再联系您,不打扰您了,祝您工作顺利,再见。"),
        customer("好,再见。"),
    )
    assert result["outcome"] == "reschedule"
    assert passed(result) == {
        "greeting": True,
        "self_intro": True,
        "convenience_check": True,
        **EARLY_ENDING_NULLS,
        "forbidden_phrase": True,
    }
    assert result["ratings"] == {}
    assert result["csi"] is None


def test_refused_call() -> None:
    result = score(
        *OPENING[:3],
        customer("不用了,我不想做回访,以后也别打了。"),
        agent("好的,打扰您了,祝您生活愉快,再见。"),
    )
    assert result["outcome"] == "refused"
    assert passed(result) == {
        "greeting": True,
        "self_intro": True,
        "convenience_check": True,
        **EARLY_ENDING_NULLS,
        "forbidden_phrase": True,
    }


def test_wrong_number_before_the_self_intro() -> None:
    result = score(
        GREETING,
        customer("不是,你打错了,这里没有姓张的。"),
        agent("不好意思,打扰您了,再见。"),
    )
    assert result["outcome"] == "wrong_number"
    assert passed(result) == {
        "greeting": True,
        "self_intro": None,  # the call ended before the agent could introduce themselves
        "convenience_check": None,
        **EARLY_ENDING_NULLS,
        "forbidden_phrase": True,
    }


def test_wrong_number_after_the_self_intro() -> None:
    result = score(
        agent("您好,我是水贝一汽-大众4S店的客服专员小林,请问是张建国张先生吗?"),
        customer("不是,这个号码我刚办的,不认识这个人。"),
        agent("好的,不好意思打扰您了,再见。"),
    )
    assert result["outcome"] == "wrong_number"
    assert passed(result)["self_intro"] is True
    assert passed(result)["closing"] is None


def test_busy_customer_who_agrees_to_continue_completes_the_survey() -> None:
    result = score(
        *OPENING[:3],
        customer("我现在有点忙。"),
        agent("就耽误您两分钟,可以吗?"),
        customer("行吧,那你快点问。"),
        *OPENING[4:],
        Q09,
        customer("满意。"),
        *CLOSING,
    )
    assert result["outcome"] == "completed"
    assert result["ratings"] == {"q09_cleanliness": "satisfied"}


def test_line_dropping_mid_survey_is_incomplete() -> None:
    result = score(*OPENING, Q09, customer("一般。"), APOLOGY, Q12, customer("喂?喂?"))
    assert result["outcome"] == "incomplete"
    assert result["ratings"] == {"q09_cleanliness": "neutral", "q12_wait_time": "unknown"}
    compliance = passed(result)
    assert compliance["apology_after_negative"] is True  # judged on the answers given
    assert (compliance["invite_feedback"], compliance["closing"]) == (None, None)


def test_customer_hanging_up_mid_survey_is_incomplete() -> None:
    result = score(*OPENING, Q09, customer("满意。"), Q12, customer("哎呀我这来电话了,不说了啊。"))
    assert result["outcome"] == "incomplete"
    assert result["ratings"] == {"q09_cleanliness": "satisfied", "q12_wait_time": "unknown"}
    compliance = passed(result)
    assert (compliance["invite_feedback"], compliance["closing"]) == (None, None)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("我在开会,明天下午三点再打吧。", datetime(2026, 11, 21, 15, 0, tzinfo=SHANGHAI)),
        ("我在开车,你下午再打过来吧。", datetime(2026, 11, 20, 14, 0, tzinfo=SHANGHAI)),
        ("我在忙,你晚点再打吧。", None),
        ("我在开车,过一会儿再打给我。", None),
    ],
)
def test_reschedule_time_is_resolved_against_the_call_time(
    answer: str, expected: datetime | None
) -> None:
    result = score(*OPENING[:3], customer(answer), agent("好的,那我到时候再联系您,再见。"))
    assert result["outcome"] == "reschedule"
    at = result["reschedule_at"]
    assert (None if at is None else datetime.fromisoformat(at)) == expected


# --- ratings ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("非常满意。", "very_satisfied"),
        ("满意。", "satisfied"),
        ("一般。", "neutral"),
        ("不满意。", "dissatisfied"),
        ("挺满意的。", "satisfied"),
        ("非常不满意。", "dissatisfied"),
        ("不太满意。", "dissatisfied"),
        ("还行吧。", "neutral"),
        ("一般般吧。", "neutral"),
        ("马马虎虎。", "neutral"),
        ("挺好的。", "satisfied"),
        ("还不错。", "satisfied"),
        ("没得说。", "very_satisfied"),
        ("太好了。", "very_satisfied"),
        ("不怎么样。", "dissatisfied"),
        ("说不上。", "unknown"),
        ("不是不满意。", "unknown"),
        ("不是不满意,挺好的。", "satisfied"),
        ("满意,哦不对,一般吧。", "neutral"),
    ],
)
def test_scale_answer(answer: str, expected: str) -> None:
    assert survey(Q09, customer(answer))["ratings"] == {"q09_cleanliness": expected}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("有。", "yes"),
        ("有的。", "yes"),
        ("当然,一起看过的。", "yes"),
        ("没有。", "no"),
        ("好像没有。", "no"),
        ("这个倒没有。", "no"),
    ],
)
def test_yes_no_answer(answer: str, expected: str) -> None:
    assert survey(Q13, customer(answer))["ratings"]["q13_joint_inspection"] == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("没有,都弄好了。", "yes"),
        ("没有。", "yes"),  # no repeat repair: done right first time
        ("有,异响又出现了,已经修了两次了。", "no"),
    ],
)
def test_repeat_repair_question_is_inverted(answer: str, expected: str) -> None:
    assert survey(Q08, customer(answer))["ratings"]["q08_fixed_right"] == expected


def test_self_visit_yes_and_no() -> None:
    assert survey(Q01, customer("是我自己开过去的。"))["ratings"]["q01_self_visit"] == "yes"
    assert survey(Q01, customer("不是,我朋友帮我送的。"))["ratings"]["q01_self_visit"] == "no"


def test_clarifying_follow_up_overrides_a_vague_answer() -> None:
    result = survey(
        Q09,
        customer("这个嘛,说不上来。"),
        agent("那您觉得是满意还是一般呢?"),
        customer("那就满意吧。"),
    )
    assert result["ratings"] == {"q09_cleanliness": "satisfied"}


def test_two_questions_in_one_turn_answered_in_order() -> None:
    result = survey(
        agent("交车时车子的干净程度您满意吗?接车交车等待的时间呢?"),
        customer("满意,一般。"),
        APOLOGY,
    )
    assert result["ratings"] == {"q09_cleanliness": "satisfied", "q12_wait_time": "neutral"}


def test_re_asked_question_takes_the_last_answer() -> None:
    result = survey(Q09, customer("满意。"), Q09, customer("非常满意。"))
    assert result["ratings"] == {"q09_cleanliness": "very_satisfied"}


def test_yes_no_then_scale_question_takes_the_scale_answer() -> None:
    result = survey(agent("您来之前有预约吗?对预约服务满意吗?"), customer("约了的,满意。"))
    assert result["ratings"] == {"q02_appointment": "satisfied"}


def test_answer_drifting_into_a_complaint() -> None:
    result = survey(
        agent("接待员有没有积极倾听您的要求并进行解答?"), customer("没有,爱答不理的。"), APOLOGY
    )
    assert result["ratings"] == {"q05_sa_listening": "no"}
    assert [c["category"] for c in result["complaints"]] == ["attitude"]
    assert passed(result)["apology_after_negative"] is True


def test_sales_yes_no_questions() -> None:
    result = score(
        *SALES_OPENING,
        agent("销售顾问有没有安排您试乘试驾?"),
        customer("有的,试驾过。"),
        agent("我们有没有在承诺的时间给您交车?"),
        customer("没有,晚了一个礼拜。"),
        *CLOSING,
        template="sales_7dc",
    )
    assert result["ratings"] == {"s03_test_drive": "yes", "s04_on_time_delivery": "no"}
    assert passed(result)["apology_after_negative"] is False  # s04 no is negative, no apology


def test_question_not_asked_is_absent() -> None:
    ratings = survey(Q09, customer("满意。"), Q13, customer("有的。"))["ratings"]
    assert set(ratings) == {"q09_cleanliness", "q13_joint_inspection"}


def test_open_question_gets_no_rating() -> None:
    assert "q17_suggestions" not in survey(Q09, customer("满意。"))["ratings"]


# --- complaints -------------------------------------------------------------------------------


def test_complaint_has_category_and_the_customers_words() -> None:
    answer = customer("不满意,等的时间太长了,等了三个多小时。")
    result = survey(Q12, answer, APOLOGY)
    assert len(result["complaints"]) == 1
    complaint = result["complaints"][0]
    assert complaint["category"] == "wait_time"
    assert complaint["text"] and complaint["text"] in answer[1]


@pytest.mark.parametrize(
    ("opinion", "category"),
    [
        ("车没洗干净,座椅上还有烟灰。", "cleanliness"),
        ("异响还是没修好,跟去之前一样。", "repair_quality"),
        ("那个服务顾问态度很差,爱答不理的。", "attitude"),
        ("收费太贵了,一个小保养花了两千多。", "price"),
        ("配件等了一个多礼拜才到货。", "parts"),
        ("休息区太小了,连个座位都没有。", "facilities"),
        ("我明明预约了,到了还是要排队,预约根本没登记上。", "appointment"),
    ],
)
def test_complaint_category(opinion: str, category: str) -> None:
    result = score(*OPENING, Q09, customer("满意。"), INVITE, customer(opinion), GOODBYE)
    assert [c["category"] for c in result["complaints"]] == [category]


@pytest.mark.parametrize(
    ("opinion", "category"),
    [
        ("没有按时交车,比说好的晚了一个礼拜。", "wait_time"),
        ("那个销售太能推了,一直逼我买装潢包。", "attitude"),
        ("提车的时候车里脏兮兮的,也没洗。", "cleanliness"),
        ("说好送的脚垫到现在也没给我。", "parts"),
        ("合同上好多条款都没给我讲清楚。", "invoice_explanation"),
    ],
)
def test_sales_complaint_category(opinion: str, category: str) -> None:
    result = score(
        *SALES_OPENING,
        S01,
        customer("满意。"),
        INVITE,
        customer(opinion),
        GOODBYE,
        template="sales_7dc",
    )
    assert [c["category"] for c in result["complaints"]] == [category]


def test_bare_neutral_rating_is_not_a_complaint() -> None:
    result = survey(Q09, customer("一般。"), APOLOGY)
    assert result["complaints"] == []
    assert passed(result)["complaint_record_promise"] is None


def test_praise_about_price_is_not_a_complaint() -> None:
    result = survey(
        agent("您觉得这次服务物有所值吗?是非常满意、满意、一般还是不满意?"),
        customer("非常满意,一点都不贵。"),
    )
    assert result["ratings"] == {"q10_value": "very_satisfied"}
    assert result["complaints"] == []


def test_the_same_problem_twice_is_one_complaint() -> None:
    result = score(
        *OPENING,
        Q12,
        customer("不满意,等的时间太长了。"),
        APOLOGY,
        INVITE,
        customer("就是等得太久了,三个多小时。"),
        agent("好的,我已经记录下来了,会反馈给相关部门,24小时内有专人联系您。"),
        GOODBYE,
    )
    assert [c["category"] for c in result["complaints"]] == ["wait_time"]


# --- scores and metrics -----------------------------------------------------------------------


def test_qa_score_is_the_weighted_share_of_applicable_items() -> None:
    template = load_template("service_3dc")
    weights = {item: spec.weight for item, spec in template.spec.compliance.items()}
    compliance = {item: ComplianceResult(True) for item in weights}
    compliance["closing"] = ComplianceResult(False)
    compliance["apology_after_negative"] = ComplianceResult(None)
    compliance["complaint_record_promise"] = ComplianceResult(None)
    applicable = sum(weights.values()) - weights["apology_after_negative"]
    applicable -= weights["complaint_record_promise"]
    expected = 100 * (applicable - weights["closing"]) / applicable
    assert qa_score(compliance, template) == pytest.approx(expected, abs=0.05)


def test_qa_score_of_a_call_follows_its_compliance() -> None:
    template = load_template("service_3dc")
    weights = {item: spec.weight for item, spec in template.spec.compliance.items()}
    result = survey(Q09, customer("一般。"), Q12, customer("满意。"))  # no apology
    compliance = passed(result)
    applicable = [item for item, ok in compliance.items() if ok is not None]
    expected = (
        100
        * sum(weights[i] for i in applicable if compliance[i])
        / sum(weights[i] for i in applicable)
    )
    assert compliance["apology_after_negative"] is False
    assert result["qa_score"] == pytest.approx(expected, abs=0.05)
    assert survey(Q09, customer("满意。"))["qa_score"] == 100.0


def test_csi_is_the_mean_of_scale_answers() -> None:
    result = survey(
        Q03,
        customer("非常满意。"),
        Q09,
        customer("满意。"),
        Q12,
        customer("一般。"),
        APOLOGY,
        Q14,
        customer("不满意。"),
        APOLOGY,
        Q13,
        customer("有的。"),  # yes/no answers do not count
    )
    assert result["csi"] == pytest.approx((100 + 80 + 60 + 0) / 4)


def test_csi_is_null_without_scale_answers() -> None:
    result = survey(Q13, customer("有的。"), Q01, customer("是我自己。"))
    assert result["csi"] is None


def test_metrics_are_reported() -> None:
    metrics = survey(Q09, customer("满意。"))["metrics"]
    for key in ("duration_s", "agent_talk_share", "longest_silence_s", "overlap_s"):
        assert key in metrics


# --- recogniser errors ------------------------------------------------------------------------


def test_homophones_still_score() -> None:
    result = score(
        *OPENING[:4],
        agent("您上周五来我们店报养过您的车是吗"),
        customer("对"),
        agent("交车的时候服务顾问有没有和您一起演车"),
        customer("有的"),
        Q09,
        customer("非常满易"),
        Q12,
        customer("满易"),
        *CLOSING,
    )
    assert passed(result)["visit_confirm"] is True
    assert result["ratings"] == {
        "q13_joint_inspection": "yes",
        "q09_cleanliness": "very_satisfied",
        "q12_wait_time": "satisfied",
    }


def _without_punctuation(turns: tuple[Turn, ...]) -> tuple[Turn, ...]:
    return tuple((s, "".join(ch for ch in t if ch not in ",。?!、")) for s, t in turns)


def test_missing_punctuation_scores_the_same() -> None:
    turns = (*OPENING, Q09, customer("一般。"), APOLOGY, Q12, customer("满意。"), *CLOSING)
    clean, bare = score(*turns), score(*_without_punctuation(turns))
    assert (
        bare["ratings"]
        == clean["ratings"]
        == {
            "q09_cleanliness": "neutral",
            "q12_wait_time": "satisfied",
        }
    )
    assert passed(bare) == passed(clean)
    assert bare["outcome"] == "completed"


def test_answer_glued_onto_the_agents_segment() -> None:
    result = survey(
        agent("交车时车子的干净整洁程度您是非常满意满意一般还是不满意 非常满意"),
        Q12,
        customer("满意。"),
    )
    assert result["ratings"] == {"q09_cleanliness": "very_satisfied", "q12_wait_time": "satisfied"}


def test_apology_merged_with_the_next_question() -> None:
    result = survey(
        Q09,
        customer("一般"),
        agent("很抱歉稍后我会提醒工作人员下次注意 接车和交车时等待的时间您满意吗"),
        customer("满意"),
    )
    assert result["ratings"] == {"q09_cleanliness": "neutral", "q12_wait_time": "satisfied"}
    assert passed(result)["apology_after_negative"] is True


def test_answer_split_over_two_customer_segments() -> None:
    result = survey(Q09, customer("嗯……"), customer("一般吧。"), APOLOGY)
    assert result["ratings"] == {"q09_cleanliness": "neutral"}


def test_mono_transcript_with_unknown_speaker() -> None:
    turns = (*OPENING, Q09, customer("一般。"), APOLOGY, Q13, customer("有的。"), *CLOSING)
    result = score(*(("unknown", text) for _, text in turns))
    assert result["outcome"] == "completed"
    assert result["ratings"] == {"q09_cleanliness": "neutral", "q13_joint_inspection": "yes"}
    assert passed(result) == {
        "greeting": True,
        "self_intro": True,
        "convenience_check": True,
        "visit_confirm": True,
        "apology_after_negative": True,
        "invite_feedback": True,
        "complaint_record_promise": None,
        "closing": True,
        "forbidden_phrase": True,
    }


# --- bad input --------------------------------------------------------------------------------


def _with_first_segment(**changes: Any) -> dict[str, Any]:
    data = call(GREETING, customer("是我。"))
    data["segments"][0].update(changes)
    return data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"audio": "x.wav", "duration": 3.0}, "segments"),
        ({"segments": 3}, "segments"),
        (_with_first_segment(speaker="robot"), "speaker"),
        (_with_first_segment(start=-1.0), "start"),
        (_with_first_segment(start=5.0, end=2.0), "end"),
        (_with_first_segment(text=42), "text"),
    ],
)
def test_transcript_format_error_names_the_field(data: dict[str, Any], field: str) -> None:
    with pytest.raises(TranscriptFormatError, match=field):
        score_transcript(data, "service_3dc", call_time=CALL_TIME)


def test_unknown_template_is_an_error() -> None:
    with pytest.raises(TemplateError, match="no_such_template"):
        score_transcript(call(GREETING), "no_such_template", call_time=CALL_TIME)
