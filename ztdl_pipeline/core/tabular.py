"""The tabular examples: a declarative spec per book example, and the train / evaluate / sweep steps.

Everything here works on plain frames, arrays and Keras models; the Dagster assets call it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import keras
import numpy as np
import pandas as pd

from ztdl_pipeline.core import metrics as M
from ztdl_pipeline.core import plots
from ztdl_pipeline.core.features import SPLIT_COLUMN, scaling_vectors, xy
from ztdl_pipeline.core.gate import BASELINE_RULE, BASELINES
from ztdl_pipeline.core.models import make_optimizer, trainable_params
from ztdl_pipeline.core.refs import resolve
from ztdl_pipeline.core.report import comparison_rows, comparison_table, markdown_table, render
from ztdl_pipeline.core.specs import Card, Hyper
from ztdl_pipeline.core.training import TrainedModel, compile_model, cross_validate, fit

__all__ = ["Card", "Hyper", "evaluate", "report_images", "report_markdown", "sweep", "train", "view"]


def select_inputs(attrs: Mapping[str, Any], inputs: Sequence[str] | None) -> dict[str, Any]:
    """Restrict a features table's column roles to the raw inputs one example uses."""
    attrs = dict(attrs)
    if not inputs:
        return attrs
    unknown = [c for c in inputs if c not in attrs["raw_inputs"]]
    if unknown:
        raise ValueError(f"inputs {unknown!r} are not raw inputs of this features table ({attrs['raw_inputs']})")
    derived = {c: [c, f"{c}_was_missing"] for c in attrs["numeric"]}
    derived.update({c: [f"{c}_{v}" for v in cats] for c, cats in attrs["categorical"].items()})
    keep = {col for raw in inputs for col in derived[raw]}
    attrs["feature_columns"] = [c for c in attrs["feature_columns"] if c in keep]
    attrs["raw_inputs"] = [c for c in attrs["raw_inputs"] if c in inputs]
    attrs["numeric"] = [c for c in attrs["numeric"] if c in inputs]
    attrs["categorical"] = {c: v for c, v in attrs["categorical"].items() if c in inputs}
    attrs["imputation"] = {c: v for c, v in attrs["imputation"].items() if c in inputs}
    attrs["scaling"] = {c: v for c, v in attrs["scaling"].items() if c in attrs["feature_columns"]}
    return attrs


def view(frame: pd.DataFrame, example: Card) -> pd.DataFrame:
    """The features frame as one example sees it (its inputs only)."""
    out = frame.copy()
    out.attrs = select_inputs(frame.attrs, example.inputs)
    return out


def _build(example: Card, attrs: Mapping[str, Any], hyper: Hyper, jit_compile) -> keras.Model:
    mean, variance = scaling_vectors(attrs)
    scaling = (mean, variance) if attrs["scaling"] else None
    model = resolve(example.builder)(len(attrs["feature_columns"]), scaling, **example.builder_kwargs)
    metrics = [] if attrs["task"] == "regression" else ["accuracy"]
    return compile_model(model, make_optimizer(hyper.optimizer, hyper.learning_rate, hyper.momentum),
                         example.loss, metrics, jit_compile=jit_compile)


def train(example: Card, frame: pd.DataFrame, hyper: Hyper, *, strategy=None, jit_compile="auto",
          seed_fn: Callable[[int], None] | None = None,
          on_epoch_end: Callable[[int, dict], None] | None = None, backup_dir=None) -> TrainedModel:
    """Train the example's model on the train split (plus k-fold CV on all rows if asked, as the book).

    With `backup_dir`, a killed training resumes from its last completed epoch (one folder per restart)."""
    data = view(frame, example)
    attrs = data.attrs
    x, y = xy(data, "train", one_hot_target=example.one_hot_target)
    model, result, restarts, resumed = None, None, [], []
    for restart in range(max(1, hyper.restarts)):
        seed = hyper.seed + restart
        if seed_fn:
            seed_fn(seed)
        with (strategy.scope() if strategy is not None else _nullcontext()):
            candidate = _build(example, attrs, hyper, jit_compile)
        outcome = fit(candidate, x, y, epochs=hyper.epochs, batch_size=hyper.batch_size,
                      validation_split=hyper.validation_split, on_epoch_end=on_epoch_end,
                      backup_dir=f"{backup_dir}/restart_{restart}" if backup_dir else None)
        if outcome["resumed_from_epoch"]:
            resumed.append({"seed": seed, "from_epoch": outcome["resumed_from_epoch"]})
        final_loss = outcome["history"]["loss"][-1]
        restarts.append({"seed": seed, "final_train_loss": final_loss})
        # judged on training loss only: the test split never chooses the model
        if result is None or final_loss < result["history"]["loss"][-1]:
            model, result = candidate, outcome
    info: dict[str, Any] = {
        "example": example.name, "title": example.title, "source": example.source,
        "hyper": asdict(hyper), "train_rows": int(len(x)), "trainable_params": trainable_params(model),
        "seconds": result["seconds"], "samples_per_second": result["samples_per_second"],
        "feature_columns": attrs["feature_columns"],
    }
    if len(restarts) > 1:
        info["restarts"] = restarts
    if resumed:
        info["resumed"] = resumed
    if hyper.cv_folds:
        x_all, y_all = xy(data, None, one_hot_target=example.one_hot_target)
        score = M.r2 if attrs["task"] == "regression" else M.accuracy

        def build_fold() -> keras.Model:
            with (strategy.scope() if strategy is not None else _nullcontext()):
                return _build(example, attrs, hyper, jit_compile)

        info["cv"] = cross_validate(build_fold, x_all, y_all, folds=hyper.cv_folds,
                                    epochs=hyper.cv_epochs or hyper.epochs, batch_size=hyper.batch_size,
                                    seed=hyper.seed, metric=score)
    return TrainedModel(model=model, history=result["history"], info=info)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def predict_original_units(model: keras.Model, x: np.ndarray, attrs: Mapping[str, Any]) -> np.ndarray:
    output = model.predict(x, verbose=0, batch_size=4096)
    if attrs["task"] == "regression":
        output = output.reshape(-1) * (attrs.get("target_scale") or 1.0)
    return output


