"""DataCamp's forward-propagation and gradient lessons (seed 001/004), computed with NumPy: no Dagster, no Keras.

The building blocks are the lessons' own arithmetic: a node is the sum of its inputs times its weights, then an
activation (identity or ReLU); a network is a list of layers, each a list of nodes' weight vectors, the last
layer one output node; the loss is the mean squared error; the slope of the squared error of a linear
prediction `w·x` with respect to `w` is `2 · x · error`; one step of gradient descent is `w − learning_rate ·
slope`; in backpropagation a weight's gradient is the value of the node it comes from × the loss's slope at the
node it feeds × that node's activation slope.

Each lesson of the catalogue (catalog/fundamentals.LESSONS) names one `lesson_*` function here by reference;
the function takes the lesson's inputs as the catalogue states them (the memo's `weights` dictionaries) and
returns every number the memo prints for it, by name. `fundamentals_chapter` puts ours next to the book's.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from ztdl_pipeline.core.chapter import Chapter
from ztdl_pipeline.core.report import BookNumber, markdown_table

Layers = Sequence[Sequence[Sequence[float]]]  # layers -> nodes -> the weights of a node's inputs


@dataclass(frozen=True)
class Lesson:
    """One lesson of the memo: what it computes (a `lesson_*` function by reference), its inputs as the
    catalogue states them, and the numbers the memo prints (BookNumber: split = the lesson, metric = the
    number's name, where = the memo's line)."""

    name: str
    title: str
    compute: str  # "ztdl_pipeline.core.fundamentals:lesson_..."
    inputs: Mapping[str, Any]
    book: tuple[BookNumber, ...]
    source: str
    notes: str = ""
    extra: tuple[str, ...] = field(default=())  # numbers we also report that the memo only plots


# ------------------------------------------------------------------ the arithmetic


def identity(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=float)


def relu(x: Any) -> np.ndarray:
    """max(x, 0), elementwise (the memo's `relu(input) = max(input, 0)`)."""
    return np.maximum(np.asarray(x, dtype=float), 0.0)


ACTIVATIONS: dict[str, Callable[[Any], np.ndarray]] = {"identity": identity, "relu": relu}


def node_input(x: Any, weights: Any) -> float:
    """A node's input: (x * weights).sum()."""
    return float((np.asarray(x, dtype=float) * np.asarray(weights, dtype=float)).sum())


def forward(x: Any, layers: Layers, activation: str = "identity", output_activation: str = "identity") -> float:
    """Forward propagation through hidden layers (each node: `activation` of its input) to one output node."""
    values = np.asarray(x, dtype=float)
    *hidden, (output,) = layers
    for layer in hidden:
        values = ACTIVATIONS[activation](np.array([node_input(values, w) for w in layer]))
    return float(ACTIVATIONS[output_activation](node_input(values, output)))


def forward_rows(rows: Sequence[Any], layers: Layers, activation: str = "identity",
                 output_activation: str = "identity") -> list[float]:
    """`forward` for every row (the memo's loop over `input_data`)."""
    return [forward(row, layers, activation, output_activation) for row in rows]


def mse(predictions: Sequence[float], targets: Sequence[float]) -> float:
    """Mean squared error."""
    return float(np.mean((np.asarray(predictions, dtype=float) - np.asarray(targets, dtype=float)) ** 2))


def slope(x: Any, error: float) -> np.ndarray:
    """The slope of the squared error of a prediction `w·x` with respect to `w`: 2 · x · error."""
    return 2 * np.asarray(x, dtype=float) * error


def gradient_step(weights: Any, slopes: Any, learning_rate: float) -> np.ndarray:
    """One step of gradient descent: weights − learning_rate · slope."""
    return np.asarray(weights, dtype=float) - learning_rate * np.asarray(slopes, dtype=float)


def descend(x: Any, weights: Any, target: float, learning_rate: float, n_updates: int) -> tuple[np.ndarray, list[float], int]:
    """`n_updates` steps of gradient descent on one row of a linear prediction; returns the final weights, the
    squared error before each update and the number of forward passes made (one per update)."""
    weights, history, passes = np.asarray(weights, dtype=float), [], 0
    for _ in range(n_updates):
        error = float(np.dot(x, weights)) - target
        passes += 1
        history.append(error ** 2)
        weights = gradient_step(weights, slope(x, error), learning_rate)
    return weights, history, passes


def weight_gradient(node_value: float, loss_slope: float, activation_slope: float) -> float:
    """Backpropagation: the gradient of a weight is the value of the node it comes from × the loss's slope at
    the node it feeds × that node's activation slope (1 for a ReLU node that is on)."""
    return float(node_value * loss_slope * activation_slope)


def two_layer(weights: Mapping[str, Sequence[float]]) -> list[list[Sequence[float]]]:
    """The memo's `weights` dictionary ({'node_0': ..., 'node_1': ..., 'output': ...}) as layers."""
    return [[weights["node_0"], weights["node_1"]], [weights["output"]]]


# ------------------------------------------------------------------ the lessons (catalogue: compute=)


def lesson_forward(input_data, weights, activation="identity"):
    """dc.forward_prop_2x2 / dc.relu_forward: one row through the 2-2-1 customer network."""
    return {"node_0_input": node_input(input_data, weights["node_0"]),
            "prediction": forward(input_data, two_layer(weights), activation)}


def lesson_rows(input_data, weights, activation="relu", output_activation="relu"):
    """dc.relu_many_rows: every row's prediction, ReLU on the hidden nodes and the output."""
    outputs = forward_rows(input_data, two_layer(weights), activation, output_activation)
    return {f"row_{i}": value for i, value in enumerate(outputs)}


def lesson_deeper(input_data, weights, activation="relu"):
    """dc.deeper_network_2_hidden: two hidden layers of two ReLU nodes."""
    layers = [[weights["node_0_0"], weights["node_0_1"]], [weights["node_1_0"], weights["node_1_1"]],
              [weights["output"]]]
    return {"prediction": forward(input_data, layers, activation)}


def lesson_model_error(prediction, target, hidden_value, weight, new_weight, target_changed):
    """dc.model_error: error = prediction − target; then, for the changed target, the error before and after the
    output weight from the hidden node of value `hidden_value` moves from `weight` to `new_weight` (the output is
    linear in that weight, so the prediction moves by (new − old) · hidden_value)."""
    moved = prediction + (new_weight - weight) * hidden_value
    return {"error": float(prediction - target), "error_before": float(prediction - target_changed),
            "error_after": float(moved - target_changed)}


def lesson_errors(input_data, weights_0, weights_1, target, activation="relu"):
    """dc.perfect_weights: the error of one row with two sets of weights."""
    return {f"error_{i}": forward(input_data, two_layer(w), activation, activation) - target
            for i, w in enumerate((weights_0, weights_1))}


def lesson_mse(input_data, weights_0, weights_1, targets, activation="relu"):
    """dc.mse_two_weight_sets: the mean squared error of four rows with two sets of weights."""
    return {f"mse_{i}": mse(forward_rows(input_data, two_layer(w), activation, activation), targets)
            for i, w in enumerate((weights_0, weights_1))}


def lesson_slide(weight, slope_value, learning_rate):
    """The slide's update: new weight = weight − slope · learning rate."""
    return {"new_weight": float(gradient_step(weight, slope_value, learning_rate))}


def lesson_gradient(input_data, weights, target, learning_rate, n_updates):
    """dc.gradient_descent_slopes: the slope (printed with error = target − preds), one step (taken with the
    gradient, error = preds − target), the error before and after, and `n_updates` steps (the memo plots them)."""
    x = np.asarray(input_data, dtype=float)
    error = float(np.dot(x, weights)) - target
    printed = slope(x, target - float(np.dot(x, weights)))
    updated = gradient_step(weights, slope(x, error), learning_rate)
    _, history, _ = descend(x, weights, target, learning_rate, n_updates)
    numbers = {f"slope_{i}": float(v) for i, v in enumerate(printed)}
    numbers |= {f"weights_updated_{i}": float(v) for i, v in enumerate(updated)}
    numbers |= {"error_before": error, "error_after": float(np.dot(x, updated)) - target,
                "squared_error_first": history[0], "squared_error_last": history[-1]}
    return numbers


def lesson_backprop(gradients, iterations):
    """dc.backprop_quiz: each weight's gradient from (node value, loss slope, activation slope), and how many
    forward passes `iterations` rounds of backpropagation make (one each)."""
    numbers = {name: weight_gradient(*parts) for name, parts in gradients.items()}
    numbers["forward_passes"] = float(iterations)  # each round of backpropagation follows one forward pass
    return numbers


# ------------------------------------------------------------------ ours next to the book's


def printed_rounding(value: float) -> float:
    """Half a unit of the last digit the book prints (52 → 0.5, 9.08 → 0.005, 49.890625 → 5e-7)."""
    exponent = Decimal(repr(float(value))).normalize().as_tuple().exponent
    return 0.5 * 10.0 ** min(0, int(exponent))


def compare(lesson: Lesson, ours: Mapping[str, float]) -> list[dict[str, Any]]:
    """One row per printed number: ours, the book's, the difference and whether it is within the book's rounding."""
    rows = []
    for number in lesson.book:
        value = ours.get(number.metric)
        tolerance = printed_rounding(number.value)
        matches = value is not None and math.isfinite(value) and abs(value - number.value) <= tolerance
        rows.append({"lesson": lesson.name, "number": number.metric, "ours": value, "book": number.value,
                     "difference": None if value is None else value - number.value, "tolerance": tolerance,
                     "matches": bool(matches), "where": number.where})
    return rows


def problems(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The numbers that do not match the book within its rounding."""
    return [f"{r['lesson']}/{r['number']}: ours {r['ours']} vs the book's {r['book']} ({r['where']})"
            for r in rows if not r["matches"]]


def _num(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:.10g}"


def fundamentals_chapter(lessons: Sequence[Lesson], resolve: Callable[[str], Callable]) -> Chapter:
    """Every lesson computed (`resolve` turns a lesson's `compute` reference into its function), a section each
    with its inputs and ours next to the book's, and the numbers as result (metrics.json: {lesson: {number:
    value}}) and metadata."""
    result: dict[str, Any] = {}
    rows: list[dict[str, Any]] = []
    sections = []
    for lesson in lessons:
        ours = resolve(lesson.compute)(**lesson.inputs)
        result[lesson.name] = ours
        compared = compare(lesson, ours)
        rows += compared
        table = markdown_table(["number", "ours", "book", "ours − book", "matches", "where"],
                               [[r["number"], _num(r["ours"]), _num(r["book"]), _num(r["difference"]),
                                 "yes" if r["matches"] else "NO", r["where"]] for r in compared])
        inputs = "\n".join(f"- `{k}` = `{v!r}`" for k, v in lesson.inputs.items())
        body = f"Source: {lesson.source}.\n\nInputs:\n\n{inputs}\n\n{table}"
        extra = [(n, ours[n]) for n in lesson.extra]
        if extra:
            body += "\n\nOurs only (the memo plots them): " + ", ".join(f"`{n}` = {_num(v)}" for n, v in extra)
        if lesson.notes:
            body += f"\n\n{lesson.notes}"
        sections.append((lesson.title, body))
    failed, matching = problems(rows), sum(r["matches"] for r in rows)
    summary = (f"{matching} of {len(rows)} printed numbers match the memo within its rounding (half a unit of the "
               "last digit printed).")
    if failed:
        summary += "\n\nDo not match:\n\n" + "\n".join(f"- {p}" for p in failed)
    result["comparison"] = {"numbers": len(rows), "matching": matching, "problems": failed}
    differences = [abs(r["difference"]) for r in rows if r["difference"] is not None]
    metadata: dict[str, Any] = {"numbers_matching": matching, "numbers_printed": len(rows),
                                "max_abs_difference": max(differences, default=0.0)}
    metadata |= {f"{r['lesson']}/{r['number']}": r["ours"] for r in rows}
    return Chapter("DataCamp: forward propagation and gradients, in NumPy",
                   [("Summary", summary), *sections], result=result, metadata=metadata)
