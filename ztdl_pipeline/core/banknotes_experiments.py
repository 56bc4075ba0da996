"""ch5's experiments on the banknotes split that the book shows only as plots: the optimizer comparison, the
initializer comparison and the inner layer's 2-D representation. Each returns a core.chapter.Chapter whose
report puts the book's setup and words beside what we measured (final numbers, epochs to a threshold, which
runs converge), numbers the book never printed.

Heavy imports (Keras, the training helpers) stay inside the functions: the catalogue and the Dagster wiring
import this module only by reference."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ztdl_pipeline.core.chapter import Chapter, Run

# the book's optimizer strings (L7276–7291), by the names the settings use
OPTIMIZER_LABELS = {"sgd": "SGD(lr=0.01)", "sgd_momentum": "SGD(lr=0.01, momentum=0.3)",
                    "nesterov": "SGD(lr=0.01, momentum=0.3, nesterov=True)", "adam": "Adam(lr=0.01)",
                    "adagrad": "Adagrad(lr=0.01)", "rmsprop": "RMSprop(lr=0.01)"}


def book_optimizer(name: str, learning_rate: float, momentum: float):
    """One of the book's six optimizers (OPTIMIZER_LABELS) at `learning_rate`; momentum for the SGD variants."""
    import keras

    makers = {"sgd": lambda: keras.optimizers.SGD(learning_rate=learning_rate),
              "sgd_momentum": lambda: keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum),
              "nesterov": lambda: keras.optimizers.SGD(learning_rate=learning_rate, momentum=momentum, nesterov=True),
              "adam": lambda: keras.optimizers.Adam(learning_rate=learning_rate),
              "adagrad": lambda: keras.optimizers.Adagrad(learning_rate=learning_rate),
              "rmsprop": lambda: keras.optimizers.RMSprop(learning_rate=learning_rate)}
    if name not in makers:
        raise ValueError(f"unknown optimizer {name!r}: choose among {', '.join(makers)}")
    return makers[name]()


def first_epoch(values: Sequence[float], threshold: float, *, above: bool = True) -> int | None:
    """The first epoch (1-based) whose value reaches `threshold` (≥ when `above`, else ≤); None if none does."""
    return next((epoch for epoch, value in enumerate(values, start=1)
                 if (value >= threshold if above else value <= threshold)), None)


def splits(data, card) -> tuple[tuple[Any, Any], tuple[Any, Any]]:
    """(x, y) of the card's train and test splits of its features table."""
    from ztdl_pipeline.core.features import xy
    from ztdl_pipeline.core.tabular import view

    frame = view(data, card)
    return xy(frame, "train"), xy(frame, "test")


def train_variants(variants: Mapping[str, Callable[[], Any]], train, test, *, epochs: int, batch_size: int,
                   seed: int, run: Run) -> dict[str, dict[str, Any]]:
    """Fit each compiled model `variants[label]()` makes, seeded alike (the same shuffles; the same initial weights
    where the maker sets them), and return per label its per-epoch loss and accuracy, test loss and accuracy."""
    from ztdl_pipeline.core.training import fit

    out = {}
    for label, make in variants.items():
        if run.seed_fn:
            run.seed_fn(seed)
        model = make()
        result = fit(model, *train, epochs=epochs, batch_size=batch_size, on_epoch_end=run.on_epoch_end)
        test_loss, test_accuracy = model.evaluate(*test, verbose=0, batch_size=4096)
        out[label] = {"loss": [float(v) for v in result["history"]["loss"]],
                      "accuracy": [float(v) for v in result["history"]["accuracy"]],
                      "test_loss": float(test_loss), "test_accuracy": float(test_accuracy),
                      "seconds": result["seconds"]}
        run.log(f"{label}: loss {out[label]['loss'][-1]:.4f}, train accuracy {out[label]['accuracy'][-1]:.4f}, "
                f"test accuracy {test_accuracy:.4f}")
    return out


def _summary(history: Mapping[str, Any], threshold: float) -> dict[str, Any]:
    return {"first_loss": history["loss"][0], "first_accuracy": history["accuracy"][0],
            "final_loss": history["loss"][-1], "final_accuracy": history["accuracy"][-1],
            "test_loss": history["test_loss"], "test_accuracy": history["test_accuracy"],
            "epochs_to_threshold": first_epoch(history["accuracy"], threshold)}


def _epochs_cell(epochs: int | None, total: int) -> str:
    return str(epochs) if epochs is not None else f"not within {total}"


def first_epoch_check(sgd: Mapping[str, Any] | None, book: Sequence[Any]) -> str:
    """The plain SGD run is the learning-rate sweep's lr 0.01 run (same model, weights, rate and batch), whose first
    epoch the book prints: ours beside it."""
    from ztdl_pipeline.core.report import comparison_rows, comparison_table

    if sgd is None:
        return "Plain SGD was not among the optimizers run."
    return ("Plain SGD at lr 0.01 here is the same run as the learning-rate sweep's lr 0.01 (kernel 'ones', batch "
            "16), whose first epoch the book prints:\n\n" + comparison_table(comparison_rows({"sgd": sgd}, book)))


