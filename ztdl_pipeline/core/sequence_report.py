"""Reports of the ch7 models: forecast and residual plots, metric tables next to the book's numbers and the
naive forecast, the training settings (core/sequence_models.py trains and evaluates)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ztdl_pipeline.core import plots
from ztdl_pipeline.core.profile import gate_basis
from ztdl_pipeline.core.report import comparison_rows, comparison_table, markdown_table, render
from ztdl_pipeline.core.sequence_models import forecasts, view
from ztdl_pipeline.core.sequence_specs import SequenceExample
from ztdl_pipeline.core.training import TrainedModel


def forecast_plot(result: Mapping[str, np.ndarray], title: str, unit: str, zoom: int) -> bytes:
    """Actual vs forecast over the test period, and a zoom on its first steps with the naive forecast."""
    plt = plots.plt
    fig, axes = plt.subplots(2, 1, figsize=(10, 6.4))
    t, y, pred = result["time"], result["y"], result["pred"]
    axes[0].plot(t, y, linewidth=0.8, label="actual")
    axes[0].plot(t, pred, linewidth=0.8, alpha=0.8, label="forecast")
    axes[0].set_title(f"{title}: test period")
    part = slice(0, min(zoom, len(y)))
    axes[1].plot(t[part], y[part], "k", linewidth=1.2, label="actual")
    axes[1].plot(t[part], pred[part], linewidth=1.2, label="forecast")
    axes[1].plot(t[part], result["naive"][part], "--", linewidth=1, label="naive (repeat last value)")
    axes[1].set_title(f"first {part.stop} test steps")
    for ax in axes:
        ax.set_ylabel(unit)
        ax.legend(loc="upper right")
    fig.autofmt_xdate()
    return plots._png(fig)


def residual_plot(result: Mapping[str, np.ndarray], title: str, unit: str) -> bytes:
    """Forecast errors over the test period and their histogram, next to the naive forecast's."""
    plt = plots.plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2, 1]})
    residual, naive = result["y"] - result["pred"], result["y"] - result["naive"]
    axes[0].plot(result["time"], residual, linewidth=0.6)
    axes[0].axhline(0, color="k", linewidth=0.8)
    axes[0].set_ylabel(f"actual − forecast ({unit})")
    axes[0].set_title(f"{title}: residuals (test)")
    bins = np.histogram_bin_edges(np.concatenate([residual, naive]), bins=40)
    axes[1].hist(residual, bins=bins, alpha=0.7, label="model")
    axes[1].hist(naive, bins=bins, alpha=0.5, label="naive")
    axes[1].legend()
    fig.autofmt_xdate()
    return plots._png(fig)


def report_images(example: SequenceExample, trained: TrainedModel, frame: pd.DataFrame,
                  metrics: Mapping[str, Any]) -> dict[str, bytes]:
    data = view(frame, example)
    attrs = data.attrs
    images = {"learning_curves": plots.learning_curves(trained.history, f"{example.title}: training")}
    result = forecasts(trained, data, "test")
    if attrs["task"] == "regression":
        unit = attrs["target"]
        zoom = 168 if len(result["y"]) > 500 else len(result["y"])  # hourly series: the first week
        images["forecast_vs_actual"] = forecast_plot(result, example.title, unit, zoom)
        images["residuals"] = residual_plot(result, example.title, unit)
    else:
        images["confusion_matrix"] = plots.confusion_matrix(metrics["test"]["confusion_matrix"],
                                                            [str(c) for c in attrs["classes"]], "confusion matrix (test)")
    return images


def _metric_rows(metrics: Mapping[str, Any], task: str, stateful: bool, serving_window: int) -> tuple[list, list]:
    if task != "regression":
        header = ["", "rows", "accuracy", "precision", "recall", "f1"]
        rows = [[f"model ({s})", metrics[s]["n"], metrics[s]["accuracy"], metrics[s]["precision"],
                 metrics[s]["recall"], metrics[s]["f1"]] for s in ("train", "test")]
        rows.append(["naive / majority rule (test)", metrics["test"]["n"], metrics["naive_test"]["accuracy"],
                     None, None, None])
        return header, rows
    header = ["", "rows", "R²", "MSE", "MAE", "MSE (book's scaled units)", "skill vs naive"]
    names = [("test", "model (test)"), ("naive_test", "naive: repeat last value (test)"),
             ("train", "model (train)"), ("naive_train", "naive (train)")]
    if stateful:
        names.insert(1, ("test_stateless", f"exported stateless copy, {serving_window}-step windows (test)"))
    rows = [[label, metrics[key]["n"], metrics[key]["r2"], metrics[key]["mse"], metrics[key]["mae"],
             metrics[key].get("mse_scaled"), metrics[key].get("skill_vs_naive")] for key, label in names]
    return header, rows


def report_markdown(example: SequenceExample, trained: TrainedModel, metrics: Mapping[str, Any],
                    images: Mapping[str, bytes], threshold: float, embed: bool) -> str:
    hyper = trained.info["hyper"]
    basis = gate_basis(hyper["profile"], example.tolerance, example.threshold)
    header, rows = _metric_rows(metrics, metrics["task"], example.stateful, example.serving_window)
    book_rows = comparison_rows(metrics, example.book)
    sections = [
        ("Ours vs the book", comparison_table(book_rows) if book_rows else "The book prints no number for this "
                                                                            "example."),
        ("Metrics" if metrics["task"] != "regression" else "Forecast metrics (original units)",
         markdown_table(header, rows)),
        ("Export gate", f"`{example.primary[0]}/{example.primary[1]}` must be ≥ **{threshold:.4f}** ({basis})."),
        ("Training", markdown_table(["setting", "value"], [[k, v] for k, v in hyper.items()] + [
            ["epochs run", trained.info["epochs_run"]], ["train windows", trained.info["train_rows"]],
            ["train period", " – ".join(trained.info["train_period"] or [])],
            ["trainable parameters", trained.info["trainable_params"]],
            ["training seconds", trained.info["seconds"]],
            ["device", trained.info.get("device", {}).get("gpus") or "cpu"]])),
    ]
    if example.stateful:
        sections.append(("Stateful training and the exported copy", (
            f"Trained stateful as the book: batch size {hyper['batch_size']}, no shuffling, one step per batch, "
            "the recurrent state reset at the start of every epoch. The 'model' rows are the book's protocol: "
            "one step at a time from a zero state through the period (computed in one call by a stateless copy "
            "of the weights run over the whole sequence, which gives the same numbers). The export serves a "
            f"**stateless copy with the same weights** over the last {example.serving_window} steps: it needs no "
            "state on the server; its test metrics are the 'exported stateless copy' row.")))
    if "restarts" in trained.info:
        sections.append(("Restarts", "Trained from several seeds; kept the lowest final training loss (the test "
                                     "split plays no part in the choice).\n\n" + markdown_table(
                                         ["seed", "final train loss"],
                                         [[r["seed"], r["final_train_loss"]] for r in trained.info["restarts"]])))
    if hyper["train_windows"] or hyper["test_windows"]:
        sections.append(("Sub-sample", (f"Trained on the last {hyper['train_windows'] or 'all'} train windows "
                                        f"and judged on the first {hyper['test_windows'] or 'all'} test windows "
                                        f"(profile {hyper['profile']}); the book uses every window.")))
    if example.notes:
        sections.append(("Notes", example.notes))
    sections.append(("Source", example.source))
    return render(example.title, sections, images, embed)
