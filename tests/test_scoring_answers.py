"""How answers are read: verdicts, upgrades, echoes, A-not-A forms, questions asked the other
way round or cut off, and negative answers that turn into complaints."""

from __future__ import annotations

import pytest

from callcenter.scoring.template import language
from tests.test_scoring_rules import (
    APOLOGY,
    OPENING,
    Q09,
    Q12,
    SALES_OPENING,
    agent,
    customer,
    score,
    survey,
)

Q14 = agent("接待您的顾问,您觉得他的态度和专业程度怎么样?")


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        # the customer weighs things up and gives a verdict: the verdict counts
        ("态度是蛮好,专业嘛……第一回没查准,我只能讲一般。", "neutral"),
        ("修是修得快,但是又要等配件,这个就没办法讲满意,算一般吧。", "neutral"),
        # turned up in the same breath
        ("满意,非常满意,没得说。", "very_satisfied"),
        # the first clear answer; what follows explains it
        ("满意吧,价格还可以。", "satisfied"),
        # a regional intensifier
        ("值,美得很。", "very_satisfied"),
    ],
)
def test_scale_answers_with_verdicts_and_upgrades(answer: str, value: str) -> None:
    assert survey(Q14, customer(answer), APOLOGY)["ratings"]["q14_sa_friendliness"] == value


def test_a_not_a_words_are_not_an_answer() -> None:
    """ "干不干净……说不上来": neither praise nor blame, and no cleanliness complaint."""
    result = survey(
        agent("交车的时候车子收拾得干不干净?"),
        customer("干不干净……我当时着急走,没注意看,说不上来。"),
    )
    assert result["ratings"]["q09_cleanliness"] == "unknown"
    assert result["complaints"] == []


def test_a_not_a_form_masks_its_negation_only() -> None:
    lexicon = language().complaints
    assert lexicon.find("干不干净") == []
    assert [m.label for m in lexicon.find("车里很不干净")] == ["cleanliness"]


def test_a_problem_question_is_asked_the_other_way_round() -> None:
    """ "还有没有出过毛病?" "有咯,又开始响" — the repair did not hold."""
    result = survey(
        agent("您这个车修好以后,还有没有出过毛病?"),
        customer("有咯,开回去两天,过减速带又开始响。"),
        APOLOGY,
    )
    assert result["ratings"]["q08_fixed_right"] == "no"


def test_own_words_anywhere_in_a_story_decide_yes_or_no() -> None:
    result = survey(
        agent("车子修好以后还有没有出过毛病?"),
        customer("嗨,甭提了。说是加了冷媒,没让我开回去试试。"),
        customer("我开回去第二天就又不凉了,周一又跑了一趟。"),
        APOLOGY,
    )
    assert result["ratings"]["q08_fixed_right"] == "no"


@pytest.mark.parametrize(
    ("answer", "value"),
    [("报了,说一千出头。", "yes"), ("没报,直接就修了。", "no")],
)
def test_an_echoed_verb_answers_a_yes_no_question(answer: str, value: str) -> None:
    result = survey(agent("那修之前有没有给您报个大概的价格?"), customer(answer), APOLOGY)
    assert result["ratings"]["q06_cost_estimate"] == value


def test_a_bare_hm_yields_to_a_clearer_word() -> None:
    result = survey(
        Q14, customer("还行。"), agent("交车时有没有陪您一起验车?"), customer("嗯,没有。")
    )
    assert result["ratings"]["q13_joint_inspection"] == "no"


def test_a_follow_up_offer_earlier_in_the_breath_pins_the_answer_down() -> None:
    result = survey(
        agent("那取车的时候,车子洗得干不干净?"),
        customer("干净啊,连轮毂都冲过。"),
        agent("那我这一项帮您记满意,可以吗?"),
        customer("记非常满意啦,比我自己洗的还干净。"),
    )
    assert result["ratings"]["q09_cleanliness"] == "very_satisfied"


def test_a_question_cut_off_by_the_line_is_asked_but_unknown() -> None:
    result = score(
        *OPENING,
        Q09,
        customer("满意。"),
        agent("那交车时等待的时间您"),
        customer("喂?喂?"),
        customer("听不清了。"),
    )
    assert result["outcome"] == "incomplete"
    assert result["ratings"]["q12_wait_time"] == "unknown"