def optimizer_comparison(data, *, card, run: Run, optimizers: Sequence[str], learning_rate: float, momentum: float,
                         epochs: int, batch_size: int, accuracy_threshold: float, seed: int,
                         book: Sequence[Any] = ()) -> Chapter:
    """ch5 (L7163–7344): banknotes_logreg's model (Dense(1, sigmoid), kernel 'ones') trained once per optimizer
    from the same initial weights, as the book does; the book plots the loss and accuracy curves only."""
    from ztdl_pipeline.core import plots
    from ztdl_pipeline.core.refs import resolve
    from ztdl_pipeline.core.report import markdown_table
    from ztdl_pipeline.core.training import compile_model

    train, test = splits(data, card)
    if run.seed_fn:
        run.seed_fn(seed)
    initial = resolve(card.builder)(train[0].shape[1], None).get_weights()

    def maker(name: str) -> Callable[[], Any]:
        def make():
            model = resolve(card.builder)(train[0].shape[1], None)
            model.set_weights(initial)  # the same starting point for every optimizer
            return compile_model(model, book_optimizer(name, learning_rate, momentum), card.loss, ["accuracy"],
                                 jit_compile=run.jit_compile)
        return make

    run.log(f"optimizers {list(optimizers)}: {epochs} epochs, batch {batch_size}, learning rate {learning_rate}")
    histories = train_variants({name: maker(name) for name in optimizers}, train, test, epochs=epochs,
                               batch_size=batch_size, seed=seed, run=run)
    result: dict[str, Any] = {"profile": run.profile, "histories": histories,
                              **{name: _summary(h, accuracy_threshold) for name, h in histories.items()}}
    rows = [[name, OPTIMIZER_LABELS.get(name, name), s["final_loss"], s["final_accuracy"], s["test_accuracy"],
             _epochs_cell(s["epochs_to_threshold"], epochs)] for name, s in ((n, result[n]) for n in histories)]
    best = min(histories, key=lambda name: histories[name]["loss"][-1])
    result["lowest_final_loss"] = best
    off = [name for name in histories if histories[name]["loss"][-1] > 1.0]
    sections = [
        ("Ours (the book plots these curves and prints no number)", markdown_table(
            ["optimizer", "the book's call", "final train loss", "final train accuracy", "test accuracy",
             f"epochs to train accuracy ≥ {accuracy_threshold:g}"], rows)),
        ("What the curves say", f"Lowest final training loss: **{best}** ({OPTIMIZER_LABELS.get(best, best)}). "
                                f"Every optimizer starts from the same weights (kernel 'ones', bias 0) and sees the "
                                f"same shuffles, so the curves differ by the update rule alone. The loss panel keeps "
                                f"the book's scale (0 to 1)" + (f"; off it at the end: {', '.join(off)}." if off else
                                                                "; every curve ends on it.")),
        ("The one number the book prints for these runs", first_epoch_check(result.get("sgd"), book)),
        ("Setup", f"Profile {run.profile}: {epochs} epochs (book: 5), batch {batch_size}, learning rate "
                  f"{learning_rate}, momentum {momentum}; banknotes 70/30 split (random_state 42), unscaled."),
        ("Source", "book ch5.banknotes_optimizer_comparison (L7163–7344)"),
    ]
    images = {"optimizers": plots.metric_panels(histories, ("loss", "accuracy"),
                                                "ch5: banknotes, one optimizer per line (same initial weights)")}
    numbers = {f"{name}_final_loss": result[name]["final_loss"] for name in histories}
    return Chapter("ch5 banknotes: optimizer comparison", sections, images, result, numbers)


def dense_stack(n_features: int, units: Sequence[int], activation: str, kernel_initializer: str = "glorot_uniform"):
    """Dense(units[0], activation) → … → Dense(1, sigmoid), every layer with `kernel_initializer` (ch5's models)."""
    import keras

    layers = [keras.layers.Dense(n, activation=activation, kernel_initializer=kernel_initializer) for n in units]
    return keras.Sequential([keras.Input((n_features,), name="features"), *layers,
                             keras.layers.Dense(1, activation="sigmoid", kernel_initializer=kernel_initializer)])


