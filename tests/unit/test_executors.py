"""The executor is chosen in one place, by $ZTDL_EXECUTOR (ztdl_pipeline/executors.py): in-process by default, a
clear error for a value that is not a choice, and for an optional executor whose package is missing, the install
command. Training steps carry the placement that executors read (core/placement.py)."""

from __future__ import annotations

import json
import sys

import dagster as dg
import pytest
import yaml

from ztdl_pipeline import executors, settings
from ztdl_pipeline.core.placement import CELERY_QUEUE_TAG, GPU_RESOURCE, K8S_CONFIG_TAG, placement_tags
from ztdl_pipeline.core.requirements import MissingDependency


@pytest.fixture
def choose(monkeypatch):
    def set_choice(value: str | None):
        if value is None:
            monkeypatch.delenv(settings.EXECUTOR_ENV, raising=False)
        else:
            monkeypatch.setenv(settings.EXECUTOR_ENV, value)
        return executors.executor()

    return set_choice


def test_in_process_is_the_default_and_each_choice_gives_its_executor(choose):
    assert choose(None) is dg.in_process_executor
    assert choose("  ") is dg.in_process_executor
    assert choose("in_process") is dg.in_process_executor
    assert choose("multiprocess") is dg.multiprocess_executor
    assert choose("celery").name == "celery"
    assert choose("k8s").name == "k8s"


@pytest.mark.fault
@pytest.mark.parametrize("value", ["celery_k8s", "inprocess", "K8S", "dask"])
def test_a_value_that_is_not_a_choice_names_the_variable_and_the_choices(choose, value):
    with pytest.raises(ValueError) as error:
        choose(value)
    message = str(error.value)
    assert f"ZTDL_EXECUTOR={value!r}" in message and "in_process, multiprocess, celery, k8s" in message


@pytest.mark.fault
@pytest.mark.parametrize(("choice", "module", "extra"), [("celery", "dagster_celery", "celery"),
                                                         ("k8s", "dagster_k8s", "k8s")])
def test_a_missing_executor_package_fails_at_once_with_the_install_command(choose, monkeypatch, choice, module,
                                                                           extra):
    monkeypatch.setitem(sys.modules, module, None)  # what Python does for a package that is not installed
    with pytest.raises(MissingDependency) as error:
        choose(choice)
    assert f"ZTDL_EXECUTOR={choice}" in str(error.value)
    assert f"pip install -e '.[{extra}]'" in str(error.value)


def test_the_location_loads_with_the_chosen_executor(choose, monkeypatch):
    from ztdl_pipeline import definitions

    monkeypatch.setenv(settings.EXECUTOR_ENV, "multiprocess")
    defs = definitions.location()
    assert defs.resolve_job_def("tabular_job").executor_def is dg.multiprocess_executor
    monkeypatch.setenv(settings.EXECUTOR_ENV, "no-such-executor")
    with pytest.raises(ValueError, match="ZTDL_EXECUTOR"):
        definitions.location()


def test_the_celery_settings_file_is_shared_by_runs_and_workers(monkeypatch, tmp_path):
    config = executors.celery_settings()
    assert config["broker"] == {"env": "ZTDL_CELERY_BROKER"} == config["backend"]
    source = config["config_source"]
    # a killed worker's step is delivered again: acknowledged only at the end, rejected if the process dies
    assert source["task_acks_late"] is True and source["task_reject_on_worker_lost"] is True
    assert source["broker_transport_options"]["visibility_timeout"] >= 3600
    # the worker CLI accepts the same file (it validates it against the executor's own schema)
    from dagster_celery.cli import get_validated_config

    monkeypatch.setenv("ZTDL_CELERY_BROKER", "redis://127.0.0.1:6379/0")
    assert get_validated_config(str(settings.celery_config_path()))["broker"] == "redis://127.0.0.1:6379/0"

    bad = tmp_path / "celery.yaml"
    bad.write_text(yaml.safe_dump({"executor": {}}))
    monkeypatch.setenv(settings.CELERY_CONFIG_ENV, str(bad))
    with pytest.raises(ValueError, match=f"{bad}: not a Celery settings file"):
        executors.celery_settings()


def test_placement_is_derived_from_the_pool_with_the_tag_names_executors_read():
    from dagster_celery.tags import DAGSTER_CELERY_QUEUE_TAG
    from dagster_k8s.job import USER_DEFINED_K8S_CONFIG_KEY

    assert (CELERY_QUEUE_TAG, K8S_CONFIG_TAG) == (DAGSTER_CELERY_QUEUE_TAG, USER_DEFINED_K8S_CONFIG_KEY)
    tags = placement_tags("gpu")
    assert tags[CELERY_QUEUE_TAG] == "gpu"
    resources = json.loads(tags[K8S_CONFIG_TAG])["container_config"]["resources"]
    assert resources == {"requests": {GPU_RESOURCE: "1"}, "limits": {GPU_RESOURCE: "1"}}
    assert placement_tags(None) == {} and placement_tags("some-other-pool") == {}


def test_every_step_in_the_gpu_pool_and_only_those_carry_the_gpu_placement():
    from ztdl_pipeline.definitions import ALL_ASSETS

    gpu, other = [], []
    for asset in ALL_ASSETS:
        tags = asset.op.tags
        (gpu if asset.op.pool == "gpu" else other).append((asset.key.to_user_string(), tags))
    assert len(gpu) >= 30 and any(name == "models/iris_softmax_model" for name, _ in gpu)
    assert all(tags.get(CELERY_QUEUE_TAG) == "gpu" and K8S_CONFIG_TAG in tags for _, tags in gpu)
    assert not [name for name, tags in other if CELERY_QUEUE_TAG in tags or K8S_CONFIG_TAG in tags]