def test_a_negative_answer_with_a_reason_is_a_complaint_under_the_question() -> None:
    result = survey(Q12, customer("不太满意,前前后后跑了三趟才弄完。"), APOLOGY)
    assert [c["category"] for c in result["complaints"]] == ["wait_time"]


def test_a_bare_negative_answer_is_not_a_complaint() -> None:
    result = survey(Q12, customer("一般。"), APOLOGY)
    assert result["ratings"]["q12_wait_time"] == "neutral"
    assert result["complaints"] == []


def test_denied_and_praised_problems_are_not_complaints() -> None:
    result = survey(
        Q09,
        customer("满意,冇乱推销,也没乱加项目。"),
        Q12,
        customer("满意,等了也就四十来分钟。"),
    )
    assert result["complaints"] == []


def test_sound_alike_parts_that_cut_through_words_do_not_match() -> None:
    """ "电话了" sounds like "划了", but the words are 电话 | 了: no scratched car."""
    assert language().complaints.find("提车以后反倒没人打电话了") == []
    assert [m.label for m in language().complaints.find("车门被刮了一道")] == ["repair_quality"]


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ("给个8分吧。", "satisfied"),
        ("九分。", "very_satisfied"),
        ("满分!", "very_satisfied"),
        ("6分,一般。", "neutral"),
        ("3分。", "dissatisfied"),
    ],
)
def test_scores_out_of_ten(answer: str, value: str) -> None:
    result = survey(agent("服务顾问的专业程度,您给打个分,1到10分?"), customer(answer), APOLOGY)
    assert result["ratings"]["q14_sa_friendliness"] == value


def test_no_problem_is_never_turned_round() -> None:
    """ "有没有需要返修的地方?" "没问题。" — the repair was done right."""
    result = survey(
        agent("我们这次有没有正确地完成保养工作?有没有需要重复返修的地方?"), customer("没问题。")
    )
    assert result["ratings"]["q08_fixed_right"] == "yes"


def test_a_granted_but_cut_short_answer_is_unknown() -> None:
    result = score(
        *OPENING,
        agent("那这次保养,有没有正确地完成?有没有需要返工的地方?"),
        customer("修是修……"),
        agent("喂?您还在吗?"),
    )
    assert result["ratings"]["q08_fixed_right"] == "unknown"


def test_a_yes_no_question_never_takes_a_scale_value() -> None:
    result = survey(
        agent("那升级的问题现在解决了吗?"),
        customer("解决了,现在系统正常。"),
        agent("这一项您给打个分?"),
        customer("非常满意。"),
    )
    assert result["ratings"]["q08_fixed_right"] == "yes"


def test_a_topic_read_out_like_a_list_item_and_rated_is_a_question() -> None:
    result = survey(
        agent("那我们就用打分的方式,1到10分,10分最高。"),
        customer("好。"),
        agent("最后是服务顾问的友好程度和专业度。"),
        customer("10分,小刘人不错。"),
    )
    assert result["ratings"]["q14_sa_friendliness"] == "very_satisfied"


def test_a_topic_mentioned_in_a_statement_is_not_a_question() -> None:
    result = survey(
        agent("感谢您上次来店,接待您的服务顾问小刘也让我问候您。"), customer("嗯,好的。")
    )
    assert "q14_sa_friendliness" not in result["ratings"]


def test_a_yes_no_word_inside_a_story_is_not_the_answer() -> None:
    """ "没有,我自己开过朋友的,就没试。" — the answer is the opening 没有, not 开过."""
    result = score(
        *SALES_OPENING,
        agent("买车之前,销售有没有请您试乘试驾呢?"),
        customer("没有,我自己开过朋友的,就没试。"),
        APOLOGY,
        template="sales_7dc",
    )
    assert result["ratings"]["s03_test_drive"] == "no"


def test_praise_running_past_a_problem_word_cancels_it() -> None:
    result = survey(agent("休息区您坐着舒服吗?"), customer("休息区没问题,有wifi有充电。"))
    assert result["complaints"] == []


