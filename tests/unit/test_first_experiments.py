"""core/first_experiments: ch1 exercise 4's decision boundaries, ch3's line and cost by hand, ch3's failing linear
regression, at the fast profile's settings on the real data."""

from __future__ import annotations

import keras
import pandas as pd
import pytest

from ztdl_pipeline.catalog.tabular_chapters import EXPERIMENTS
from ztdl_pipeline.core import first_experiments as F
from ztdl_pipeline.core import generated as G
from ztdl_pipeline.core.chapter import Run
from ztdl_pipeline.core.results import agrees, number_verdict

SPECS = {spec.name: spec for spec in EXPERIMENTS}
PNG = b"\x89PNG\r\n\x1a\n"


def settings(name: str) -> dict:
    return {**SPECS[name].settings, **SPECS[name].fast}


def run() -> Run:
    return Run(profile="fast", seed_fn=keras.utils.set_random_seed)


def test_the_cost_by_hand_reproduces_every_printed_mean_squared_error(mirror):
    spec = SPECS["weight_height_manual_cost"]
    chapter = F.manual_cost(pd.read_csv(mirror / "weight-height.csv"), run=run(), book=spec.book, **settings(spec.name))
    result = chapter.result
    for number in spec.book:  # to 1e-9: the book's last digits differ from ours by summation order
        assert agrees(number_verdict(result[number.split][number.metric], number)), number
    # "minimum value somewhere near 50": of the book's b, 50 costs least; the exact minimum lies between 0 and 50
    assert result["minimum"]["best_listed_b"] == 50.0 and 0 < result["minimum"]["exact_b"] < 50
    assert result["minimum"]["exact_cost"] < min(result["cost_vs_b"].values())
    assert set(chapter.images) == {"lines", "cost_vs_b"}


def test_the_mean_squared_error_is_the_books_formula():
    assert F.mse([1.0, 2.0, 3.0], [1.0, 0.0, 6.0]) == pytest.approx((0 + 4 + 9) / 3)
    assert F.line_key(2.0, 20.0) == "w2_b20" and F.line_key(0.0, -100.0) == "w0_b-100"


def test_a_line_fitted_to_zero_one_outcomes_predicts_outside_zero_and_one(mirror):
    chapter = F.linear_fail(pd.read_csv(mirror / "user_visit_duration.csv"), run=run(),
                            **settings("visit_duration_linear_fail"))
    line = chapter.result["line"]
    assert line["share_outside_0_1"] > 0 and (line["min_prediction"] < 0 or line["max_prediction"] > 1)
    assert line["weight"] > 0  # longer visits buy more often
    assert 0.5 < line["accuracy_at_half"] <= 1.0
    assert chapter.images["linear_regression_fail"].startswith(PNG)


def test_the_tanh_network_separates_all_three_toy_sets():
    data = {"circles": G.circles(1000, 0.1, 0.2, 0), "blobs": G.blobs(1000, 2, 0), "moons": G.moons(1000, 0.1, 0)}
    chapter = F.toy_boundaries(data, run=run(), **settings("toy_boundaries"))
    for name in data:
        assert chapter.result[name]["rows"] == 1000.0
        assert chapter.result[name]["accuracy"] > 0.8, (name, chapter.result[name])
        assert chapter.images[f"boundary_{name}"].startswith(PNG)
    assert set(G.blobs(1000, 2, 0)["y"]) == {0, 1}
