"""The two instance templates (ztdl_pipeline/instance/): the PostgreSQL one is the SQLite one plus its storage,
both are valid Dagster instance settings, and `make home` writes the one ZTDL_POSTGRES_URL selects."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from ztdl_pipeline.instance import POSTGRES_TEMPLATE, POSTGRES_URL_ENV, TEMPLATE

REPO = Path(__file__).resolve().parents[2]
URL = "postgresql+psycopg2://ztdl:secret@127.0.0.1:5432/dagster"


def test_the_postgres_template_is_the_default_plus_postgres_storage():
    default = yaml.safe_load(TEMPLATE.read_text())
    postgres = yaml.safe_load(POSTGRES_TEMPLATE.read_text())
    storage = postgres.pop("storage")
    assert postgres == default  # pool limit, run monitoring and telemetry are the same
    assert storage == {"postgres": {"postgres_url": {"env": POSTGRES_URL_ENV}}}  # no URL or password in the file


@pytest.mark.parametrize("template", [TEMPLATE, POSTGRES_TEMPLATE], ids=["sqlite", "postgres"])
def test_the_templates_are_valid_instance_settings(template, tmp_path, monkeypatch):
    from dagster._core.instance.config import dagster_instance_config

    shutil.copy(template, tmp_path / "dagster.yaml")
    monkeypatch.setenv(POSTGRES_URL_ENV, URL)
    config, _ = dagster_instance_config(str(tmp_path))
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["run_monitoring"]["enabled"] is True


def _make_home(home: Path, url: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in (POSTGRES_URL_ENV, "MAKEFLAGS", "MAKELEVEL")}
    if url is not None:
        env[POSTGRES_URL_ENV] = url
    return subprocess.run(["make", "-s", "home", f"DAGSTER_HOME={home}"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.skipif(shutil.which("make") is None, reason="no make on this machine")
def test_make_home_writes_the_template_the_url_selects_and_switches_back(tmp_path):
    home = tmp_path / "home"
    instance = home / "dagster.yaml"
    assert _make_home(home, None).returncode == 0
    assert instance.read_text() == TEMPLATE.read_text()

    switched = _make_home(home, URL)
    assert switched.returncode == 0, switched.stderr
    assert instance.read_text() == POSTGRES_TEMPLATE.read_text()
    assert (home / "dagster.yaml.bak").read_text() == TEMPLATE.read_text()

    edited = instance.read_text() + "\n# a local edit\n"  # a later `make home` with the same choice keeps it
    instance.write_text(edited)
    assert _make_home(home, URL).returncode == 0 and instance.read_text() == edited

    assert _make_home(home, None).returncode == 0
    assert instance.read_text() == TEMPLATE.read_text()

    wrong = _make_home(home, "postgresql://ztdl@127.0.0.1/dagster")  # psycopg (3), which is not installed
    assert wrong.returncode != 0 and "postgresql+psycopg2://" in wrong.stderr