def evaluate(example: Card, trained: TrainedModel, frame: pd.DataFrame) -> dict[str, Any]:
    """Metrics per split (train, test, all), CV, baselines and the last training epoch."""
    data = view(frame, example)
    attrs = data.attrs
    splits = [s for s in ("train", "test") if (data[SPLIT_COLUMN] == s).any()] + ["all"]
    out: dict[str, Any] = {"task": attrs["task"], "profile": trained.info["hyper"]["profile"]}
    for split in splits:
        x, y = xy(data, None if split == "all" else split, scale_target=False)
        output = predict_original_units(trained.model, x, attrs)
        if attrs["task"] == "regression":
            out[split] = M.regression_metrics(y, output)
        else:
            out[split] = M.classification_metrics(y, output, attrs["classes"])
    train_y = xy(data, "train")[1]
    out["baseline"] = ({"accuracy": M.majority_baseline(train_y)} if attrs["task"] != "regression"
                       else {"r2": 0.0})
    out["history"] = {k: v[-1] for k, v in trained.history.items()}
    out["params"] = parameter_counts(trained.model)
    if "cv" in trained.info:
        out["cv"] = dict(trained.info["cv"])
    out.update(trivial_baselines(data, splits, "cv" in out))
    return out


def parameter_counts(model: keras.Model) -> dict[str, float]:
    """Trainable parameters in all and of each layer that has any (`layer_1`, `layer_2`, ... in order), as the
    book's model summaries print them (the fixed scaling layer trains nothing, so it is not counted)."""
    per_layer = [int(sum(np.prod(w.shape) for w in layer.trainable_weights)) for layer in model.layers]
    return {"trainable": float(trainable_params(model)),
            **{f"layer_{i}": float(n) for i, n in enumerate((n for n in per_layer if n), start=1)}}


def inner_features(model: keras.Model, x: np.ndarray) -> np.ndarray:
    """The outputs of the model's INNER_LAYER for rows `x` (the book's `K.function([inputs], [layer.output])`)."""
    from ztdl_pipeline.core.models import INNER_LAYER

    return keras.Model(model.inputs, model.get_layer(INNER_LAYER).output).predict(x, verbose=0, batch_size=4096)


def trivial_baselines(data: pd.DataFrame, splits: Sequence[str], cv: bool) -> dict[str, Any]:
    """What a trivial predictor scores per split (gate.BASELINES) and its rule (gate.BASELINE_RULE): the train
    split's most frequent class, or the train mean of the target in original units; under CV, the same on all
    rows."""
    attrs = data.attrs
    train_y = xy(data, "train", scale_target=False)[1]
    targets = {split: xy(data, None if split == "all" else split, scale_target=False)[1] for split in splits}
    if attrs["task"] == "regression":
        scores = {split: M.mean_predictor_metrics(train_y, y) for split, y in targets.items()}
        rule = f"the train mean of {attrs['target']} ({float(np.mean(train_y, dtype=np.float64)):.6g})"
        cv_mean = M.mean_predictor_metrics(train_y, xy(data, None, scale_target=False)[1])["r2"]
    else:
        scores = {split: {"accuracy": M.majority_accuracy(train_y, y)} for split, y in targets.items()}
        rule = M.majority_rule(train_y, attrs["classes"])
        cv_mean = M.majority_accuracy(train_y, xy(data, None)[1])
    if cv:
        scores["cv"] = {"mean": cv_mean}
    return {BASELINES: scores, BASELINE_RULE: rule}


