"""Settings: defaults, then an optional TOML file, then ``CALLCENTER_*`` environment variables.

The file is ``$CALLCENTER_CONFIG`` or ``<instance>/callcenter.toml``. Nested keys use sections in
the file (``[schedule] lookback_days = 30``) and a double underscore in the environment
(``CALLCENTER_SCHEDULE__LOOKBACK_DAYS=30``). Environment values are read as JSON when they parse
(numbers, lists, booleans) and as plain strings otherwise.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callcenter.asr import TranscribeOptions
    from callcenter.telephony.dialplan import DialPlan
    from callcenter.telephony.endpoint import SipConfig
    from callcenter.telephony.engine import AccountConfig, CallLimits

ENV_PREFIX = "CALLCENTER_"


class ConfigError(ValueError):
    """A setting has a value of the wrong kind; the message names the key."""


@dataclass
class ScheduleSettings:
    """Callback rules (BRIEF.md 'Callback kinds')."""

    service_3dc_working_days: int = 3
    sales_7dc_days: int = 7
    # visits/sales handed back longer ago than this get no 3DC/7DC callback (old DMS history)
    lookback_days: int = 30
    lost_customer_months: int = 6
    service_interval_months: int = 6
    service_interval_km: int = 5000
    first_service_months: int = 3
    first_service_km: int = 5000
    average_km_per_day: float = 40.0
    # reminders are created this many days before the service falls due (again when near)
    reminder_offsets_days: list[int] = field(default_factory=lambda: [14, 3])
    reminder_due_days: int = 2  # a reminder callback must be made within this many days
    # no reminder once the service due date has passed by more than this many days
    reminder_grace_days: int = 7
    # the worker creates due callbacks this often (seconds); 0 leaves it to `callcenter schedule`
    run_every_s: float = 900.0
    lost_customer_due_days: int = 7
    complaint_followup_hours: int = 24
    # public holidays (YYYY-MM-DD) and weekend days that are working days (调休)
    holidays: list[str] = field(default_factory=list)
    extra_workdays: list[str] = field(default_factory=list)


@dataclass
class PipelineSettings:
    """Background processing of recorded calls."""

    queue: str = "sqlite"  # sqlite | redis | memory
    queue_path: str = ""  # SqliteHuey file; default <instance>/queue.db
    redis_url: str = "redis://127.0.0.1:6379/0"
    workers: int = 2
    lease_s: float = 300.0  # a step whose lease ran out (worker died) is run again
    sweep_interval_s: float = 30.0
    max_attempts: int = 3
    retry_delay_s: float = 60.0  # wait before retrying a failed step; doubles per attempt
    # dotted paths "module:function" of the step functions (asr/scoring issues plug in here)
    transcribe_step: str = "callcenter.pipeline.steps:transcribe_recording"
    score_step: str = "callcenter.pipeline.steps:score_transcript"


@dataclass
class AsrSettings:
    """Speech recognition (``callcenter.asr``). README "Speech model" says how to use a larger
    model or a GPU."""

    model_dir: str = ""  # a CTranslate2 Whisper model directory; empty: the bundled base model
    cache_dir: str = ""  # where the bundled model is assembled; default ~/.cache/callcenter
    device: str = "cpu"  # cpu | cuda | auto
    compute_type: str = "int8"  # int8 on a CPU; float16 or int8_float16 on a GPU
    cpu_threads: int = 0  # 0: one per core
    beam_size: int = 5  # 1 (greedy) is 1.4× faster; dev set CER 9.0 % against 7.9 %
    batch_size: int = 8
    max_duration_s: float = 3600.0  # longer recordings are refused
    turn_pause_s: float = 0.4  # a pause this long ends an utterance
    speech_pad_s: float = 0.3  # context the model hears either side of an utterance
    # a natural sentence in each template's vocabulary; "default" for templates not listed
    prompts: dict[str, str] = field(
        default_factory=lambda: {
            "default": "您好,我是4S店的客服专员,想耽误您几分钟做个回访,请问您现在方便吗?",
            "service_3dc": (
                "您好,我是4S店的客服专员,您上周来店保养维修过,想做个回访."
                "您对接车,交车和服务顾问满意吗?非常满意,等待时间有点长."
            ),
            "sales_7dc": (
                "您好,我是4S店的客服专员,您上周在我们店提了新车,想做个回访."
                "销售顾问对车辆配置和交车的解释您满意吗?挺满意的."
            ),
        }
    )
    hotwords: str = ""

    def options(self, template_id: str | None = None) -> TranscribeOptions:
        """The recogniser's options for calls of ``template_id``."""
        from callcenter.asr import ModelSpec, TranscribeOptions

        prompts = {**AsrSettings().prompts, **self.prompts}
        return TranscribeOptions(
            model=ModelSpec(
                path=self.model_dir,
                device=self.device,
                compute_type=self.compute_type,
                cpu_threads=self.cpu_threads,
                cache_dir=self.cache_dir,
            ),
            prompt=prompts.get(template_id or "", prompts.get("default", "")),
            hotwords=self.hotwords,
            beam_size=self.beam_size,
            batch_size=self.batch_size,
            max_duration_s=self.max_duration_s,
            turn_pause_s=self.turn_pause_s,
            speech_pad_s=self.speech_pad_s,
        )

    def engine_name(self) -> str:
        """What transcribed a call, stored with its transcript."""
        return f"faster-whisper:{self.model_dir or 'base'}:{self.device}:{self.compute_type}"


@dataclass
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 5000
    secret_key: str = ""  # generated into <instance>/secret_key when empty
    threads: int = 8


