"""Script templates as data: the bundled files, validation of bad ones, and the four
non-survey templates (lost customer, reminders, complaint follow-up) scoring real-sounding calls."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from callcenter.ids import CallbackKind
from callcenter.scoring import (
    Score,
    TemplateError,
    load_template,
    parse_template,
    score_transcript,
    template_ids,
)
from callcenter.scoring import template as template_module

A, C = "agent", "customer"
NEW_TEMPLATES = (
    "lost_customer",
    "service_reminder",
    "first_service_reminder",
    "complaint_followup",
)


def call(*lines: tuple[str, str]) -> dict[str, Any]:
    """A CONTRACTS.md transcript of the lines, timed as people speak (about 4 characters/s)."""
    segments, at = [], 0.5
    for speaker, text in lines:
        length = max(1.0, round(len(text) * 0.25, 2))
        segments.append(
            {"speaker": speaker, "start": at, "end": round(at + length, 2), "text": text}
        )
        at = round(at + length + 0.4, 2)
    return {"audio": "call.wav", "duration": at, "language": "zh", "segments": segments}


def passed(score: Score) -> dict[str, bool | None]:
    return {item: result.passed for item, result in score.compliance.items()}


def categories(score: Score) -> list[str]:
    return [complaint.category for complaint in score.complaints]


# ---------------------------------------------------------------- the bundled templates


def test_template_ids_lists_all_six_callback_kinds() -> None:
    assert template_ids() == sorted(kind.value for kind in CallbackKind)


@pytest.mark.parametrize("template_id", sorted(CallbackKind))
def test_every_bundled_template_loads(template_id: str) -> None:
    template = load_template(template_id)
    assert template.id == template_id
    assert template.spec.kind == template_id
    assert template.spec.compliance
    for name, item in template.spec.compliance.items():
        assert item.weight > 0, name


@pytest.mark.parametrize("template_id", NEW_TEMPLATES)
def test_new_templates_share_item_ids_with_the_surveys(template_id: str) -> None:
    """The same item keeps its id and kind across templates, so dashboards can add them up."""
    survey = load_template("service_3dc").spec.compliance
    spec = load_template(template_id).spec
    assert {"greeting", "self_intro", "closing"} <= spec.compliance.keys()
    for name, item in spec.compliance.items():
        if name in survey:
            assert item.kind == survey[name].kind, name
            assert item.where == survey[name].where, name
    prefix = {"lost_customer": "l", "complaint_followup": "c"}.get(template_id, "r")
    assert spec.questions
    assert all(qid.startswith(f"{prefix}0") for qid in spec.questions)


def test_unknown_template_id_names_the_known_ones() -> None:
    with pytest.raises(TemplateError, match="no_such_kind") as error:
        load_template("no_such_kind")
    assert "service_reminder" in str(error.value)


# ---------------------------------------------------------------- bad template data

VALID: dict[str, Any] = {
    "id": "service_reminder",
    "kind": "service_reminder",
    "name": "保养提醒",
    "compliance": {
        "greeting": {"weight": 10, "where": "opening", "phrases": ["您好"]},
        "apology_after_negative": {"weight": 10, "kind": "apology"},
    },
    "questions": {
        "r01_book_appointment": {"text": "帮您预约吗?", "type": "yes_no", "cues": ["预约"]}
    },
}


def broken(change: str, value: Any) -> dict[str, Any]:
    """VALID with the dotted key ``change`` set to ``value`` (None removes it)."""
    data = copy.deepcopy(VALID)
    *path, last = change.split(".")
    target = data
    for key in path:
        target = target[key]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return data


def test_valid_data_parses() -> None:
    template = parse_template(copy.deepcopy(VALID), "ok.yaml")
    assert template.id == "service_reminder"
    assert list(template.questions) == ["r01_book_appointment"]


@pytest.mark.parametrize(
    ("change", "value", "named"),
    [
        ("compliance.greeting.wieght", 5, "compliance.greeting.wieght"),  # unknown key
        ("colour", "red", "colour"),  # unknown top-level key
        ("compliance.greeting.weight", "十分", "compliance.greeting.weight"),  # wrong type
        ("compliance.greeting.weight", -1, "compliance.greeting.weight"),  # below zero
        ("compliance.greeting.phrases", [], "compliance.greeting"),  # missing phrases
        ("compliance.greeting.phrases", "您好", "compliance.greeting.phrases"),  # not a list
        ("compliance.greeting.kind", "polite", "compliance.greeting.kind"),  # unknown kind
        ("compliance.greeting.where", "middle", "compliance.greeting.where"),
        ("compliance.greeting.scope", "call", "compliance.greeting.scope"),
        ("compliance.promise", {"weight": 5, "kind": "promise", "record": ["记录"]}, "promise"),
        ("questions.r01_book_appointment.type", "multiple", "questions.r01_book_appointment.type"),
        ("questions.r01_book_appointment.cues", [], "questions.r01_book_appointment.cues"),
        ("questions.r01_book_appointment.text", None, "questions.r01_book_appointment.text"),
        ("kind", "recall", "kind"),
        ("compliance", {}, "compliance"),
    ],
)
def test_bad_data_gets_an_error_naming_the_key(change: str, value: Any, named: str) -> None:
    with pytest.raises(TemplateError) as error:
        parse_template(broken(change, value), "bad.yaml")
    message = str(error.value)
    assert "bad.yaml" in message
    assert named in message


def test_promise_without_promise_phrases_says_what_is_missing() -> None:
    item = {"weight": 5, "kind": "promise", "record": ["记录"]}
    with pytest.raises(TemplateError, match="record 和 promise"):
        parse_template(broken("compliance.complaint_record_promise", item), "bad.yaml")


@pytest.mark.parametrize("template_id", ["service_3dc", "sales_7dc"])
def test_survey_template_missing_a_contracts_item_is_refused(template_id: str) -> None:
    path = template_module.TEMPLATES_DIR / f"{template_id}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["compliance"]["visit_confirm"]
    with pytest.raises(TemplateError, match="visit_confirm"):
        parse_template(data, path.name)


def test_the_non_survey_kinds_need_not_carry_the_survey_items() -> None:
    assert "visit_confirm" not in load_template("service_reminder").spec.compliance


YES_AS_A_KEY = """
id: service_reminder
kind: service_reminder
name: 保养提醒
compliance:
  greeting: {weight: 10, phrases: [您好]}
