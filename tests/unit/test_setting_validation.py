"""Training settings are refused before anything trains, each bad field named; a refused run leaves the stored
model as it was."""

from __future__ import annotations

import dagster as dg
import pydantic
import pytest

from ztdl_pipeline.assets.config import TrainingConfig, training_config
from ztdl_pipeline.catalog import cards
from ztdl_pipeline.core.specs import OPTIMIZER_NAMES, setting_problems


@pytest.mark.fault
def test_setting_problems_name_each_bad_field():
    assert setting_problems({"epochs": 10, "batch_size": 32, "learning_rate": 0.01, "optimizer": "SGD"}) == []
    problems = setting_problems({"epochs": 0, "batch_size": 0, "learning_rate": -1.0, "momentum": 1.0,
                                 "validation_split": 1.0, "cv_folds": 1, "restarts": 0, "optimizer": "adamw"})
    assert [p.split("=")[0] for p in problems] == ["epochs", "batch_size", "learning_rate", "momentum",
                                                   "validation_split", "cv_folds", "restarts", "optimizer"]
    assert setting_problems({"learning_rate": float("nan")}) and setting_problems({"learning_rate": float("inf")})
    assert setting_problems({"unrelated": -5}) == []  # only the fields it knows


def test_optimizer_names_are_the_ones_core_builds():
    from ztdl_pipeline.core.models import OPTIMIZERS

    assert set(OPTIMIZER_NAMES) == set(OPTIMIZERS)


@pytest.mark.fault
def test_every_generated_config_refuses_bad_values_even_where_the_card_sets_the_field():
    for _, card in cards():
        config_cls = training_config(card)
        assert config_cls().model_dump() == {**TrainingConfig().model_dump(), **card.hyper}  # the book's values
        with pytest.raises(pydantic.ValidationError, match="epochs=0 must be at least 1"):
            config_cls(epochs=0)
    with pytest.raises(pydantic.ValidationError, match="batch_size=0"):
        TrainingConfig(batch_size=0)


@pytest.mark.fault
def test_a_refused_run_trains_nothing_and_keeps_the_stored_model(data_env):
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    chain = dg.AssetSelection.assets(["models", "banknotes_logreg_model"]).upstream()
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                          selection=chain).success
    model = data_env / "models" / "banknotes_logreg" / "model.keras"
    before = (model.read_bytes(), model.stat().st_mtime_ns)
    bad = {"ops": {"models__banknotes_logreg_model": {"config": {"epochs": 0, "learning_rate": -1.0}}}}
    result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance, run_config=bad,
                            selection=dg.AssetSelection.assets(["models", "banknotes_logreg_model"]), raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    message = str(failure.event_specific_data.error)
    assert "epochs=0 must be at least 1" in message and "learning_rate=-1.0" in message
    assert not [e for e in result.all_events if e.event_type_value == "STEP_OUTPUT"]  # nothing was produced
    assert (model.read_bytes(), model.stat().st_mtime_ns) == before
