"""Plots rendered off-screen to PNG bytes (matplotlib Agg), for report files and the Dagster UI."""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=90)
    plt.close(fig)
    return buffer.getvalue()


def learning_curves(history: Mapping[str, Sequence[float]], title: str) -> bytes:
    """Loss (and accuracy, if recorded) per epoch, validation curves dashed."""
    metrics = [k for k in history if not k.startswith("val_")]
    fig, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.6), squeeze=False)
    for ax, name in zip(axes[0], metrics):
        epochs = np.arange(1, len(history[name]) + 1)
        ax.plot(epochs, history[name], label=f"train {name}")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], "--", label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend()
    fig.suptitle(title)
    return _png(fig)


def confusion_matrix(matrix: Sequence[Sequence[int]], labels: Sequence[str], title: str) -> bytes:
    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2.5, 1.1 * len(labels) + 2))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=30)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for (i, j), value in np.ndenumerate(matrix):
        ax.text(j, i, str(value), ha="center", va="center", color="white" if value > threshold else "black")
    ax.set_title(title)
    return _png(fig)


def decision_boundary(predict: Callable[[np.ndarray], np.ndarray], x: np.ndarray, y: np.ndarray,
                      title: str, steps: int = 101) -> bytes:
    """The book's contourf of P(class 1) over a grid (ch1 ex3), with the points on top."""
    pad = 0.1
    a = np.linspace(x[:, 0].min() - pad, x[:, 0].max() + pad, steps)
    b = np.linspace(x[:, 1].min() - pad, x[:, 1].max() + pad, steps)
    aa, bb = np.meshgrid(a, b)
    grid = np.c_[aa.ravel(), bb.ravel()].astype("float32")
    cc = np.asarray(predict(grid)).reshape(aa.shape)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.contourf(aa, bb, cc, cmap="bwr", alpha=0.2)
    ax.plot(x[y == 0, 0], x[y == 0, 1], "ob", alpha=0.5, markersize=3)
    ax.plot(x[y == 1, 0], x[y == 1, 1], "xr", alpha=0.5, markersize=3)
    ax.set_title(title)
    return _png(fig)


def prediction_vs_truth(y_true: np.ndarray, y_pred: np.ndarray, title: str, unit: str = "") -> bytes:
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.scatter(y_true, y_pred, s=6, alpha=0.5)
    low, high = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([low, high], [low, high], "k--", linewidth=1, label="perfect")
    ax.set_xlabel(f"true {unit}".strip())
    ax.set_ylabel(f"predicted {unit}".strip())
    ax.legend()
    ax.set_title(title)
    return _png(fig)


def regression_line(x: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, xlabel: str, ylabel: str,
                    title: str) -> bytes:
    """The book's ch3 plot: data points and the fitted line for a one-feature regression."""
    order = np.argsort(x)
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.scatter(x, y_true, s=4, alpha=0.3, label="data")
    ax.plot(x[order], y_pred[order], "r", linewidth=2, label="model")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    ax.set_title(title)
    return _png(fig)


def sweep_curves(histories: Mapping[str, Mapping[str, Sequence[float]]], metric: str, title: str) -> bytes:
    """One line per setting (e.g. per learning rate) of one metric over epochs."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, history in histories.items():
        ax.plot(np.arange(1, len(history[metric]) + 1), history[metric], label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.legend()
    ax.set_title(title)
    return _png(fig)


def inner_features(points: np.ndarray, labels: np.ndarray, classes: Sequence[str], test: np.ndarray,
                   title: str) -> bytes:
    """The book's scatter of a 2-unit inner layer's outputs, one colour per class (ch5 ex2/ex3); test rows
    hollow."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    for index, name in enumerate(classes):
        train, held_out = (labels == index) & ~test, (labels == index) & test
        ax.scatter(points[train, 0], points[train, 1], s=14, color=f"C{index}", label=name)
        ax.scatter(points[held_out, 0], points[held_out, 1], s=14, facecolors="none", edgecolors=f"C{index}")
    ax.set_xlabel("unit 1")
    ax.set_ylabel("unit 2")
    ax.legend(title="class (hollow: test rows)")
    ax.set_title(title)
    return _png(fig)


def metric_panels(histories: Mapping[str, Mapping[str, Sequence[float]]], metrics: Sequence[str], title: str,
                  ylim: tuple[float, float] | None = (0.0, 1.0)) -> bytes:
    """The book's comparison of settings (ch5's optimizers, initializers): one panel per metric stacked, one line
    per setting over epochs, `ylim` as the book's `plot(ylim=(0, 1))` (None: matplotlib's)."""
    fig, axes = plt.subplots(len(metrics), 1, figsize=(7, 3.2 * len(metrics)), squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics):
        for label, history in histories.items():
            ax.plot(np.arange(1, len(history[metric]) + 1), history[metric], label=label)
        if ylim is not None:
            ax.set_ylim(*ylim)
        ax.set_xlabel("epoch")
        ax.set_title(metric)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return _png(fig)


def scatter_grid(panels: Sequence[tuple[np.ndarray, str]], labels: np.ndarray, columns: int = 5) -> bytes:
    """2-D points coloured by a 0/1 label, one panel per (points, title), all on the same axes limits: the book's
    5×5 grid of an inner layer's representation epoch by epoch (ch5)."""
    rows = -(-len(panels) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(3 * columns, 2.6 * rows), squeeze=False)
    every = np.concatenate([points for points, _ in panels]) if panels else np.zeros((1, 2))
    low, high = every.min(axis=0), every.max(axis=0)
    pad = 0.05 * np.maximum(high - low, 1e-6)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    for ax, (points, title) in zip(axes.ravel(), panels):
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="coolwarm", s=6)
        ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
        ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
        ax.set_title(title, fontsize=9)
    return _png(fig)


def regression_lines(x: np.ndarray, y: np.ndarray, lines: Mapping[str, tuple[float, float]], xlabel: str,
                     ylabel: str, title: str) -> bytes:
    """ch3's lines drawn by hand over the data: one line y = w·x + b per label."""
    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    ax.scatter(x, y, s=4, alpha=0.2, label="data")
    ends = np.array([x.min(), x.max()])
    for label, (w, b) in lines.items():
        ax.plot(ends, w * ends + b, linewidth=2, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return _png(fig)


def curve(x: Sequence[float], y: Sequence[float], xlabel: str, ylabel: str, title: str) -> bytes:
    """One quantity against another, points marked (ch3's cost as b varies)."""
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.plot(x, y, "o-")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _png(fig)
