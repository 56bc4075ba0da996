"""Evaluation metrics as plain functions of true values and model outputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn import metrics as skm


def predicted_labels(output: np.ndarray) -> np.ndarray:
    """Class labels from a model's output: sigmoid column -> threshold 0.5, softmax -> argmax."""
    output = np.asarray(output)
    if output.ndim == 1 or output.shape[1] == 1:
        return (output.reshape(-1) > 0.5).astype("int64")
    return output.argmax(axis=1)


def accuracy(y_true: np.ndarray, output: np.ndarray) -> float:
    y_true = np.asarray(y_true)
    labels = y_true.argmax(axis=1) if y_true.ndim > 1 else y_true.reshape(-1)
    return float(np.mean(predicted_labels(output) == labels))


def r2(y_true: np.ndarray, output: np.ndarray) -> float:
    return float(skm.r2_score(np.asarray(y_true).reshape(-1), np.asarray(output).reshape(-1)))


def classification_metrics(y_true: np.ndarray, output: np.ndarray, classes: Sequence[Any]) -> dict[str, Any]:
    """Accuracy, precision/recall/F1 (binary: positive class; multi-class: macro), confusion matrix."""
    labels = np.arange(len(classes))
    y_pred = predicted_labels(output)
    y_true = np.asarray(y_true).reshape(-1)
    binary = len(classes) == 2
    average = "binary" if binary else "macro"
    precision, recall, f1, _ = skm.precision_recall_fscore_support(
        y_true, y_pred, labels=labels if not binary else None, average=average, zero_division=0)
    per_class = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(np.mean(y_pred == y_true)),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "confusion_matrix": skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "per_class": {str(c): {"precision": float(per_class[0][i]), "recall": float(per_class[1][i]),
                               "f1": float(per_class[2][i]), "support": int(per_class[3][i])}
                      for i, c in enumerate(classes)},
        "n": int(len(y_true)),
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    return {
        "r2": float(skm.r2_score(y_true, y_pred)),
        "mse": float(skm.mean_squared_error(y_true, y_pred)),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "n": int(len(y_true)),
    }


def crossentropy(labels: np.ndarray, output: np.ndarray) -> float:
    """Mean cross-entropy of integer labels under the model's probabilities (sigmoid column or softmax)."""
    output = np.clip(np.asarray(output, dtype=np.float64), 1e-7, 1 - 1e-7)
    labels = np.asarray(labels).reshape(-1)
    if output.ndim == 1 or output.shape[1] == 1:
        p = output.reshape(-1)
        return float(-np.mean(labels * np.log(p) + (1 - labels) * np.log(1 - p)))
    return float(-np.mean(np.log(output[np.arange(len(labels)), labels.astype(np.int64)])))


def majority_baseline(labels: np.ndarray) -> float:
    """Accuracy of always predicting the most frequent class: the floor any classifier must beat."""
    counts = np.bincount(np.asarray(labels).reshape(-1).astype("int64"))
    return float(counts.max() / counts.sum())


# ---------------------------------------------------------------- trivial predictors (the export gate's baselines)


def _label_vector(labels: np.ndarray) -> np.ndarray:
    labels = np.asarray(labels)
    return labels.argmax(axis=1) if labels.ndim > 1 else labels.reshape(-1)


def majority_class(train_labels: np.ndarray) -> Any:
    """The most frequent label of the train split (ties: the smallest label); one-hot rows are argmaxed."""
    values, counts = np.unique(_label_vector(train_labels), return_counts=True)
    if not len(values):
        raise ValueError("no train labels: the majority class is undefined")
    label = values[int(np.argmax(counts))]
    return label.item() if hasattr(label, "item") else label


def majority_accuracy(train_labels: np.ndarray, split_labels: np.ndarray) -> float:
    """Accuracy on `split_labels` of always predicting the train split's most frequent class. On another
    split it can be below that split's own majority share: it is what a model that learned nothing scores."""
    split = _label_vector(split_labels)
    return float(np.mean(split == majority_class(train_labels))) if len(split) else float("nan")


def majority_rule(train_labels: np.ndarray, classes: Sequence[Any] | None = None, what: str = "class") -> str:
    """The baseline rule in words, naming the class when its index falls in `classes`."""
    label = majority_class(train_labels)
    name = classes[label] if classes is not None and isinstance(label, int) and 0 <= label < len(classes) else label
    return f"always the train split's most frequent {what} ({name!r})"


def mean_predictor_metrics(train_targets: np.ndarray, split_targets: np.ndarray) -> dict[str, float]:
    """R², MSE and MAE on `split_targets` of always predicting the mean of the train targets (same
    definitions as `regression_metrics`, without the row count)."""
    mean = float(np.mean(np.asarray(train_targets, dtype=np.float64)))
    split = np.asarray(split_targets, dtype=np.float64).reshape(-1)
    scores = regression_metrics(split, np.full(len(split), mean))
    return {k: v for k, v in scores.items() if k != "n"}


def baseline_scores(scores: dict[str, Any], names: Sequence[str] | None = None) -> dict[str, float]:
    """The float metrics of a trivial predictor's score dict (row counts and nested sections dropped)."""
    return {k: float(v) for k, v in scores.items()
            if (names is None or k in names) and isinstance(v, float)}