@dataclass
class TelephonySettings:
    """The SIP engine (``callcenter.telephony``): the PBX / trunk, the dial plan, call limits.
    The password belongs in the instance's config file or ``CALLCENTER_TELEPHONY__PASSWORD``."""

    enabled: bool = True  # `callcenter serve` starts the engine
    bind_address: str = "127.0.0.1"  # the address SIP and RTP use
    sip_port: int = 5060
    transport: str = "udp"  # udp | tcp
    rtp_port: int = 40000
    clock_rate: int = 8000  # recordings' sample rate
    registrar: str = ""  # "sip:pbx.example.com"; empty: direct IP, no registration
    username: str = ""
    password: str = ""
    realm: str = "*"
    domain: str = ""  # where dialled numbers go; default: the registrar's host
    outbound_proxy: str = ""
    caller_id: str = ""
    reregister_s: int = 300
    outside_prefix: str = ""  # e.g. "9" for an outside line on a PBX
    area_code: str = ""  # the dealership's own, without the 0 ("10", "755")
    mobile_prefix: str = ""
    ring_timeout_s: float = 30.0
    max_call_s: float = 1800.0
    max_channels: int = 8  # click-to-calls at once (one line process per two)
    poll_s: float = 0.3  # how often the engine looks for new call requests
    log_level: int = 1  # pjsip's own log level (0–6)

    def sip_config(self) -> SipConfig:
        from callcenter.telephony.endpoint import SipConfig

        if self.transport not in ("udp", "tcp"):
            raise ConfigError(f"telephony.transport 应为 udp 或 tcp,实际为 {self.transport!r}")
        return SipConfig(
            bind_address=self.bind_address,
            sip_port=self.sip_port,
            transport=self.transport,
            rtp_port=self.rtp_port,
            clock_rate=self.clock_rate,
            log_level=self.log_level,
        )

    def account(self) -> AccountConfig:
        from callcenter.telephony.engine import AccountConfig

        return AccountConfig(
            registrar=self.registrar,
            username=self.username,
            password=self.password,
            realm=self.realm,
            domain=self.domain,
            outbound_proxy=self.outbound_proxy,
            caller_id=self.caller_id,
            reregister_s=self.reregister_s,
        )

    def limits(self) -> CallLimits:
        from callcenter.telephony.engine import CallLimits

        return CallLimits(self.ring_timeout_s, self.max_call_s, self.max_channels)

    def dial_plan(self) -> DialPlan:
        from callcenter.telephony.dialplan import DialPlan

        domain = self.domain or self.registrar.split(":", 1)[-1].split(";", 1)[0]
        if not domain:
            domain = f"{self.bind_address}:{self.sip_port}"
        return DialPlan(
            outside_prefix=self.outside_prefix,
            area_code=self.area_code,
            mobile_prefix=self.mobile_prefix,
            domain=domain,
            transport=self.transport,
        )


@dataclass
class Settings:
    instance_path: str = "instance"
    database_url: str = ""  # default sqlite:///<instance>/callcenter.db
    timezone: str = "Asia/Shanghai"
    working_hours: list[str] = field(default_factory=lambda: ["09:00", "18:30"])
    recordings_path: str = ""  # default <instance>/recordings
    import_mapping: dict[str, list[str]] = field(default_factory=dict)  # extra header aliases
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    asr: AsrSettings = field(default_factory=AsrSettings)
    web: WebSettings = field(default_factory=WebSettings)
    telephony: TelephonySettings = field(default_factory=TelephonySettings)

    @property
    def instance_dir(self) -> Path:
        return Path(self.instance_path).resolve()

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{self.instance_dir / 'callcenter.db'}"

    @property
    def recordings_dir(self) -> Path:
        return (
            Path(self.recordings_path).resolve()
            if self.recordings_path
            else (self.instance_dir / "recordings")
        )

    @property
    def queue_file(self) -> Path:
        return Path(self.pipeline.queue_path or self.instance_dir / "queue.db")


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Check ``value`` against a field's annotation, converting where that is unambiguous."""
    origin = typing.get_origin(annotation) or annotation
    if origin is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if origin is str and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if origin in (int, str, bool, float, list, dict) and not isinstance(value, origin):
        raise ConfigError(
            f"设置项 {key} 应为 {origin.__name__},实际为 {type(value).__name__}: {value!r}"
        )
    if origin is int and isinstance(value, bool):
        raise ConfigError(f"设置项 {key} 应为整数,实际为布尔值")
    return value


def _apply(target: Any, values: Mapping[str, Any], prefix: str = "") -> None:
    hints = typing.get_type_hints(type(target))
    names = {f.name for f in dataclasses.fields(target)}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if key not in names:
            raise ConfigError(f"未知的设置项: {dotted}")
        current = getattr(target, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, Mapping):
                raise ConfigError(f"设置项 {dotted} 应为一个小节(表)")
            _apply(current, value, prefix=f"{dotted}.")
        else:
            setattr(target, key, _coerce(value, hints[key], dotted))


def _env_values(environ: Mapping[str, str]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = nested
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
    return nested


def load_settings(
    config_file: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings: defaults → config file → environment → keyword overrides."""
    environ = os.environ if environ is None else environ
    settings = Settings()
    env = _env_values(environ)
    if "instance_path" in env:
        settings.instance_path = str(env["instance_path"])
    if "instance_path" in overrides:
        settings.instance_path = str(overrides["instance_path"])
    path = config_file or environ.get(f"{ENV_PREFIX}CONFIG")
    candidate = Path(path) if path else settings.instance_dir / "callcenter.toml"
    if path and not candidate.is_file():
        raise ConfigError(f"找不到配置文件: {candidate}")
    if candidate.is_file():
        try:
            data = tomllib.loads(candidate.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"配置文件 {candidate} 格式错误: {exc}") from exc
        _apply(settings, data)
    _apply(settings, env)
    _apply(settings, overrides)
    return settings