def report_images(example: Card, trained: TrainedModel, frame: pd.DataFrame,
                  metrics: Mapping[str, Any]) -> dict[str, bytes]:
    data = view(frame, example)
    attrs = data.attrs
    images = {"learning_curves": plots.learning_curves(trained.history, f"{example.title}: training")}
    split = "test" if "test" in metrics else "train"
    x, y = xy(data, split, scale_target=False)
    if attrs["task"] != "regression":
        images["confusion_matrix"] = plots.confusion_matrix(
            metrics[split]["confusion_matrix"], [str(c) for c in attrs["classes"]], f"confusion matrix ({split})")
    if "boundary" in example.plots:
        x_all, y_all = xy(data, None)
        images["decision_boundary"] = plots.decision_boundary(
            lambda grid: trained.model.predict(grid, verbose=0, batch_size=4096), x_all, y_all,
            f"{example.title}: decision boundary")
    if "inner_features" in example.plots:
        x_all, labels = xy(data, None)
        images["inner_features"] = plots.inner_features(
            inner_features(trained.model, x_all), labels, [str(c) for c in attrs["classes"]],
            (data[SPLIT_COLUMN] == "test").to_numpy(), f"{example.name}: the 2-D inner layer's output")
    if "regression_line" in example.plots:
        images["regression_line"] = plots.regression_line(
            x[:, 0], y, predict_original_units(trained.model, x, attrs), attrs["feature_columns"][0],
            attrs["target"], f"{example.title} ({split})")
    if "prediction_vs_truth" in example.plots:
        images["prediction_vs_truth"] = plots.prediction_vs_truth(
            y, predict_original_units(trained.model, x, attrs), f"{example.title} ({split})", attrs["target"])
    return images


def report_markdown(example: Card, trained: TrainedModel, metrics: Mapping[str, Any],
                    images: Mapping[str, bytes], threshold: float, embed: bool) -> str:
    rows = comparison_rows(metrics, example.book)
    hyper = trained.info["hyper"]
    split_rows = []
    for split in ("train", "test", "all"):
        if split in metrics:
            keys = ("accuracy", "precision", "recall", "f1") if metrics["task"] != "regression" else ("r2", "mse", "mae")
            split_rows.append([split, metrics[split]["n"], *[metrics[split][k] for k in keys]])
    header = ["split", "rows", *(("accuracy", "precision", "recall", "f1") if metrics["task"] != "regression"
                                 else ("R²", "MSE", "MAE"))]
    sections = [
        ("Ours vs the book", comparison_table(rows) if rows else "The book prints no number for this example."),
        ("All metrics", markdown_table(header, split_rows)),
        ("Export gate", f"`{example.primary[0]}/{example.primary[1]}` must be ≥ **{threshold:.4f}** "
                        f"({example.gate_basis(hyper['profile'])})."),
        ("Training", markdown_table(["setting", "value"], [[k, v] for k, v in hyper.items()]
                                    + [["trainable parameters", trained.info["trainable_params"]],
                                       ["training seconds", trained.info["seconds"]],
                                       ["device", trained.info.get("device", {}).get("gpus") or "cpu"]])),
    ]
    if "restarts" in trained.info:
        sections.append(("Restarts", "Trained from several seeds; kept the lowest final training loss "
                                      "(the test split plays no part in the choice).\n\n" + markdown_table(
                                          ["seed", "final train loss"],
                                          [[r["seed"], r["final_train_loss"]] for r in trained.info["restarts"]])))
    if "cv" in metrics:
        cv = metrics["cv"]
        sections.append(("Cross-validation", f"{cv['folds']}-fold: {cv['mean']:.4f} ± {cv['std']:.4f} "
                                             f"(folds: {', '.join(f'{s:.4f}' for s in cv['scores'])})"))
    if "accuracy" in metrics.get("baseline", {}):
        sections.append(("Baseline", f"Always predicting the majority class scores "
                                     f"{metrics['baseline']['accuracy']:.4f} on the train split."))
    if example.notes:
        sections.append(("Notes", example.notes))
    sections.append(("Source", example.source))
    return render(example.title, sections, images, embed)


def sweep(example: Card, frame: pd.DataFrame, base: Hyper, parameter: str, values: Sequence[Any],
          *, seed_fn: Callable[[int], None] | None = None, jit_compile="auto",
          progress=None) -> dict[str, dict[str, list[float]]]:
    """Train the example once per value of one hyper-parameter, from the same initial weights (the book
    resets weights between runs); return each run's history plus test accuracy. `progress`
    (core/progress.trainings) counts each training as it ends."""
    data = view(frame, example)
    x, y = xy(data, "train", one_hot_target=example.one_hot_target)
    x_test, y_test = xy(data, "test", one_hot_target=example.one_hot_target)
    histories = {}
    for value in values:
        hyper = Hyper(**{**asdict(base), parameter: value})
        if seed_fn:
            seed_fn(base.seed)  # same seed -> same initial weights for every setting
        model = _build(example, data.attrs, hyper, jit_compile)
        result = fit(model, x, y, epochs=hyper.epochs, batch_size=hyper.batch_size)
        history = result["history"]
        history["test_accuracy"] = [M.accuracy(y_test, model.predict(x_test, verbose=0))]
        history["seconds"] = [result["seconds"]]
        histories[str(value)] = history
        if progress is not None:
            progress.tick(f"{parameter}={value}")
    return histories
