"""Edge cases of the labelling rules: leaving mid-survey, vague answers, two questions at once,
complaint wording and categories."""

from __future__ import annotations

import pytest

from tests.test_scoring_rules import (
    APOLOGY,
    CLOSING,
    GOODBYE,
    INVITE,
    OPENING,
    Q09,
    Q12,
    S01,
    SALES_OPENING,
    agent,
    call,
    customer,
    passed,
    score,
    survey,
)


def test_customer_saying_they_hang_up_mid_survey_is_incomplete() -> None:
    result = score(*OPENING, Q09, customer("满意。"), Q12, customer("哎,我这边来电话了,先挂了啊。"))
    assert result["outcome"] == "incomplete"
    assert (passed(result)["invite_feedback"], passed(result)["closing"]) == (None, None)


@pytest.mark.parametrize(
    "leaving",
    ["哎呀你问得太多了,我这边来客户了,先这样,挂了啊。", "不好意思,领导叫我进会议室了。"],
)
def test_words_that_refuse_early_end_the_call_when_said_mid_survey(leaving: str) -> None:
    # "挂了啊" before the survey refuses it; after three answers it ends the call part-way
    result = score(
        *OPENING,
        Q09,
        customer("满意。"),
        Q12,
        customer("满意的。"),
        agent("那服务顾问的友好程度呢?"),
        customer(leaving),
        agent("好的,不打扰您了,再见。"),
    )
    assert result["outcome"] == "incomplete"
    assert passed(result)["invite_feedback"] is None


def test_hanging_up_before_the_survey_refuses_it() -> None:
    result = score(*OPENING[:1], customer("不需要,挂了啊。"))
    assert result["outcome"] == "refused"


def test_vague_shuo_bu_shang_man_yi_is_unknown() -> None:
    assert survey(Q09, customer("说不上满意。"))["ratings"] == {"q09_cleanliness": "unknown"}


@pytest.mark.parametrize(
    "question",
    [
        "交车时车子的干净整洁程度,还有接车交车时等待的时间,您分别满意吗?",
        "交车时车子的干净整洁程度和等待的时间,您是非常满意、满意、一般还是不满意?",
    ],
)
def test_two_questions_in_one_clause_answered_in_order(question: str) -> None:
    result = survey(agent(question), customer("满意,一般。"), APOLOGY)
    assert result["ratings"] == {"q09_cleanliness": "satisfied", "q12_wait_time": "neutral"}


def test_complaint_start_is_the_segments_start() -> None:
    turns = (*OPENING, Q12, customer("不满意,等的时间太长了,等了三个多小时。"), APOLOGY, *CLOSING)
    segment = call(*turns)["segments"][len(OPENING) + 1]
    assert [c["start"] for c in score(*turns)["complaints"]] == [segment["start"]]


@pytest.mark.parametrize(
    ("opinion", "category"),
    [
        ("结算单上那么多项目,也没人给我解释一下。", "invoice_explanation"),
        ("结算的时候没人给我解释收费明细。", "invoice_explanation"),
        ("休息区的空调坏了,热得坐不住。", "facilities"),
    ],
)
def test_service_complaint_category(opinion: str, category: str) -> None:
    result = score(*OPENING, Q09, customer("满意。"), INVITE, customer(opinion), GOODBYE)
    assert [c["category"] for c in result["complaints"]] == [category]


def test_forced_insurance_is_a_price_complaint() -> None:
    result = score(
        *SALES_OPENING,
        S01,
        customer("满意。"),
        INVITE,
        customer("非要我在店里买保险,不买就不给提车。"),
        GOODBYE,
        template="sales_7dc",
    )
    assert [c["category"] for c in result["complaints"]] == ["price"]


def test_referring_back_to_the_same_problem_is_one_complaint() -> None:
    result = score(
        *OPENING,
        Q12,
        customer("不满意,等的时间太长了。"),
        APOLOGY,
        INVITE,
        customer("还是那个问题,等得太久了,三个多小时。"),
        agent("好的,我已经记录下来了,会反馈给相关部门,24小时内有专人联系您。"),
        GOODBYE,
    )
    assert [c["category"] for c in result["complaints"]] == ["wait_time"]