def test_a_yes_to_a_yes_then_scale_question_is_not_a_rating() -> None:
    result = survey(agent("接待员有没有积极倾听您的要求并进行解答?"), customer("都有,这个没问题。"))
    assert result["ratings"]["q05_sa_listening"] == "yes"


def test_the_delivery_explanation_is_not_the_feature_explanation() -> None:
    result = score(
        *SALES_OPENING,
        agent("那交车的时候,销售顾问对车辆使用的讲解您满意吗?"),
        customer("满意,讲得很细。"),
        template="sales_7dc",
    )
    assert result["ratings"] == {"s05_delivery_explanation": "satisfied"}


def test_a_curt_goodbye_after_the_open_question_is_a_completed_call() -> None:
    result = score(
        *OPENING,
        Q09,
        customer("满意。"),
        agent("您对我们服务站还有其他意见和要求吗?"),
        customer("没有了,就这样吧。"),
        agent("好的,那先这样。"),
        customer("嗯。"),
    )
    assert result["outcome"] == "completed"
    assert result["compliance"]["closing"]["passed"] is False


def test_an_explicit_refusal_mid_survey_is_a_refusal() -> None:
    result = score(
        *OPENING,
        Q09,
        customer("满意。"),
        Q12,
        customer("行了行了,剩下的不答了,你就这么记吧。"),
        agent("那我换个时间再给您打过来?"),
        customer("不用再打了,挂了。"),
    )
    assert result["outcome"] == "refused"
    assert result["compliance"]["closing"]["passed"] is None


def test_no_thanks_to_an_offer_late_in_the_survey_is_an_answer_not_a_refusal() -> None:
    result = survey(
        Q09,
        customer("满意。"),
        agent("您对我们还有什么意见和要求吗?"),
        customer("不用了,没有了。"),
    )
    assert result["outcome"] == "completed"


def test_coaching_said_after_the_survey_mention() -> None:
    result = survey(
        Q09,
        customer("满意。"),
        agent("过几天厂家可能会给您打电话做调查,到时候您就说非常满意哈,帮帮我们。"),
        customer("哦,行吧。"),
    )
    assert result["compliance"]["forbidden_phrase"]["passed"] is False


def test_an_apology_before_pinning_down_a_negative_answer_counts() -> None:
    result = survey(
        Q12,
        customer("不满意,等了一个多钟头。"),
        agent("非常抱歉让您有这样的感受。那这一项我先给您记不满意,可以吗?"),
        customer("记吧,就是不满意。"),
    )
    assert result["ratings"]["q12_wait_time"] == "dissatisfied"
    assert result["compliance"]["apology_after_negative"]["passed"] is True


def test_one_question_sentence_naming_two_topics_asks_one_thing() -> None:
    result = survey(
        agent("保养之前,接待人员有没有跟您在车旁边一起说说要做哪些项目?"),
        customer("有,他围着车转了一圈,说机油该换了。"),
    )
    assert result["ratings"] == {"q04_walkaround": "yes"}


def test_inviting_feedback_after_a_summary_is_not_a_re_ask() -> None:
    result = score(
        *OPENING,
        agent("那您在休息区等的时候,觉得舒适吗?"),
        customer("一般吧,无线网连不上。"),
        APOLOGY,
        agent("好的,休息区网络的问题我已经记录下来,会反馈给相关部门。还有其它方面的问题吗?"),
        customer("没有了,其他都挺好的。"),
        agent("非常感谢您的配合,再见!"),
    )
    assert result["ratings"]["q16_waiting_area"] == "neutral"


def test_come_back_in_an_hour_mid_survey_is_a_reschedule() -> None:
    result = score(
        *OPENING,
        Q09,
        customer("满意。"),
        Q12,
        customer("哎,你等会儿,我这边来客人了。你一个钟头以后再打过来,我们再接着说。"),
    )
    assert result["outcome"] == "reschedule"
    assert result["reschedule_at"] is not None


def test_the_car_was_sold_is_a_wrong_number() -> None:
    result = score(
        agent("您好,请问是邱永胜邱先生吗?"),
        customer("我是,你哪位?"),
        agent("我是恒信丰田店的客服专员小马,您的凯美瑞上周六在我们店做了保养,您现在方便吗?"),
        customer("那车我半年前就卖了呀,上礼拜保养的不是我。"),
        agent("好的,不好意思打扰您了,再见。"),
    )
    assert result["outcome"] == "wrong_number"


