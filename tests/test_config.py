from pathlib import Path

import pytest

from callcenter.config import ConfigError, load_settings


def test_defaults_then_file_then_environment(tmp_path: Path) -> None:
    config = tmp_path / "cc.toml"
    config.write_text(
        'timezone = "Asia/Urumqi"\n[schedule]\nlookback_days = 10\nholidays = ["2026-10-01"]\n',
        encoding="utf-8",
    )
    settings = load_settings(
        config,
        environ={"CALLCENTER_SCHEDULE__LOOKBACK_DAYS": "12", "CALLCENTER_PIPELINE__QUEUE": "redis"},
        instance_path=str(tmp_path),
    )
    assert settings.timezone == "Asia/Urumqi"  # from the file
    assert settings.schedule.holidays == ["2026-10-01"]
    assert settings.schedule.lookback_days == 12  # environment beats the file
    assert settings.pipeline.queue == "redis"
    assert settings.schedule.sales_7dc_days == 7  # default kept
    assert settings.sqlalchemy_url == f"sqlite:///{tmp_path / 'callcenter.db'}"


def test_instance_folder_config_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "callcenter.toml").write_text('database_url = "postgresql://x/y"\n')
    assert load_settings(environ={}, instance_path=str(tmp_path)).sqlalchemy_url == (
        "postgresql://x/y"
    )


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"CALLCENTER_SCHEDULE__LOOKBACK_DAYS": "many"}, "schedule.lookback_days"),
        ({"CALLCENTER_NO_SUCH_THING": "1"}, "no_such_thing"),
        ({"CALLCENTER_SCHEDULE": "3"}, "schedule"),
    ],
)
def test_bad_values_name_the_key(tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=environ, instance_path=str(tmp_path))


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="找不到配置文件"):
        load_settings(tmp_path / "nope.toml", environ={})
