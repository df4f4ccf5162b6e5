"""Reading call recordings: any format PyAV decodes, as 16 kHz float channels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000  # what the model hears


class AudioError(ValueError):
    """The file is not a usable recording; the message names the file and the problem."""


@dataclass(frozen=True, slots=True)
class Recording:
    """A decoded recording: one float32 array per channel (at most two), 16 kHz."""

    channels: tuple[np.ndarray, ...]
    duration: float  # seconds
    source_rate: int


def load_recording(path: str | Path, max_duration_s: float = 3600.0) -> Recording:
    """Decode ``path``; AudioError when it is missing, empty, not audio, or too long."""
    import av

    path = Path(path)
    if not path.is_file():
        raise AudioError(f"找不到录音文件: {path}")
    if path.stat().st_size == 0:
        raise AudioError(f"录音文件为空(0 字节): {path}")
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioError(f"无法解码 {path.name}:不是音频文件或文件已损坏 ({exc})") from exc
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path.name} 中没有音轨")
        stream = container.streams.audio[0]
        source_rate = int(stream.rate or stream.codec_context.sample_rate or 0)
        channels = min(int(stream.channels or 1), 2)
        declared = _declared_duration(container, stream)
        if declared is not None and declared > max_duration_s:
            raise AudioError(f"{path.name} 时长 {declared:.0f} 秒,超过上限 {max_duration_s:.0f} 秒")
        resampler = av.AudioResampler(
            format="s16", layout="stereo" if channels == 2 else "mono", rate=SAMPLE_RATE
        )
        limit = int(max_duration_s * SAMPLE_RATE) + SAMPLE_RATE
        pieces: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(stream):
                frame.pts = None  # let the resampler count samples itself
                for out in resampler.resample(frame):
                    pieces.append(out.to_ndarray().reshape(-1, channels))
                    total += out.samples
                if total > limit:
                    raise AudioError(f"{path.name} 超过时长上限 {max_duration_s:.0f} 秒")
            for out in resampler.resample(None):
                pieces.append(out.to_ndarray().reshape(-1, channels))
        except av.error.FFmpegError as exc:
            raise AudioError(f"无法解码 {path.name}:文件已损坏 ({exc})") from exc
    if not pieces or sum(len(p) for p in pieces) == 0:
        raise AudioError(f"{path.name} 没有音频数据(时长为零)")
    samples = np.concatenate(pieces).astype(np.float32) / 32768.0
    return Recording(
        channels=tuple(np.ascontiguousarray(samples[:, i]) for i in range(channels)),
        duration=len(samples) / SAMPLE_RATE,
        source_rate=source_rate,
    )


def _declared_duration(container: object, stream: object) -> float | None:
    duration = getattr(stream, "duration", None)
    time_base = getattr(stream, "time_base", None)
    if duration is not None and time_base is not None:
        return float(duration * time_base)
    container_duration = getattr(container, "duration", None)
    if container_duration is not None:
        return float(container_duration) / 1_000_000  # AV_TIME_BASE
    return None