def initializer_comparison(data, *, card, run: Run, initializers: Sequence[str], units: Sequence[int],
                           optimizer: str, learning_rate: float, epochs: int, batch_size: int,
                           converged_accuracy: float, seed: int) -> Chapter:
    """ch5 (L7346–7452): Dense(10, tanh) ×3 + Dense(1, sigmoid), every kernel from one initializer, SGD; the book
    plots the curves and says "some initializations don't even converge". Converged here means a final train
    accuracy ≥ `converged_accuracy` (the larger class alone is 0.555 of the rows)."""
    from ztdl_pipeline.core import plots
    from ztdl_pipeline.core.models import make_optimizer
    from ztdl_pipeline.core.report import markdown_table
    from ztdl_pipeline.core.training import compile_model

    train, test = splits(data, card)

    def maker(init: str) -> Callable[[], Any]:
        return lambda: compile_model(dense_stack(train[0].shape[1], units, "tanh", init),
                                     make_optimizer(optimizer, learning_rate), card.loss, ["accuracy"],
                                     jit_compile=run.jit_compile)

    run.log(f"initializers {list(initializers)}: {epochs} epochs, batch {batch_size}, {optimizer} {learning_rate}")
    histories = train_variants({init: maker(init) for init in initializers}, train, test, epochs=epochs,
                               batch_size=batch_size, seed=seed, run=run)
    result: dict[str, Any] = {"profile": run.profile, "histories": histories}
    for init, history in histories.items():
        summary = _summary(history, converged_accuracy)
        result[init] = {**summary, "converged": float(summary["final_accuracy"] >= converged_accuracy)}
    converged = [init for init in histories if result[init]["converged"]]
    stuck = [init for init in histories if not result[init]["converged"]]
    result["convergence"] = {"converged": float(len(converged)), "not_converged": float(len(stuck)),
                             "criterion": converged_accuracy}
    result["converged"], result["not_converged"] = converged, stuck
    rows = [[init, result[init]["final_loss"], result[init]["final_accuracy"], result[init]["test_accuracy"],
             _epochs_cell(result[init]["epochs_to_threshold"], epochs), "yes" if result[init]["converged"] else "no"]
            for init in histories]
    verdict = (f"the book's claim holds here: {', '.join(stuck)} did not converge" if stuck
               else "every initializer converged here: the book's claim does not reproduce at these settings")
    sections = [
        ("Ours (the book plots these curves)", markdown_table(
            ["initializer", "final train loss", "final train accuracy", "test accuracy",
             f"epochs to train accuracy ≥ {converged_accuracy:g}", "converged"], rows)),
        ("The book's claim", f"\"Some initializations don't even converge\" (L7346–7452). Criterion: final train "
                             f"accuracy ≥ {converged_accuracy:g} after {epochs} epochs. {len(converged)} of "
                             f"{len(histories)} converged; {verdict}."),
        ("Setup", f"Profile {run.profile}: Dense({', '.join(map(str, units))}, tanh) + Dense(1, sigmoid), every "
                  f"kernel from the initializer (Keras' 'uniform' is U(−0.05, 0.05), 'normal' N(0, 0.05)); "
                  f"{optimizer} at {learning_rate}, batch {batch_size}, {epochs} epochs (book: 10), one seed for all."),
        ("Source", "book ch5.banknotes_initializer_comparison (L7346–7452)"),
    ]
    images = {"initializers": plots.metric_panels(histories, ("loss", "accuracy"),
                                                  "ch5: banknotes, one kernel initializer per line")}
    numbers = {"converged": float(len(converged)), "not_converged": float(len(stuck))}
    return Chapter("ch5 banknotes: initializer comparison", sections, images, result, numbers)


# the book's fixed initial weights of its 4-2-1 network (L7479–7485): Dense(2) kernel and bias, Dense(1) kernel and bias
BOOK_INNER_WEIGHTS = ([[-0.26285839, 0.82659411], [0.65099144, -0.7858932], [0.40144777, -0.92449236],
                       [0.87284446, -0.59128475]], [0.0, 0.0], [[-0.7150408], [0.54277754]], [0.0])


def inner_layer_network(n_features: int, learning_rate: float, jit_compile="auto"):
    """ch5's Dense(2, relu) → Dense(1, sigmoid) from the book's fixed initial weights, RMSprop, binary cross-entropy."""
    import keras
    import numpy as np

    from ztdl_pipeline.core.training import compile_model

    model = keras.Sequential([keras.Input((n_features,), name="features"),
                              keras.layers.Dense(2, activation="relu", name="hidden"),
                              keras.layers.Dense(1, activation="sigmoid")], name="banknotes_inner_layer")
    model.set_weights([np.asarray(w, dtype="float32") for w in BOOK_INNER_WEIGHTS])
    return compile_model(model, keras.optimizers.RMSprop(learning_rate=learning_rate), "binary_crossentropy",
                         ["accuracy"], jit_compile=jit_compile)


def hidden_features(model, x):
    """The 2-D output of the hidden layer for rows `x` (the book's `K.function([inp], [out])` on layer 0)."""
    import keras

    return keras.Model(model.inputs, model.get_layer("hidden").output).predict(x, verbose=0, batch_size=4096)