questions:
  r01_book_appointment:
    text: 帮您预约吗?
    type: yes_no
    cues: [预约]
    yes: [好的, 可以]
"""


def test_a_bare_yes_key_is_refused_naming_the_question() -> None:
    """YAML 1.1 reads ``yes:`` as the boolean true; the file must not load as if it were fine."""
    data = yaml.safe_load(YES_AS_A_KEY)
    assert True in data["questions"]["r01_book_appointment"]  # what YAML made of it
    with pytest.raises(TemplateError, match="questions.r01_book_appointment"):
        parse_template(data, "yes.yaml")


def test_a_bare_yes_key_error_points_to_yes_words() -> None:
    with pytest.raises(TemplateError, match="yes_words"):
        parse_template(yaml.safe_load(YES_AS_A_KEY), "yes.yaml")


@pytest.fixture
def templates_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty templates directory in place of the bundled one (load cache cleared around)."""
    monkeypatch.setattr(template_module, "TEMPLATES_DIR", tmp_path)
    load_template.cache_clear()
    yield tmp_path
    load_template.cache_clear()


def bundled(template_id: str) -> str:
    return (
        Path(template_module.__file__).with_name("templates") / f"{template_id}.yaml"
    ).read_text(encoding="utf-8")


def test_a_template_file_in_the_directory_loads(templates_dir: Path) -> None:
    (templates_dir / "service_reminder.yaml").write_text(bundled("service_reminder"), "utf-8")
    assert template_ids() == ["service_reminder"]
    assert load_template("service_reminder").spec.name == "保养提醒"


