"""ch1 and ch3 experiments the book shows as plots: ch1 exercise 4's decision boundaries on circles, blobs and moons,
ch3's hand-computed line and cost on the weight-height data, and ch3's linear regression that fails on the
visit-duration data. Each returns a core.chapter.Chapter; heavy imports stay inside the functions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ztdl_pipeline.core.chapter import Chapter, Run


def _points(frame) -> tuple[Any, Any]:
    return frame[["x1", "x2"]].to_numpy("float32"), frame["y"].to_numpy()


def toy_boundaries(data: Mapping[str, Any], *, run: Run, units: int, learning_rate: float, epochs: int,
                   seed: int) -> Chapter:
    """ch1 exercise 4 (L20381–20480): ch1's Dense(4, tanh) → Dense(1, sigmoid) with SGD(0.5), trained 30 epochs on
    all 1000 points of each generated set, and its decision boundary; the book shows the plots only."""
    import keras

    from ztdl_pipeline.core import plots
    from ztdl_pipeline.core.report import markdown_table
    from ztdl_pipeline.core.training import compile_model, fit

    result: dict[str, Any] = {"profile": run.profile}
    images = {}
    for name, frame in data.items():
        x, y = _points(frame)
        if run.seed_fn:
            run.seed_fn(seed)
        model = compile_model(keras.Sequential([keras.Input((2,)), keras.layers.Dense(units, activation="tanh"),
                                                keras.layers.Dense(1, activation="sigmoid")]),
                              keras.optimizers.SGD(learning_rate=learning_rate), "binary_crossentropy", ["accuracy"],
                              jit_compile=run.jit_compile)
        history = fit(model, x, y, epochs=epochs, batch_size=32, on_epoch_end=run.on_epoch_end)["history"]
        result[name] = {"accuracy": float(history["accuracy"][-1]), "loss": float(history["loss"][-1]),
                        "rows": float(len(y))}
        run.log(f"{name}: accuracy {result[name]['accuracy']:.4f}, loss {result[name]['loss']:.4f}")
        images[f"boundary_{name}"] = plots.decision_boundary(
            lambda grid, model=model: model.predict(grid, verbose=0, batch_size=4096), x, y,
            f"{name}: accuracy {result[name]['accuracy']:.3f} after {epochs} epochs")
    rows = [[name, int(result[name]["rows"]), result[name]["loss"], result[name]["accuracy"]] for name in data]
    sections = [
        ("Ours (the book shows the boundaries only)", markdown_table(
            ["data set", "points", "final train loss", "final train accuracy"], rows)),
        ("Setup", f"Profile {run.profile}: Dense({units}, tanh) → Dense(1, sigmoid), SGD at {learning_rate}, "
                  f"{epochs} epochs (book: 30), batch 32, on all points (no split, as the exercise); one seed for "
                  f"all. Data: raw/circles, raw/blobs, raw/moons (make_circles / make_blobs / make_moons, the "
                  f"book's arguments)."),
        ("Source", "book sol.ch1.ex4_circles_blobs_moons (L20381–20480)"),
    ]
    numbers = {f"{name}_accuracy": result[name]["accuracy"] for name in data}
    return Chapter("ch1 exercise 4: circles, blobs and moons", sections, images, result, numbers)


def mse(y_true, y_pred) -> float:
    """The book's hand-coded mean squared error."""
    import numpy as np

    return float(np.mean((np.asarray(y_true, dtype="float64") - np.asarray(y_pred, dtype="float64")) ** 2))


def line_key(w: float, b: float) -> str:
    return f"w{w:g}_b{b:g}"


