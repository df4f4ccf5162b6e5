"""The embedded default: the console, the pipeline worker and the telephony engine as children
of one command. Each entry point runs in a spawned process and imports what it needs itself, so
one missing part does not stop the others.
"""

from __future__ import annotations

import logging

from callcenter.config import ConfigError, Settings
from callcenter.supervisor import EXIT_UNAVAILABLE, ChildSpec

logger = logging.getLogger(__name__)


def run_web(settings: Settings, host: str, port: int) -> None:
    """Serve the console with waitress until stopped."""
    from waitress import create_server

    from web import create_app

    app = create_app(settings=settings)
    server = create_server(app, host=host, port=port, threads=settings.web.threads)
    logger.info("控制台已在 http://%s:%s 监听", host, port)
    server.run()


def run_pipeline_worker(settings: Settings, workers: int) -> None:
    """Run the Huey consumer that transcribes and scores recorded calls."""
    try:
        from callcenter.pipeline import run_worker
    except ImportError as exc:
        logger.warning("后台任务进程无法启动,录音转写与评分暂不可用: %s", exc)
        raise SystemExit(EXIT_UNAVAILABLE) from exc
    try:
        run_worker(settings, workers)
    except ConfigError as exc:
        # a setting restarting cannot fix (e.g. an in-process queue): say so once, stay down
        logger.error("后台任务进程无法运行: %s", exc)
        raise SystemExit(EXIT_UNAVAILABLE) from exc


def run_telephony(settings: Settings) -> None:
    """Run the SIP engine: click-to-calls requested by the console, recorded and queued."""
    try:
        from callcenter.telephony.endpoint import SipError
        from callcenter.telephony.service import run_service
    except ImportError as exc:
        logger.warning("电话引擎无法启动(缺少 pjsua2),点击呼叫暂不可用: %s", exc)
        raise SystemExit(EXIT_UNAVAILABLE) from exc
    try:
        run_service(settings)
    except (SipError, ConfigError) as exc:
        # e.g. the SIP port is taken: restarting will not free it; the rest keeps running
        logger.error("电话引擎无法运行: %s", exc)
        raise SystemExit(EXIT_UNAVAILABLE) from exc


def embedded_services(settings: Settings, host: str, port: int) -> list[ChildSpec]:
    """The child processes of ``callcenter serve``."""
    services = [
        ChildSpec("web", run_web, (settings, host, port)),
        ChildSpec("worker", run_pipeline_worker, (settings, settings.pipeline.workers)),
    ]
    if settings.telephony.enabled:
        services.append(ChildSpec("telephony", run_telephony, (settings,)))
    return services
