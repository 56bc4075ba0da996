"""The intro-to-neural-networks tutorial (seed 003, t3.mlp_from_scratch_intro_to_ann): its MLP written from scratch
in NumPy next to the same network in Keras, on intro_to_ann.csv (two features, a 0/1 label). No Dagster.

The tutorial's network: inputs plus a bias node (always 1.0, the last input) → `n_hidden` sigmoid nodes (no bias)
→ one sigmoid output; weights drawn with Python's `random.seed(123)`, `rand(-0.2, 0.2)` input→hidden then
`rand(-2.0, 2.0)` hidden→output; online training (one pattern at a time, file order) of the squared error
`0.5·(t − o)²` where each step adds `N·change + M·previous change` (change = −gradient; N the learning rate, M its
"momentum", which scales the previous raw change, not a velocity). The epoch's error is the sum over patterns,
as the tutorial prints it.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from ztdl_pipeline.core.chapter import Chapter, Run
from ztdl_pipeline.core.report import markdown_table


def sigmoid(x: Any) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def initial_weights(n_inputs: int, n_hidden: int, seed: int = 123) -> tuple[np.ndarray, np.ndarray]:
    """(wi: (n_inputs + 1) × n_hidden, the bias node's row last; wo: n_hidden × 1), drawn in the tutorial's order."""
    draw = random.Random(seed)
    wi = np.array([[(0.2 + 0.2) * draw.random() - 0.2 for _ in range(n_hidden)] for _ in range(n_inputs + 1)])
    wo = np.array([[(2.0 + 2.0) * draw.random() - 2.0] for _ in range(n_hidden)])
    return wi, wo


def forward(wi: np.ndarray, wo: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(input activations with the bias 1.0 appended, hidden activations, outputs) for rows `x` (n × inputs)."""
    ai = np.hstack([np.atleast_2d(np.asarray(x, dtype=float)), np.ones((np.atleast_2d(x).shape[0], 1))])
    ah = sigmoid(ai @ wi)
    return ai, ah, sigmoid(ah @ wo)


def gradients(wi: np.ndarray, wo: np.ndarray, x: np.ndarray, target: float
              ) -> tuple[np.ndarray, np.ndarray, float]:
    """Backpropagation for one pattern: (∂E/∂wi, ∂E/∂wo, E) with E = 0.5·(target − output)² and the sigmoid's
    slope written from its output, `y − y²` (the tutorial's dsigmoid)."""
    ai, ah, ao = forward(wi, wo, x)
    output_delta = (ao - ao ** 2) * (target - ao)  # 1 × 1: −∂E/∂(output's input)
    hidden_delta = (ah - ah ** 2) * (output_delta @ wo.T)  # 1 × n_hidden
    return -(ai.T @ hidden_delta), -(ah.T @ output_delta), float(0.5 * (target - ao[0, 0]) ** 2)


def train_numpy(x: np.ndarray, y: np.ndarray, n_hidden: int, epochs: int, learning_rate: float, momentum: float,
                seed: int = 123) -> dict[str, Any]:
    """The tutorial's `train(zip(X, y), iterations, N, M)`: {wi, wo, errors (one summed error per epoch)}."""
    wi, wo = initial_weights(x.shape[1], n_hidden, seed)
    last_i, last_o = np.zeros_like(wi), np.zeros_like(wo)
    errors = []
    for _ in range(epochs):
        total = 0.0
        for row, target in zip(x, y):
            grad_i, grad_o, error = gradients(wi, wo, row, float(target))
            # output weights first, then input weights: both from the deltas of the same forward pass
            wo = wo - learning_rate * grad_o + momentum * last_o
            wi = wi - learning_rate * grad_i + momentum * last_i
            last_o, last_i = -grad_o, -grad_i
            total += error
        errors.append(total)
    return {"wi": wi, "wo": wo, "errors": errors}


def train_keras(x: np.ndarray, y: np.ndarray, n_hidden: int, epochs: int, learning_rate: float, momentum: float,
                seed: int = 123) -> dict[str, Any]:
    """The same network in Keras: Dense(n_hidden, sigmoid) with a bias (the tutorial's bias node), Dense(1,
    sigmoid) without one, the same starting weights, loss 0.5·(t − o)², SGD one pattern at a time in file order.
    Keras' momentum is a velocity (v ← M·v − N·g), so its steps differ from the tutorial's after the first."""
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((x.shape[1],)), keras.layers.Dense(n_hidden, activation="sigmoid"),
                              keras.layers.Dense(1, activation="sigmoid", use_bias=False)])
    wi, wo = initial_weights(x.shape[1], n_hidden, seed)
    model.set_weights([wi[:-1], wi[-1], wo])

    def half_squared_error(target, output):
        return 0.5 * keras.ops.sum(keras.ops.square(target - output), axis=-1)

    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
                  loss=half_squared_error)
    history = model.fit(x.astype("float32"), y.astype("float32").reshape(-1, 1), epochs=epochs, batch_size=1,
                        shuffle=False, verbose=0)
    # Keras reports the mean over the epoch's patterns; the tutorial prints their sum
    return {"model": model, "errors": [float(loss) * len(x) for loss in history.history["loss"]]}


