from __future__ import annotations

from pathlib import Path

import pytest

from desktop.paths import hearth_paths
from desktop.settings import SCHEMA_VERSION, Settings, load_settings, save_settings


def test_hearth_home_redirects_every_location(hearth_home: Path) -> None:
    paths = hearth_paths()
    for folder in (paths.data_dir, paths.config_dir, paths.log_dir, paths.cache_dir):
        assert folder.is_relative_to(hearth_home)
    assert paths.default_models_dir.is_relative_to(paths.data_dir)
    assert not paths.default_models_dir.is_relative_to(paths.staging_dir)
    assert not paths.staging_dir.is_relative_to(paths.default_models_dir)


def test_without_hearth_home_platformdirs_are_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HEARTH_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    assert hearth_paths().data_dir == tmp_path / "xdg-data" / "Hearth"


def test_settings_round_trip_and_defaults() -> None:
    assert load_settings() == Settings()
    s = Settings(models_dir="/somewhere/models", threads=3, last_conversation_id=7)
    save_settings(s)
    loaded = load_settings()
    assert loaded == s
    assert loaded.schema_version == SCHEMA_VERSION
    assert loaded.resolved_models_dir() == Path("/somewhere/models")


def test_damaged_settings_file_gives_defaults() -> None:
    file = hearth_paths().settings_file
    file.parent.mkdir(parents=True)
    file.write_text("{not json")
    assert load_settings() == Settings()
    file.write_text('{"threads": 2, "unknown_key": 1}')
    assert load_settings().threads == 2


def test_version_1_engine_defaults_become_the_faster_ones() -> None:
    file = hearth_paths().settings_file
    file.parent.mkdir(parents=True)
    file.write_text('{"schema_version": 1, "batch_size": 512, "flash_attn": false, "threads": 2}')
    loaded = load_settings()
    assert (loaded.batch_size, loaded.flash_attn, loaded.threads) == (2048, True, 2)
    # a choice the person made is kept
    file.write_text('{"schema_version": 1, "batch_size": 256, "flash_attn": false}')
    assert (load_settings().batch_size, load_settings().flash_attn) == (256, False)