def test_yaml_syntax_error_names_the_file(templates_dir: Path) -> None:
    text = bundled("service_reminder").replace("  greeting:\n", "  greeting:\n   weight: [10\n", 1)
    (templates_dir / "service_reminder.yaml").write_text(text, "utf-8")
    with pytest.raises(TemplateError, match="service_reminder.yaml 不是有效的 YAML"):
        load_template("service_reminder")


def test_file_id_must_match_the_file_name(templates_dir: Path) -> None:
    (templates_dir / "reminder_copy.yaml").write_text(bundled("service_reminder"), "utf-8")
    with pytest.raises(TemplateError, match="reminder_copy.yaml 的 id 为 'service_reminder'"):
        load_template("reminder_copy")


def test_bad_key_in_a_file_names_file_and_key(templates_dir: Path) -> None:
    text = bundled("complaint_followup").replace("    weight: 15\n", "    weight: 很重要\n", 1)
    (templates_dir / "complaint_followup.yaml").write_text(text, "utf-8")
    with pytest.raises(TemplateError) as error:
        load_template("complaint_followup")
    assert "complaint_followup.yaml" in str(error.value)
    assert "compliance.complaint_reference.weight" in str(error.value)


# ---------------------------------------------------------------- lost customer (流失客户回访)


def test_lost_customer_good_call() -> None:
    score = score_transcript(
        call(
            (A, "您好,请问是王先生吗?"),
            (C, "对,我是。"),
            (
                A,
                "王先生您好,我是宏达一汽大众4S店的客服专员小刘,想耽误您两分钟做个回访,您现在方便吗?",
            ),
            (C, "嗯,你说吧。"),
            (A, "我们看到您的车差不多有一年没回店里保养了,想问一下是什么原因呢?"),
            (C, "主要是搬家了,你们那儿离我太远,现在都在家附近的快修店做。"),
            (A, "明白了。那您对上次在我们店的服务还满意吗?"),
            (C, "一般吧,上次等了两个多小时才弄好。"),
            (A, "很抱歉让您久等了,这个情况我会记录下来反馈给服务经理,后面会有专人跟进改进。"),
            (C, "行。"),
            (
                A,
                "王先生,我们这个月有老客户回厂活动,保养工时费打八折,还送免费检测,欢迎您有空回来看看。下次保养您考虑过来吗?",
            ),
            (C, "打八折啊,那可以考虑一下。"),
            (A, "好的,那就不打扰您了,感谢您的接听,祝您生活愉快,再见!"),
            (C, "好,再见。"),
        ),
        "lost_customer",
    )
    assert score.outcome == "completed"
    assert passed(score) == {
        "greeting": True,
        "self_intro": True,
        "convenience_check": True,
        "reason_asked": True,
        "invite_back": True,
        "apology_after_negative": True,
        "complaint_record_promise": True,
        "closing": True,
        "forbidden_phrase": True,
    }
    assert "原因" in score.compliance["reason_asked"].evidence.text  # type: ignore[union-attr]
    assert "活动" in score.compliance["invite_back"].evidence.text  # type: ignore[union-attr]
    # the reason (moved away) is an open answer: no rating; the last visit was 一般
    assert score.ratings == {"l02_last_visit_satisfaction": "neutral", "l03_return_intent": "yes"}
    assert categories(score) == ["wait_time"]
    assert score.qa_score == 100.0
    assert score.csi == 60.0


def test_lost_customer_call_with_lapses() -> None:
    score = score_transcript(
        call(
            (A, "喂,您好,是王先生吧?"),
            (C, "是我,哪位?"),
            (A, "我是宏达4S店客服小刘。您这一年都没来保养了啊。"),
            (C, "嗯,最近没怎么开。"),
            (A, "那您上次来保养感觉怎么样?"),
            (C, "不怎么样,收费太贵了,一个小保养收了我八百多。"),
            (A, "哦,那下次保养您还来我们这做吗?"),
            (C, "不去了,外面便宜多了。"),
            (A, "那行吧,厂家回访电话打过来的时候麻烦您给我们说非常满意啊。"),
            (C, "哦。"),
        ),
        "lost_customer",
    )
    assert score.outcome == "completed"
    assert passed(score) == {
        "greeting": True,
        "self_intro": True,
        "convenience_check": False,
        "reason_asked": False,  # noted the absence, never asked why
        "invite_back": False,  # asked whether they would come, offered nothing
        "apology_after_negative": False,
        "complaint_record_promise": False,
        "closing": False,
        "forbidden_phrase": False,  # coaching the manufacturer's survey
    }
    assert score.ratings == {
        "l02_last_visit_satisfaction": "dissatisfied",
        "l03_return_intent": "no",
    }
    assert categories(score) == ["price"]
    # greeting 10 + self_intro 10 of 110
    assert score.qa_score == pytest.approx(18.2)


