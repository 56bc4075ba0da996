"""core/fundamentals.py: the DataCamp lessons' arithmetic against the numbers the memo prints (seed 001), and the
catalogue's lessons computed end to end (catalog/fundamentals.py)."""

from __future__ import annotations

import numpy as np
import pytest

from ztdl_pipeline.core import fundamentals as F

CUSTOMER = {"node_0": [2, 4], "node_1": [4, -5], "output": [2, 7]}


def test_forward_propagation_prints_26_and_minus_39():
    assert F.node_input([3, 5], CUSTOMER["node_0"]) == 26
    assert F.node_input([3, 5], CUSTOMER["node_1"]) == -13
    assert F.forward([3, 5], F.two_layer(CUSTOMER)) == -39


def test_relu_turns_the_negative_node_off_52():
    assert F.relu([-13, 26, 0]).tolist() == [0, 26, 0]
    assert F.forward([3, 5], F.two_layer(CUSTOMER), "relu") == 52


def test_many_rows_52_63_0_148():
    rows = [[3, 5], [1, -1], [0, 0], [8, 4]]
    assert F.forward_rows(rows, F.two_layer(CUSTOMER), "relu", "relu") == [52, 63, 0, 148]


def test_two_hidden_layers_182():
    layers = [[[2, 4], [4, -5]], [[-1, 2], [1, 2]], [[2, 7]]]
    assert F.forward([3, 5], layers, "relu") == 182


def test_model_error_11_and_9_to_9_08():
    numbers = F.lesson_model_error(prediction=16, target=5, hidden_value=8, weight=2, new_weight=2.01,
                                   target_changed=7)
    assert numbers["error"] == 11 and numbers["error_before"] == 9
    assert numbers["error_after"] == pytest.approx(9.08)


def test_perfect_weights_6_and_0():
    w0 = {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}
    w1 = {**w0, "output": [1, 0]}
    assert F.lesson_errors([0, 3], w0, w1, 3) == {"error_0": 6, "error_1": 0}


def test_mean_squared_errors_37_5_and_49_890625():
    rows, targets = [[0, 3], [1, 2], [-1, -2], [4, 0]], [1, 3, 5, 7]
    w0 = {"node_0": [2, 1], "node_1": [1, 2], "output": [1, 1]}
    w1 = {"node_0": [2, 1], "node_1": [1.0, 1.5], "output": [1.0, 1.5]}
    assert F.mse(F.forward_rows(rows, F.two_layer(w0), "relu", "relu"), targets) == 37.5
    assert F.mse(F.forward_rows(rows, F.two_layer(w1), "relu", "relu"), targets) == 49.890625
    assert F.mse([1, 2], [1, 4]) == 2


def test_slopes_and_one_gradient_step():
    x, w = np.array([1, 2, 3]), np.array([0, 2, 1])
    preds = float(x @ w)
    assert preds == 7
    assert F.slope(x, 0 - preds).tolist() == [-14, -28, -42]  # as printed: error = target - preds
    updated = F.gradient_step(w, F.slope(x, preds - 0), 0.01)
    assert updated == pytest.approx([-0.14, 1.72, 0.58])
    assert float(x @ updated) == pytest.approx(5.04)
    assert F.gradient_step(2, -24, 0.01) == pytest.approx(2.24)  # the slide


def test_descent_lowers_the_squared_error_every_step():
    _, history, passes = F.descend([1, 2, 3], [0, 2, 1], 0, 0.01, 20)
    assert passes == 20 and history[0] == 49
    assert all(b < a for a, b in zip(history, history[1:]))


def test_backprop_quiz_gradients_0_18_6():
    assert [F.weight_gradient(*parts) for parts in ((0, 6, 1), (1, 18, 1), (2, 3, 1))] == [0, 18, 6]


def test_printed_rounding_is_half_the_last_digit():
    assert F.printed_rounding(52) == 0.5
    assert F.printed_rounding(9.08) == pytest.approx(0.005)
    assert F.printed_rounding(49.890625) == pytest.approx(5e-7)
    assert F.printed_rounding(-0.14) == pytest.approx(0.005)
    assert F.printed_rounding(1e-7) == pytest.approx(5e-8) and F.printed_rounding(100) == 0.5


def test_every_lesson_of_the_catalogue_matches_the_memo():
    from ztdl_pipeline.catalog import fundamentals as catalog
    from ztdl_pipeline.core.refs import resolve

    chapter = F.fundamentals_chapter(catalog.LESSONS, resolve)
    printed = catalog.REPORT_NUMBERS[catalog.REPORT]
    assert chapter.result["comparison"] == {"numbers": len(printed), "matching": len(printed), "problems": []}
    for number in printed:
        assert chapter.result[number.split][number.metric] == pytest.approx(number.value, abs=1e-9), number
    assert "NO" not in chapter.markdown(embed=False)


def test_a_wrong_number_is_named():
    lesson = F.Lesson("x", "x", "m:f", {}, (F.BookNumber("x", "a", 9.08, "001:L1"),), "src")
    rows = F.compare(lesson, {"a": 9.1})
    assert F.problems(rows) == ["x/a: ours 9.1 vs the book's 9.08 (001:L1)"]
    assert F.problems(F.compare(lesson, {})) and F.problems(F.compare(lesson, {"a": float("nan")}))
