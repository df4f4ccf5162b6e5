"""The recogniser with the real bundled Whisper base model on committed telephone recordings
(tests/data/speech: synthetic Mandarin, two voices, G.711 8 kHz; references beside them)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from callcenter.asr import (
    ANSWER_SETS,
    AudioError,
    ModelError,
    ModelSpec,
    recognise_answer_file,
    transcribe,
)
from callcenter.asr.model import BASE_FILES, assemble_base_model, model_dir
from callcenter.asr.text import bare, clean_text, echoes_prompt, prompt_text, to_simplified
from callcenter.config import AsrSettings

DATA = Path(__file__).resolve().parent / "data" / "speech"
CALL = DATA / "call_service.wav"
REFERENCE = json.loads((DATA / "call_service.json").read_text(encoding="utf-8"))["segments"]
OPTIONS = AsrSettings().options("service_3dc")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def call_transcript() -> dict[str, Any]:
    return transcribe(CALL, OPTIONS).to_dict()


def test_stereo_call_one_segment_per_utterance_with_the_right_speakers(
    call_transcript: dict[str, Any],
) -> None:
    segments = call_transcript["segments"]
    assert [s["speaker"] for s in segments] == [r["speaker"] for r in REFERENCE]
    for got, want in zip(segments, REFERENCE, strict=True):
        assert abs(got["start"] - want["start"]) <= 0.3, (got, want)
        assert abs(got["end"] - want["end"]) <= 0.3, (got, want)
    starts = [s["start"] for s in segments]
    assert starts == sorted(starts)
    assert call_transcript["duration"] == pytest.approx(34.44, abs=0.05)
    assert call_transcript["audio"] == "call_service.wav"


def test_stereo_call_words_are_heard(call_transcript: dict[str, Any]) -> None:
    said = {s["speaker"]: "" for s in call_transcript["segments"]}
    for s in call_transcript["segments"]:
        said[s["speaker"]] += bare(s["text"])
    for phrase in ("张先生", "客服专员", "保养", "回访", "方便吗", "很抱歉", "感谢", "再见"):
        assert phrase in said["agent"], phrase
    for phrase in ("我是", "方便", "不太满意", "干净", "再见"):
        assert phrase in said["customer"], phrase


def test_output_is_simplified_chinese(call_transcript: dict[str, Any]) -> None:
    for s in call_transcript["segments"]:
        assert to_simplified(s["text"]) == s["text"]
        assert not s["text"].endswith("，")  # no comma left from the next turn in its window


def test_16khz_recording_gives_the_same_utterances(tmp_path: Path) -> None:
    audio, rate = sf.read(CALL, dtype="float32")
    times = np.arange(len(audio) * 2) / (rate * 2)
    wide = np.stack(
        [np.interp(times, np.arange(len(audio)) / rate, audio[:, c]) for c in range(2)], axis=1
    )
    path = _write(tmp_path / "call_16k.wav", wide, rate=rate * 2)
    segments = transcribe(path, OPTIONS).segments
    assert [s.speaker for s in segments] == [r["speaker"] for r in REFERENCE]
    for got, want in zip(segments, REFERENCE, strict=True):
        assert abs(got.start - want["start"]) <= 0.3 and abs(got.end - want["end"]) <= 0.3


def test_mono_flac_is_one_unknown_speaker() -> None:
    transcript = transcribe(DATA / "call_mono.flac", OPTIONS)
    assert {s.speaker for s in transcript.segments} == {"unknown"}
    assert len(transcript.segments) >= 6
    text = "".join(bare(s.text) for s in transcript.segments)
    assert "张先生" in text and "再见" in text


def _write(path: Path, samples: np.ndarray, rate: int = 8000) -> Path:
    sf.write(path, samples.astype(np.float32), rate, subtype="PCM_16")
    return path


def test_silent_and_noise_only_channels_give_no_segments(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    silent = _write(tmp_path / "silent.wav", np.zeros((8000 * 6, 2)))
    assert transcribe(silent, OPTIONS).segments == ()
    hiss = _write(tmp_path / "hiss.wav", rng.normal(0, 0.003, (16000 * 6, 2)), rate=16000)
    assert transcribe(hiss, OPTIONS).segments == ()


def test_one_silent_channel_gives_only_the_other_speaker(tmp_path: Path) -> None:
    audio, rate = sf.read(CALL, dtype="float32")
    audio[:, 1] = 0.0  # the customer's line is dead
    only_agent = _write(tmp_path / "agent_only.wav", audio, rate)
    speakers = {s.speaker for s in transcribe(only_agent, OPTIONS).segments}
    assert speakers == {"agent"}


@pytest.mark.parametrize(
    ("name", "answer_type", "expected"),
    [
        ("ans_vs", "scale", "very_satisfied"),
        ("ans_neutral", "scale", "neutral"),
        ("ans_no", "yes_no", "no"),
        ("ans_none", "scale", None),  # "你说什么" is none of the options
    ],
)
def test_closed_set_answers(name: str, answer_type: str, expected: str | None) -> None:
    guess = recognise_answer_file(DATA / f"{name}.wav", answer_type)
    assert guess.label == expected, guess
    assert guess.scores and set(guess.scores) <= {*ANSWER_SETS[answer_type], "none"}


def test_closed_set_answer_on_silence_is_none(tmp_path: Path) -> None:
    silent = _write(tmp_path / "quiet.wav", np.zeros(8000))
    assert recognise_answer_file(silent, "scale").label is None


# --- bad input ------------------------------------------------------------------------------


def _header_only_wav(path: Path) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
    return path


def _file(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.wav", "找不到录音文件"),
        (lambda p: _file(p / "empty.wav", b""), "为空"),
        (lambda p: _file(p / "notes.wav", "你好".encode()), "无法解码"),
        (lambda p: _header_only_wav(p / "zero.wav"), "时长为零"),
        (lambda p: _file(p / "cut.wav", CALL.read_bytes()[:30]), "无法解码|时长为零"),
    ],
    ids=["missing", "empty", "not-audio", "zero-length", "truncated-header"],
)
def test_bad_files_raise_audio_error(
    tmp_path: Path, make: Callable[[Path], Path], message: str
) -> None:
    with pytest.raises(AudioError, match=message):
        transcribe(make(tmp_path), OPTIONS)


def test_over_long_recording_is_refused() -> None:
    options = AsrSettings(max_duration_s=10).options()
    with pytest.raises(AudioError, match="超过"):
        transcribe(CALL, options)


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callcenter", *args],
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )


def test_cli_prints_the_contracts_transcript() -> None:
    result = _cli("transcribe", str(DATA / "ans_vs.wav"), "--json")
    assert result.returncode == 0, result.stderr
    transcript = json.loads(result.stdout)
    assert set(transcript) >= {"audio", "duration", "language", "segments"}
    assert [s["speaker"] for s in transcript["segments"]] == ["unknown"]


@pytest.mark.parametrize("content", [b"", b"RIFF\x00\x00", "随便写的".encode()])
def test_cli_bad_file_is_one_line_error(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    result = _cli("transcribe", str(bad), "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "bad.wav" in errors[0]


def test_cli_over_long_limit_from_settings(tmp_path: Path) -> None:

    env = {
        **os.environ,
        "CALLCENTER_ASR__MAX_DURATION_S": "5",
        "CALLCENTER_INSTANCE_PATH": str(tmp_path),
    }
    result = _cli("transcribe", str(CALL), env=env)
    assert result.returncode == 1 and "超过" in result.stderr and "Traceback" not in result.stderr


def test_cli_answer() -> None:
    result = _cli("answer", str(DATA / "ans_no.wav"), "--type", "yes_no", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["answer"] == "no"


# --- the model ------------------------------------------------------------------------------


def test_bundled_model_is_assembled_and_checked(tmp_path: Path) -> None:
    target = tmp_path / "whisper-base"
    assemble_base_model(target)
    assert (target / ".verified").is_file()
    assert {p.name for p in target.iterdir()} == {*BASE_FILES, ".verified"}


def test_damaged_bundled_model_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import callcenter.asr.model as model

    monkeypatch.setitem(model.BASE_FILES, "vocabulary.txt", "0" * 64)
    with pytest.raises(ModelError, match="vocabulary.txt"):
        assemble_base_model(tmp_path / "whisper-base")
    assert not (tmp_path / "whisper-base").exists()  # nothing half-made left behind


def test_configured_model_dir_must_be_complete(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model.bin"):
        model_dir(ModelSpec(path=str(tmp_path)))
    shutil.copytree(model_dir(ModelSpec()), tmp_path / "copy")
    assert model_dir(ModelSpec(path=str(tmp_path / "copy"))) == tmp_path / "copy"


# --- text -----------------------------------------------------------------------------------


def test_clean_text() -> None:
    assert clean_text("您對這次保養滿意嗎?") == "您对这次保养满意吗？"
    assert clean_text("好的 好的 谢谢") == "好的好的谢谢"
    assert clean_text("对对对对对对对对对对对对") == "对"
    assert clean_text("嗯嗯嗯嗯嗯嗯") == "嗯"
    assert clean_text(" OK ") == "OK"
    assert clean_text("客服专员\ufffd想") == "客服专员想"


def test_prompt_echo_is_recognised_but_short_answers_are_not() -> None:
    prompt = OPTIONS.prompt
    assert echoes_prompt("您对接车、交车和服务顾问满意吗", prompt)
    assert not echoes_prompt("非常满意", prompt)  # in the prompt, and really said
    assert not echoes_prompt("等的时间太长了我很不满意", prompt)
    assert math.isclose(len(bare("您好，我是")), 4)


def test_prompt_is_given_with_half_width_punctuation() -> None:
    assert prompt_text("您好，请问是张先生吗？我是客服。") == "您好,请问是张先生吗?我是客服."