# ---------------------------------------------------------------- maintenance reminder (保养提醒)


def test_service_reminder_good_call() -> None:
    score = score_transcript(
        call(
            (A, "您好,请问是李女士吗?"),
            (C, "是的,哪位?"),
            (A, "李女士您好,我这边是锦程丰田4S店的客服小陈,打扰您一分钟,现在说话方便吗?"),
            (C, "方便,你说。"),
            (
                A,
                "是这样的,根据系统记录,您的卡罗拉上次保养是在去年十月,按保养周期,这个月底就到期了,里程大概也快到一万公里了。",
            ),
            (C, "哦,这么快啊。"),
            (A, "您的车现在大概跑了多少公里了?"),
            (C, "我看看,九千八百多。"),
            (A, "那正好,需要我帮您预约一个保养时间吗?预约的话到店不用排队。"),
            (C, "可以,那就周六上午吧。"),
            (
                A,
                "好的,已经帮您预约了本周六上午十点,到时候直接找服务顾问就行。感谢您的接听,祝您生活愉快,再见!",
            ),
            (C, "好的,拜拜。"),
        ),
        "service_reminder",
    )
    assert score.outcome == "completed"
    assert passed(score) == {
        "greeting": True,
        "self_intro": True,
        "convenience_check": True,
        "due_date_stated": True,
        "appointment_offer": True,
        "closing": True,
    }
    assert "到期" in score.compliance["due_date_stated"].evidence.text  # type: ignore[union-attr]
    assert score.ratings == {"r01_book_appointment": "yes"}  # the mileage question is open
    assert score.complaints == []
    assert score.qa_score == 100.0
    assert score.csi is None


def test_service_reminder_call_with_lapses() -> None:
    score = score_transcript(
        call(
            (A, "您好,李女士吗?我是丰田店客服。"),
            (C, "嗯,什么事?"),
            (A, "提醒您一下,您的车该来做保养了,有空过来一趟。"),
            (C, "哦,好的,知道了,我过两天自己过去。"),
            (A, "好的,那不打扰您了,再见。"),
        ),
        "service_reminder",
    )
    assert score.outcome == "completed"
    assert passed(score) == {
        "greeting": True,
        "self_intro": True,
        "convenience_check": False,
        "due_date_stated": False,  # "该保养了" names no date and no mileage
        "appointment_offer": False,  # "有空过来" books nothing
        "closing": True,
    }
    assert score.ratings == {}
    # greeting 10 + self_intro 10 + closing 20 of 100
    assert score.qa_score == 40.0


def test_service_reminder_recogniser_text() -> None:
    """No punctuation, homophones (报养, 预越): the same items still pass."""
    score = score_transcript(
        call(
            (A, "您好 请问是李女士吗"),
            (C, "是的 哪位"),
            (A, "李女士您好 我这边是锦程丰田四S店的客服小陈 打扰您一分钟 现在说话方便吗"),
            (C, "方便 你说"),
            (A, "根据系统记录您的车上次报养是去年十月 按报养周期这个月底就到期了"),
            (C, "哦这么快啊"),
            (A, "那需要我帮您预越一个报养时间吗"),
            (C, "可以 那就周六上午吧"),
            (A, "好的 已经帮您预约了本周六上午十点 感谢您的接听 祝您生活愉快 再见"),
        ),
        "service_reminder",
    )
    assert all(passed(score).values())
    assert score.ratings == {"r01_book_appointment": "yes"}