def test_a_yes_after_a_filler_is_an_answer() -> None:
    result = survey(
        agent("交车的时候顾问有没有跟您一起检查一下车?"),
        customer("这个有,旧刹车片还给我装袋子里了。"),
    )
    assert result["ratings"]["q13_joint_inspection"] == "yes"


def test_two_questions_answered_in_order_each_take_the_answer_from_their_clause_on() -> None:
    result = survey(
        agent("保养前接待员有没有和您在车旁边一起看看,讲讲要做什么?讲得您满意吗?"),
        customer("有,一起看了,讲得很清楚,非常满意。"),
    )
    assert result["ratings"]["q04_walkaround"] == "yes"
    assert result["ratings"]["q03_work_explanation"] == "very_satisfied"


def test_a_wait_taken_in_stride_is_not_a_complaint() -> None:
    result = survey(Q12, customer("还好,等了一个半小时吧,保养嘛正常的。"))
    assert result["complaints"] == []


def test_a_wait_complained_about_is_a_complaint() -> None:
    result = survey(Q12, customer("不满意,等了一个半小时,太久了。"), APOLOGY)
    assert [c["category"] for c in result["complaints"]] == ["wait_time"]


def test_leaving_mid_survey_is_incomplete_even_with_a_goodbye() -> None:
    result = score(
        *OPENING,
        Q09,
        customer("满意。"),
        agent("那服务顾问的友好程度和专业知识您满意吗?"),
        customer("哎不好意思啊,我到站了,得下车了,就先这样吧。"),
        agent("好的,那不打扰您了,谢谢您,再见。"),
    )
    assert result["outcome"] == "incomplete"


def test_having_bought_the_car_is_not_having_sold_it() -> None:
    """买了 and 卖了 differ only in tone: "车买都买了,还回访啥呀" is a refusal."""
    result = score(
        agent("您好,请问是谢先生吗?"),
        customer("嗯,什么事?"),
        agent("我是东盛现代4S店的客服专员小吴,想做个购车满意度回访,您现在方便吗?"),
        customer("车买都买了,还回访啥呀。不用不用,你们别打了。"),
        template="sales_7dc",
    )
    assert result["outcome"] == "refused"


def test_a_scratch_on_a_new_car_is_other_on_a_sales_call() -> None:
    result = score(
        *SALES_OPENING,
        agent("您对我们还有什么意见和建议吗?"),
        customer("后备箱盖上有一道划痕,交车的时候没注意。"),
        template="sales_7dc",
    )
    assert [c["category"] for c in result["complaints"]] == ["other"]


def test_the_reason_for_the_visit_is_not_a_complaint() -> None:
    result = survey(Q09, customer("满意。我就是去修空调不制冷的,现在好了。"))
    assert result["complaints"] == []


def test_the_agent_arranging_to_call_back_is_a_reschedule() -> None:
    result = score(
        agent("您好,请问是王淑芬王阿姨吗?"),
        customer("是我,谁呀?"),
        agent("王阿姨您好,我是鼎盛大众4S店的客服专员小刘,想给您做个保养回访,您现在方便吗?"),
        customer("哎呀,我这正在菜市场呢,吵得很,听不清。"),
        agent("对不起打扰您了,您看我什么时候联系您方便点呢?"),
        customer("明天上午吧,十点以后,我在家。"),
        agent("好的,那我明天上午十点以后再给您打过来,谢谢您,再见。"),
    )
    assert result["outcome"] == "reschedule"
    assert result["reschedule_at"] == "2026-11-21T10:00:00+08:00"


def test_an_indirect_refusal() -> None:
    result = score(
        agent("您好,请问是高明亮高先生吗?"),
        customer("嗯。"),
        agent("高先生您好,我是恒通别克4S店的客服专员小吴,请问您现在方便接听电话吗?"),
        customer("什么事啊?"),
        agent("您上周一来我们站做过保养,对吧?想问您几个关于这次服务的问题。"),
        customer("这个啊……我看就算了吧,你们找别的客户问问吧。"),
    )
    assert result["outcome"] == "refused"