def manual_cost(data, *, run: Run, line_weights: Sequence[float], line_biases: Sequence[float], cost_weight: float,
                cost_biases: Sequence[float], book: Sequence[Any] = ()) -> Chapter:
    """ch3 (L3257–3625): the line y = w·height + b drawn by hand on the weight-height data, its mean squared error
    for the book's (w, b) pairs, and the cost as b varies with w = 2 ("minimum value somewhere near 50")."""
    import numpy as np

    from ztdl_pipeline.core import plots
    from ztdl_pipeline.core.report import comparison_rows, markdown_table

    x, y = data["Height"].to_numpy("float64"), data["Weight"].to_numpy("float64")
    costs = {line_key(w, b): mse(y, x * w + b) for w, b in zip(line_weights, line_biases)}
    by_b = {b: mse(y, x * cost_weight + b) for b in cost_biases}
    listed = min(by_b, key=by_b.get)
    exact = float(np.mean(y - cost_weight * x))  # d/db of the cost is zero where b is the mean residual
    result = {"profile": run.profile, "mse": costs,
              "cost_vs_b": {f"b{b:g}": value for b, value in by_b.items()},
              "minimum": {"best_listed_b": float(listed), "exact_b": exact, "exact_cost": mse(y, x * cost_weight + exact)}}
    rows = [[f"{row['split']}/{row['metric']}", repr(row["ours"]), repr(row["book"]), f"{row['difference']:+.1e}",
             row["book_ref"]] for row in comparison_rows(result, book)]
    sections = [
        ("Ours vs the book, every digit", markdown_table(["number", "ours", "book", "ours − book", "where"], rows)
         if rows else "The book prints no number here."),
        (f"Cost as b varies (w = {cost_weight:g})", markdown_table(
            ["b", "mean squared error"], [[f"{b:g}", value] for b, value in by_b.items()])),
        ("The book's claim", f"\"Minimum value somewhere near 50\" (L3609): of the b it tries, b = {listed:g} costs "
                             f"least; the exact minimum for w = {cost_weight:g} is at b = {exact:.2f} (the mean of "
                             f"weight − {cost_weight:g}·height), between the book's 0 and 50."),
        ("Source", "book ch3.manual_line_cost_weight_height (L3257–3625): 10,000 rows, inches and pounds, unscaled"),
    ]
    images = {"lines": plots.regression_lines(x, y, {f"w={w:g}, b={b:g}": (w, b) for w, b in zip(line_weights,
                                                                                             line_biases)},
                                              "Height (in)", "Weight (lbs)", "ch3: lines drawn by hand"),
              "cost_vs_b": plots.curve(list(by_b), list(by_b.values()), "b", "mean squared error",
                                       f"ch3: cost as b varies, w = {cost_weight:g}")}
    return Chapter("ch3: a line and its cost by hand (weight-height)", sections, images, result,
                   {"best_listed_b": float(listed), "exact_b": exact})


def linear_fail(data, *, run: Run, learning_rate: float, epochs: int, seed: int) -> Chapter:
    """ch3 (L3887–3968): the linear regression of the weight-height section fitted to a 0/1 outcome (did a visitor
    buy?) from the weight 1 and bias 0 the book resets it to; the book shows the line ("Linear Regression Fail")."""
    import keras
    import numpy as np

    from ztdl_pipeline.core import plots
    from ztdl_pipeline.core.report import markdown_table
    from ztdl_pipeline.core.training import compile_model, fit

    x, y = data[["Time (min)"]].to_numpy("float32"), data["Buy"].to_numpy("float32")
    if run.seed_fn:
        run.seed_fn(seed)
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.set_weights([np.ones((1, 1), "float32"), np.zeros(1, "float32")])
    compile_model(model, keras.optimizers.Adam(learning_rate=learning_rate), "mean_squared_error",
                  jit_compile=run.jit_compile)
    fit(model, x, y, epochs=epochs, batch_size=32, on_epoch_end=run.on_epoch_end)
    predicted = model.predict(x, verbose=0).reshape(-1)
    weight, bias = (float(np.ravel(w)[0]) for w in model.get_weights())
    outside = float(np.mean((predicted < 0) | (predicted > 1)))
    result = {"profile": run.profile, "line": {
        "weight": weight, "bias": bias, "mse": mse(y, predicted), "min_prediction": float(predicted.min()),
        "max_prediction": float(predicted.max()), "share_outside_0_1": outside,
        "accuracy_at_half": float(np.mean((predicted > 0.5) == (y > 0.5)))}}
    line = result["line"]
    sections = [
        ("Ours (the book shows the line only)", markdown_table(["measured", "value"], [
            ["the line", f"Buy ≈ {weight:.4f} · minutes {bias:+.4f}"], ["mean squared error", line["mse"]],
            ["predictions", f"{line['min_prediction']:.3f} … {line['max_prediction']:.3f}"],
            ["share of predictions outside [0, 1]", outside],
            ["accuracy, thresholding the line at 0.5", line["accuracy_at_half"]]])),
        ("Why it fails", "A line is unbounded: it predicts values below 0 and above 1 that are no probability, and "
                         "squared error on 0/1 targets pulls it towards the bulk of the points. ch3 goes on to the "
                         "logistic regression (`visit_duration_logreg`)."),
        ("Setup", f"Profile {run.profile}: Dense(1) from weight 1, bias 0 (the book's reset), Adam at {learning_rate}, "
                  f"mean squared error, {epochs} epochs (book: 200), batch 32, all {len(y)} visitors."),
        ("Source", "book ch3.linreg_fail_user_visit_duration (L3887–3968)"),
    ]
    images = {"linear_regression_fail": plots.regression_line(x[:, 0], y, predicted, "Time (min)", "Buy",
                                                              "Linear Regression Fail")}
    return Chapter("ch3: linear regression fails on a 0/1 outcome", sections, images, result,
                   {"share_outside_0_1": outside, "accuracy_at_half": line["accuracy_at_half"]})