# ---------------------------------------------------------------- first-service reminder (首保提醒)


def test_first_service_reminder_good_call() -> None:
    score = score_transcript(
        call(
            (A, "喂,您好,请问是赵先生吗?"),
            (C, "对,你哪位?"),
            (A, "赵先生您好,我是华盛本田4S店的客服专员小周,耽误您一分钟可以吗?"),
            (C, "行,你说。"),
            (
                A,
                "您六月份在我们店提的新车,首保是五千公里或者六个月以内,以先到的为准,按时间算下个月中旬就到期了,首保是免费的,不收工时费和材料费。",
            ),
            (C, "哦对,我都忘了,现在才开了三千多公里。"),
            (A, "那我帮您预约一下吧,您看下周哪天过来合适?预约了到店可以优先安排。"),
            (C, "下周六上午吧。"),
            (
                A,
                "好的,给您约在下周六上午九点半,到时候提前一天会给您发短信。感谢您的支持,祝您用车愉快,再见!",
            ),
            (C, "好的,谢谢,再见。"),
        ),
        "first_service_reminder",
    )
    assert score.outcome == "completed"
    assert passed(score) == {
        "greeting": True,
        "self_intro": True,
        "convenience_check": True,
        "due_date_stated": True,
        "free_service_stated": True,
        "appointment_offer": True,
        "closing": True,
    }
    assert "免费" in score.compliance["free_service_stated"].evidence.text  # type: ignore[union-attr]
    assert score.ratings == {"r01_book_appointment": "yes"}
    assert score.qa_score == 100.0


def test_first_service_reminder_call_with_lapses() -> None:
    score = score_transcript(
        call(
            (A, "喂,赵先生吧?我是华盛本田的客服小周。"),
            (C, "嗯,是我。"),
            (A, "您的新车该做首保了,记得过来做一下啊。"),
            (C, "哦,要钱吗?"),
            (A, "首保不要钱的,您有空就过来吧。"),
            (C, "行,知道了。"),
        ),
        "first_service_reminder",
    )
    assert score.outcome == "completed"
    assert passed(score) == {
        "greeting": False,  # "喂" is no greeting
        "self_intro": True,
        "convenience_check": False,  # "有空就过来吧" invites, it does not ask about the call
        "due_date_stated": False,  # no time or mileage limit
        "free_service_stated": True,  # said, though only when asked
        "appointment_offer": False,
        "closing": False,
    }
    # self_intro 10 + free_service_stated 10 of 100
    assert score.qa_score == 20.0


# ---------------------------------------------------------------- complaint follow-up (投诉回访)


def test_complaint_followup_good_call() -> None:
    score = score_transcript(
        call(
            (A, "您好,请问是孙先生吗?"),
            (C, "是我。"),
            (A, "孙先生您好,我是恒通别克4S店的客服经理刘静,现在方便说几句吗?"),
            (C, "方便,你说。"),
            (
                A,
                "针对您上周反映的车辆底盘异响问题,首先非常抱歉给您带来了不便。我们已经安排技术主管重新检查,给您免费更换了左前减震器。",
            ),
            (C, "对,前天去弄的。"),
            (A, "那现在车开起来还有异响吗?"),
            (C, "没有了,这两天开着挺安静的。"),
            (A, "好的。那您对我们这次的处理结果满意吗?"),
            (C, "还挺满意的,处理得也算及时。"),
            (A, "感谢您的理解和支持,以后有任何问题随时联系我们,祝您用车愉快,再见!"),
            (C, "好,再见。"),
        ),
        "complaint_followup",
    )
    assert score.outcome == "completed"
    assert passed(score) == {
        "greeting": True,
        "self_intro": True,
        "complaint_reference": True,
        "resolution_stated": True,
        "satisfaction_asked": True,
        "apology_after_negative": None,  # nothing negative was said
        "apology_for_trouble": True,
        "complaint_record_promise": None,  # no new complaint
        "closing": True,
        "forbidden_phrase": True,
    }
    # "还有异响吗?" "没有了": the noise is gone, the problem is solved
    assert score.ratings == {"c02_problem_solved": "yes", "c01_handling_satisfaction": "satisfied"}
    assert score.complaints == []
    assert score.qa_score == 100.0
    assert score.csi == 80.0