def accuracy(probabilities: np.ndarray, y: np.ndarray) -> float:
    """Share of patterns whose output, thresholded at 0.5 as the tutorial's plot does, equals the label."""
    return float(np.mean((np.ravel(probabilities) >= 0.5).astype(int) == np.asarray(y).astype(int)))


def intro_ann_mlp(data, *, features: list[str], label: str, n_hidden: int, epochs: int, learning_rate: float,
                  momentum: float, seed: int, run: Run | None = None) -> Chapter:
    """Both networks trained on `data` (the raw frame): final summed error and accuracy of each, their error
    curves and decision boundaries."""
    from ztdl_pipeline.core import plots

    log = run.log if run is not None else (lambda message: None)
    x, y = data[features].to_numpy(dtype=float), data[label].to_numpy(dtype=int)
    ours = train_numpy(x, y, n_hidden, epochs, learning_rate, momentum, seed)
    log(f"numpy MLP: error {ours['errors'][0]:.5f} → {ours['errors'][-1]:.5f} in {epochs} epochs")
    theirs = train_keras(x, y, n_hidden, epochs, learning_rate, momentum, seed)
    log(f"Keras MLP: error {theirs['errors'][0]:.5f} → {theirs['errors'][-1]:.5f} in {epochs} epochs")

    def numpy_predict(grid):
        return forward(ours["wi"], ours["wo"], grid)[2]

    def keras_predict(grid):
        return theirs["model"].predict(grid, verbose=0, batch_size=4096)

    results = {name: {"first_error": trained["errors"][0], "final_error": trained["errors"][-1],
                      "accuracy": accuracy(predict(x), y), "errors": trained["errors"]}
               for name, trained, predict in (("numpy", ours, numpy_predict), ("keras", theirs, keras_predict))}
    table = markdown_table(["network", "error, epoch 1", f"error, epoch {epochs}", "training accuracy"],
                           [[name, f"{r['first_error']:.5f}", f"{r['final_error']:.5f}", f"{r['accuracy']:.3f}"]
                            for name, r in results.items()])
    images = {"error_curves": plots.learning_curves({"numpy error": ours["errors"],
                                                         "keras error": theirs["errors"]},
                                                        "summed 0.5·(t − o)² per epoch"),
              "numpy_boundary": plots.decision_boundary(numpy_predict, x, y, "NumPy MLP from scratch"),
              "keras_boundary": plots.decision_boundary(keras_predict, x, y, "the same network in Keras")}
    settings = (f"{len(x)} patterns, {n_hidden} hidden sigmoid nodes, {epochs} epochs, N = {learning_rate}, "
                f"M = {momentum}, `random.seed({seed})` weights, online updates in file order.")
    notes = ("Same start, same loss, same order; the two differ in momentum alone: the tutorial adds M × the "
             "previous raw change, Keras' SGD keeps a velocity (v ← M·v − N·g), so the curves part after the "
             "first step. The tutorial prints no final number for this run (its printed 53.62995 → 47.35136 is "
             "2 iterations of ANN(2, 1, 1) on the book's own file, which is not at hand).")
    metadata = {f"{name}/{k}": r[k] for name, r in results.items() for k in ("final_error", "accuracy")}
    return Chapter("Intro to neural networks: an MLP from scratch in NumPy next to Keras",
                   [("Summary", f"{settings}\n\n{table}"), ("Notes", notes)], images=images, result=results,
                   metadata=metadata)