def inner_layer_representation(data, *, card, run: Run, learning_rate: float, epochs: int, batch_size: int,
                               validation_split: float, loop_epochs: int, seed: int, book: Sequence[Any] = ()) -> Chapter:
    """ch5 (L7454–7632): the 13-parameter 4-2-1 network from the book's fixed weights, trained 20 epochs; the hidden
    layer's 2-D features of the 412 test notes; then, from the same weights again, one epoch at a time with the
    features and the test accuracy after each (the book's 5×5 grid of plots)."""
    from ztdl_pipeline.core import plots
    from ztdl_pipeline.core.models import trainable_params
    from ztdl_pipeline.core.report import comparison_rows, comparison_table, markdown_table
    from ztdl_pipeline.core.tabular import parameter_counts
    from ztdl_pipeline.core.training import fit

    (x, y), (x_test, y_test) = splits(data, card)
    if run.seed_fn:
        run.seed_fn(seed)
    model = inner_layer_network(x.shape[1], learning_rate, run.jit_compile)
    params = parameter_counts(model)
    outcome = fit(model, x, y, epochs=epochs, batch_size=batch_size, validation_split=validation_split,
                  on_epoch_end=run.on_epoch_end)
    features = hidden_features(model, x_test)
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0, batch_size=4096)
    run.log(f"{trainable_params(model)} parameters; after {epochs} epochs test accuracy {test_accuracy:.4f}")

    if run.seed_fn:
        run.seed_fn(seed)
    stepwise = inner_layer_network(x.shape[1], learning_rate, run.jit_compile)
    panels, accuracies = [], []
    for epoch in range(1, loop_epochs + 1):
        fit(stepwise, x, y, epochs=1, batch_size=batch_size)
        accuracies.append(float(stepwise.evaluate(x_test, y_test, verbose=0, batch_size=4096)[1]))
        panels.append((hidden_features(stepwise, x_test), f"Epoch: {epoch}, Test Acc: {accuracies[-1] * 100:3.1f} %"))
    history = outcome["history"]
    result = {"profile": run.profile, "params": params,
              "features": {"rows": float(features.shape[0]), "columns": float(features.shape[1])},
              "fit": {"final_loss": float(history["loss"][-1]), "final_accuracy": float(history["accuracy"][-1]),
                      "final_val_accuracy": float(history.get("val_accuracy", [float("nan")])[-1]),
                      "test_loss": float(test_loss), "test_accuracy": float(test_accuracy)},
              "loop": {"test_accuracy": accuracies, "final_test_accuracy": accuracies[-1] if accuracies else None,
                       "best_test_accuracy": max(accuracies, default=None),
                       "epochs_to_90": first_epoch(accuracies, 0.9)},
              "history": {k: [float(v) for v in values] for k, values in history.items()}}
    rows = comparison_rows(result, book)
    sections = [
        ("Ours vs the book", comparison_table(rows) if rows else "The book prints no number for this experiment."),
        ("Ours (the book shows these as plots)", markdown_table(
            ["measured", "value"],
            [[f"train loss / accuracy after {epochs} epochs", f"{result['fit']['final_loss']:.4f} / "
                                                               f"{result['fit']['final_accuracy']:.4f}"],
             [f"validation accuracy (last {validation_split:.0%} of the train rows)", result["fit"]["final_val_accuracy"]],
             ["test accuracy (412 notes)", result["fit"]["test_accuracy"]],
             [f"test accuracy epoch by epoch (1 … {loop_epochs}), from the same weights",
              ", ".join(f"{a:.3f}" for a in accuracies)],
             ["first epoch with test accuracy ≥ 0.9", _epochs_cell(result["loop"]["epochs_to_90"], loop_epochs)]])),
        ("Setup", f"Profile {run.profile}: Dense(2, relu) → Dense(1, sigmoid) from the book's fixed initial weights "
                  f"(L7479–7485), RMSprop at {learning_rate}, batch {batch_size}, {epochs} epochs with validation "
                  f"split {validation_split} (book: 20); the grid restarts from the same weights and trains one epoch "
                  f"at a time for {loop_epochs} epochs (book: 25), as the book's loop plots it."),
        ("Source", "book ch5.banknotes_inner_layer_representation (L7454–7632)"),
    ]
    labels = y_test.astype(int)
    images = {"hidden_features": plots.scatter_grid(
                  [(features, f"hidden layer after {epochs} epochs: the 412 test notes (blue class 0, red class 1)")],
                  labels, columns=1),
              "hidden_features_by_epoch": plots.scatter_grid(panels, labels)}
    numbers = {"trainable_params": params["trainable"], "test_accuracy": result["fit"]["test_accuracy"]}
    return Chapter("ch5 banknotes: the inner layer's representation", sections, images, result, numbers)
