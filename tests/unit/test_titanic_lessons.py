"""core/titanic_lessons: DataCamp's Titanic lessons (learning rates, validation split, early stopping, wider and
deeper networks) on DataCamp's 10 predictors, at the fast profile's settings on the real Titanic file."""

from __future__ import annotations

import keras
import pandas as pd
import pytest

from ztdl_pipeline.catalog import tabular
from ztdl_pipeline.catalog.tabular_chapters import EXPERIMENTS
from ztdl_pipeline.core import titanic_lessons as T
from ztdl_pipeline.core.chapter import Run
from ztdl_pipeline.core.features import build_features
from ztdl_pipeline.core.results import agrees, number_verdict

SPEC = next(spec for spec in EXPERIMENTS if spec.name == "titanic_lessons")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def titanic(mirror) -> pd.DataFrame:
    recipe = next(f.recipe for f in tabular.FEATURES if f.dataset == "titanic")
    return build_features(pd.read_csv(mirror / "titanic-train.csv"), recipe)


@pytest.mark.parametrize("name,book", [("wider_1", 242), ("wider_2", 11402), ("deeper_1", 652), ("deeper_2", 5752)])
def test_the_networks_have_datacamps_parameter_counts(name, book):
    assert T.parameter_count(len(T.PREDICTORS), T.NETWORKS[name]) == book  # 001:L1125–1153, L1196–1224


def test_datacamps_ten_predictors_of_every_passenger(titanic):
    x, y = T.datacamp_predictors(titanic)
    assert x.shape == (891, 10) and y.shape == (891, 2)
    assert set(x[:, 0]) == {1.0, 2.0, 3.0}  # pclass as DataCamp keeps it, one column
    assert (y.sum(axis=1) == 1).all() and int(y[:, 1].sum()) == 342  # 342 of 891 survived
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['Fare'\]"):
        T.datacamp_predictors(titanic.drop(columns="Fare"))


def test_the_fast_run_records_every_lesson(titanic):
    settings = {**SPEC.settings, **SPEC.fast, "epochs": 2}  # the printed numbers are checked in the group run
    chapter = T.titanic_lessons(titanic, run=Run(profile="fast", seed_fn=keras.utils.set_random_seed),
                                book=SPEC.book, **settings)
    result = chapter.result
    assert {k for k in result["learning_rates"] if k.startswith("final")} == {
        "final_loss_lr_1e-06", "final_loss_lr_0.01", "final_loss_lr_1"}
    assert all(len(h["loss"]) == settings["epochs"] for h in result["curves"]["learning_rates"].values())
    stopped = result["early_stopping"]["epochs_run"]
    # EarlyStopping(patience=2) needs at least 1 + patience epochs to stop, and never runs past the limit
    assert isinstance(stopped, int) and settings["patience"] + 1 <= stopped <= settings["stopping_epochs"]
    assert 0.0 <= result["validation_split"]["final_val_accuracy"] <= 1.0
    counts = {n.metric: n for n in SPEC.book if n.metric.endswith("_params")}
    for lesson in ("wider", "deeper"):
        for metric, number in counts.items():
            if number.split == lesson:
                assert number.tolerance == 0.0 and agrees(number_verdict(result[lesson][metric], number))
    assert all(png.startswith(PNG) for png in chapter.images.values())
    assert set(chapter.images) == {"learning_rates", "validation_split", "wider", "deeper"}
