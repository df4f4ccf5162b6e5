"""``callcenter score``: CONTRACTS.md JSON, a Chinese summary, one-line errors, the dev set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CallcenterRunner

DEV = Path(__file__).resolve().parent.parent / "benchmarks" / "data" / "scoring" / "dev"
ITEMS = {
    "greeting",
    "self_intro",
    "convenience_check",
    "visit_confirm",
    "apology_after_negative",
    "invite_feedback",
    "complaint_record_promise",
    "closing",
    "forbidden_phrase",
}
SCORE_KEYS = {"template", "outcome", "compliance", "ratings", "complaints", "qa_score", "csi"}
OUTCOMES = {"completed", "reschedule", "refused", "wrong_number", "incomplete"}

CALL = {
    "audio": "call-000123.wav",
    "duration": 60.0,
    "language": "zh",
    "segments": [
        {"speaker": "agent", "start": 0.5, "end": 3.0, "text": "您好,请问是张先生吗?"},
        {"speaker": "customer", "start": 3.4, "end": 4.0, "text": "是我。"},
        {
            "speaker": "agent",
            "start": 4.5,
            "end": 12.0,
            "text": "张先生您好,我是水贝一汽-大众4S店的客服专员小林,请问您现在方便接听电话吗?",
        },
        {"speaker": "customer", "start": 12.5, "end": 13.5, "text": "方便,你说。"},
        {"speaker": "agent", "start": 14.0, "end": 18.0, "text": "您上周来我们店保养过车,是吗?"},
        {"speaker": "customer", "start": 18.5, "end": 19.0, "text": "对。"},
        {
            "speaker": "agent",
            "start": 19.5,
            "end": 26.0,
            "text": "接车和交车时等待的时间,您是非常满意、满意、一般还是不满意?",
        },
        {"speaker": "customer", "start": 26.5, "end": 30.0, "text": "不满意,等的时间太长了。"},
        {"speaker": "agent", "start": 30.5, "end": 34.0, "text": "很抱歉,我会提醒工作人员注意。"},
        {
            "speaker": "agent",
            "start": 34.5,
            "end": 40.0,
            "text": "您对我们的服务还有没有什么意见和要求?",
        },
        {"speaker": "customer", "start": 40.5, "end": 41.0, "text": "没有了。"},
        {"speaker": "agent", "start": 41.5, "end": 46.0, "text": "非常感谢您的配合,再见!"},
    ],
}


def write(tmp_path: Path, content: str) -> Path:
    path = tmp_path / "call.json"
    path.write_text(content, encoding="utf-8")
    return path


def assert_contract_score(score: dict[str, object], template: str) -> None:
    """The keys and value kinds CONTRACTS.md fixes (extra keys are allowed)."""
    assert SCORE_KEYS <= set(score)
    assert score["template"] == template
    assert score["outcome"] in OUTCOMES
    compliance = score["compliance"]
    assert isinstance(compliance, dict) and set(compliance) == ITEMS
    for result in compliance.values():
        assert {"passed", "evidence"} <= set(result)
        assert result["passed"] in (True, False, None)
        assert result["evidence"] is None or {"start", "text"} <= set(result["evidence"])
    assert isinstance(score["ratings"], dict)
    assert isinstance(score["complaints"], list)
    for complaint in score["complaints"]:
        assert {"category", "text", "start"} <= set(complaint)
    qa = score["qa_score"]
    assert isinstance(qa, int | float) and 0 <= qa <= 100
    csi = score["csi"]
    assert csi is None or (isinstance(csi, int | float) and 0 <= csi <= 100)


def test_json_output_is_the_contract_score(runner: CallcenterRunner, tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(CALL, ensure_ascii=False))
    result = runner.invoke("score", str(path), "--template", "service_3dc", "--json")
    assert result.exit_code == 0, result.output
    score = json.loads(result.output)
    assert_contract_score(score, "service_3dc")
    assert score["outcome"] == "completed"
    assert score["ratings"] == {"q12_wait_time": "dissatisfied"}
    assert [c["category"] for c in score["complaints"]] == ["wait_time"]
    assert score["csi"] == 0.0


def test_summary_is_readable_chinese(runner: CallcenterRunner, tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(CALL, ensure_ascii=False))
    result = runner.invoke("score", str(path), "--template", "service_3dc")
    assert result.exit_code == 0, result.output
    for expected in ("完成回访", "话术合规", "问卷回答", "q12_wait_time", "不满意", "投诉/抱怨"):
        assert expected in result.output
    with pytest.raises(json.JSONDecodeError):
        json.loads(result.output)


def assert_one_line_error(output: str, exit_code: int) -> None:
    assert exit_code != 0
    assert "Traceback" not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1, output
    assert any("\u4e00" <= ch <= "\u9fff" for ch in lines[0]), output


@pytest.mark.parametrize(
    ("content", "names"),
    [
        (None, "call.json"),  # no file at all
        ("{not json", "JSON"),
        ("[]", "JSON"),
        ('{"segments": 3}', "segments"),
        ('{"segments": [{"speaker": "robot", "start": 0, "end": 1, "text": "x"}]}', "speaker"),
    ],
)
def test_bad_transcript_gets_a_one_line_error(
    runner: CallcenterRunner, tmp_path: Path, content: str | None, names: str
) -> None:
    path = tmp_path / "call.json" if content is None else write(tmp_path, content)
    result = runner.invoke("score", str(path), "--template", "service_3dc", "--json")
    assert_one_line_error(result.output, result.exit_code)
    assert names in result.output


def test_unknown_template_gets_a_one_line_error(runner: CallcenterRunner, tmp_path: Path) -> None:
    path = write(tmp_path, json.dumps(CALL, ensure_ascii=False))
    result = runner.invoke("score", str(path), "--template", "no_such_template", "--json")
    assert_one_line_error(result.output, result.exit_code)
    assert "no_such_template" in result.output


@pytest.mark.parametrize("call", sorted(DEV.glob("calls/*.json")), ids=lambda p: p.stem)
def test_scores_every_development_call(runner: CallcenterRunner, call: Path) -> None:
    label = json.loads((DEV / "labels" / call.name).read_text(encoding="utf-8"))
    result = runner.invoke(
        "score",
        str(call),
        "--template",
        label["template"],
        "--call-time",
        label["call_time"],
        "--json",
    )
    assert result.exit_code == 0, result.output
    assert_contract_score(json.loads(result.output), label["template"])