def test_complaint_followup_call_with_lapses() -> None:
    score = score_transcript(
        call(
            (A, "喂,孙先生吗?我是别克店的小刘。"),
            (C, "嗯,什么事?"),
            (A, "上次那个事情给您弄好了吧?"),
            (C, "没有啊,还是响,开过减速带咯噔咯噔的。"),
            (A, "哦,那您对处理结果满意吗?"),
            (C, "不满意,跑了两趟了还没修好。"),
            (A, "那您再过来看看吧。"),
            (C, "行吧。"),
        ),
        "complaint_followup",
    )
    assert score.outcome == "completed"
    assert passed(score) == {
        "greeting": False,
        "self_intro": True,
        "complaint_reference": False,  # "上次那个事情" does not name the complaint
        "resolution_stated": False,  # asking about the handling is not saying what was done
        "satisfaction_asked": True,
        "apology_after_negative": False,
        "apology_for_trouble": False,
        "complaint_record_promise": False,  # still not fixed: nobody records it or calls back
        "closing": False,
        "forbidden_phrase": True,
    }
    assert score.ratings == {
        "c02_problem_solved": "no",
        "c01_handling_satisfaction": "dissatisfied",
    }
    assert categories(score) == ["repair_quality"]
    # self_intro 10 + satisfaction_asked 15 + forbidden_phrase 10 of 115
    assert score.qa_score == pytest.approx(30.4)
    assert score.csi == 0.0


# ---------------------------------------------------------------- reminders and lost customers
# Offering a visit is not re-arranging the call, declining it is not refusing the call, items
# never reached are not lapses, and "您好久没来" greets nobody.


def test_reminder_asking_when_the_customer_can_come_is_not_a_reschedule() -> None:
    score = score_transcript(
        call(
            (A, "您好,请问是赵先生吗?我是华盛本田4S店的客服专员小周,您现在方便接电话吗?"),
            (C, "方便。"),
            (A, "您的新车首保是五千公里或者六个月以内,下个月中旬就到期了,首保是免费的。"),
            (C, "哦,好。"),
            (A, "那您看什么时候方便过来?我帮您预约一下。"),
            (C, "下周六上午吧。"),
            (A, "好的,给您约在下周六上午九点半,感谢您的支持,再见!"),
        ),
        "first_service_reminder",
    )
    assert score.outcome == "completed"


def test_declining_the_appointment_is_not_a_refusal() -> None:
    score = score_transcript(
        call(
            (A, "您好,是李女士吗?我是锦程丰田4S店客服专员小陈,您现在方便接电话吗?"),
            (C, "方便,什么事?"),
            (A, "您的车上次保养是5000公里,现在差不多到期了,需要帮您预约一下吗?"),
            (C, "不用了,最近太忙,过两周我自己打电话约。"),
            (A, "好的,那感谢您的接听,再见。"),
        ),
        "service_reminder",
    )
    assert score.outcome == "completed"
    assert score.compliance["closing"].passed is True


def test_reminder_items_not_reached_before_a_reschedule_are_null() -> None:
    score = score_transcript(
        call(
            (A, "您好,请问是李女士吗?我是锦程丰田4S店的客服小陈,您现在方便接电话吗?"),
            (C, "不好意思,我在开车,你晚点再打吧。"),
            (A, "好的,那我下午再联系您,再见。"),
        ),
        "service_reminder",
    )
    assert score.outcome == "reschedule"
    assert score.compliance["due_date_stated"].passed is None
    assert score.compliance["appointment_offer"].passed is None


def test_you_have_not_been_for_long_is_no_greeting() -> None:
    score = score_transcript(
        call(
            (A, "喂,是王先生吧?"),
            (C, "是我。"),
            (A, "我是宏达4S店客服小刘,您好久没来我们店了,是有什么原因吗?"),
            (C, "没什么,就是车开得少。"),
        ),
        "lost_customer",
    )
    assert score.compliance["greeting"].passed is False
