"""The book's scikit-learn comparisons (ch4 ex3: random forest, SVC and naive Bayes on the diabetes split; ch5:
the banknotes random forest with 3-fold cross-validation): fitted on a features table's split, each printed
number next to ours. No Dagster, no Keras.

These models are judged, not exported: the chain's exports are SavedModels for TF Serving and `ztdl-serve`, and
the model a consumer calls for these tables is the book's Keras one (diabetes_fc, banknotes_logreg); the book
fits scikit-learn here as the yardstick for it (docs/architecture.md).

The book ran scikit-learn 0.19, whose defaults differ from today's; each `Estimator` pins the book's values
(`RandomForestClassifier()` had 10 trees, `SVC()` gamma 'auto', `cross_val_score` 3 stratified folds).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ztdl_pipeline.core.chapter import Chapter
from ztdl_pipeline.core.report import BookNumber, markdown_table

CELLS = ("true_negatives", "false_positives", "false_negatives", "true_positives")  # sklearn's [[tn fp] [fn tp]]


@dataclass(frozen=True)
class Estimator:
    """One scikit-learn model as the book builds it: its class by reference and the parameters that pin the
    book's defaults. `seeded`: its fit depends on `random_state` and the book's was unseeded, so one seed would be
    one lottery ticket: ours is refitted with `seeds` seeds and each number is its median over them."""

    name: str  # the section of the report and the `split` of its book numbers, e.g. random_forest
    factory: str  # "sklearn.ensemble:RandomForestClassifier"
    params: Mapping[str, Any] = field(default_factory=dict)
    seeded: bool = False
    note: str = ""


@dataclass(frozen=True)
class ClassicModels:
    """reports/<name>_report: `estimators` fitted on features/<dataset>'s train split (its fitted scaling
    applied) and scored on its test split; `settings` are run-config values (seed: the first seed; seeds: how
    many a seeded model is fitted with; cv_folds: k-fold cross-validation on all rows in file order, as the book's
    `cross_val_score(model, X, y)`), `fast` the fast profile's changes of them."""

    name: str
    dataset: str
    title: str
    source: str
    estimators: tuple[Estimator, ...]
    book: tuple[BookNumber, ...]  # split: an estimator's name or "data"; metric: accuracy, a CELLS name, cv_fold_<k>
    settings: Mapping[str, Any]
    fast: Mapping[str, Any] = field(default_factory=dict)
    notes: str = ""


def scaled(frame, split: str | None) -> tuple[np.ndarray, np.ndarray]:
    """(inputs with the features' train-fitted scaling applied, class indices) of one split (None: all rows)."""
    from ztdl_pipeline.core.features import scaling_vectors, xy

    x, labels = xy(frame, split)
    mean, variance = scaling_vectors(frame.attrs)
    return (x.astype("float64") - mean) / np.sqrt(variance.astype("float64")), labels.astype("int64")


def build(estimator: Estimator, resolve: Callable[[str], Callable], seed: int):
    model = resolve(estimator.factory)(**estimator.params)
    if estimator.seeded:
        model.set_params(random_state=seed)
    return model


def scores(labels: np.ndarray, predicted: np.ndarray, n_classes: int) -> dict[str, Any]:
    """Accuracy and the confusion matrix (rows: true class); a binary one's cells by name too (CELLS)."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(labels, predicted, labels=np.arange(n_classes))
    out: dict[str, Any] = {"accuracy": float(np.mean(labels == predicted)), "confusion_matrix": matrix.tolist()}
    if n_classes == 2:
        out.update({cell: float(value) for cell, value in zip(CELLS, matrix.ravel())})
    return out


def cross_validation(model, x: np.ndarray, y: np.ndarray, folds: int) -> dict[str, float]:
    """`cross_val_score` as the book's scikit-learn ran it for a classifier: stratified folds, no shuffling."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds_scores = cross_val_score(model, x, y, cv=StratifiedKFold(n_splits=folds))
    return {**{f"cv_fold_{k}": float(s) for k, s in enumerate(folds_scores, start=1)},
            "cv_mean": float(np.mean(folds_scores)), "cv_std": float(np.std(folds_scores))}


def fit_once(estimator: Estimator, resolve, seed: int, train, test, everything, folds: int, n_classes: int
             ) -> dict[str, Any]:
    """One fit on the train split scored on the test split, plus `folds`-fold cross-validation (0: none)."""
    section = scores(test[1], build(estimator, resolve, seed).fit(*train).predict(test[0]), n_classes)
    if folds:
        section.update(cross_validation(build(estimator, resolve, seed), *everything, folds))
    return section


def medians(draws: Sequence[Mapping[str, Any]], first_seed: int) -> dict[str, Any]:
    """Each number's median over fits with different seeds (odd counts: a value one fit gave), the confusion
    matrix cell by cell, and the accuracy's range (`seed_spread`)."""
    out: dict[str, Any] = {name: float(np.median([d[name] for d in draws]))
                           for name, value in draws[0].items() if isinstance(value, float)}
    matrix = np.median([d["confusion_matrix"] for d in draws], axis=0).tolist()
    out["confusion_matrix"] = [[int(v) if float(v).is_integer() else v for v in row] for row in matrix]
    accuracies = [d["accuracy"] for d in draws]
    out["seed_spread"] = {"seeds": float(len(draws)), "first_seed": float(first_seed),
                          "min": min(accuracies), "max": max(accuracies)}
    return out


def fit_all(spec: ClassicModels, frame, settings: Mapping[str, Any], resolve: Callable[[str], Callable]
            ) -> dict[str, Any]:
    """Every estimator fitted on the train split and scored on the test split (a seeded one `seeds` times, its
    numbers the medians), cross-validated where the settings ask; the data's majority share and the trivial
    baseline beside them."""
    train, test, everything = scaled(frame, "train"), scaled(frame, "test"), scaled(frame, None)
    n_classes = len(frame.attrs["classes"])
    counts = np.bincount(everything[1], minlength=n_classes)
    majority = int(np.argmax(np.bincount(train[1], minlength=n_classes)))
    result: dict[str, Any] = {
        "data": {"rows": float(len(everything[1])), "train_rows": float(len(train[1])),
                 "test_rows": float(len(test[1])), "majority_share": float(counts.max() / counts.sum())},
        "baseline": {"accuracy": float(np.mean(test[1] == majority)),
                     "rule": f"always the train split's most frequent class ({frame.attrs['classes'][majority]!r})"}}
    first, folds = settings["seed"], settings.get("cv_folds", 0)
    for estimator in spec.estimators:
        start = time.perf_counter()
        seeds = range(first, first + (settings["seeds"] if estimator.seeded else 1))
        draws = [fit_once(estimator, resolve, seed, train, test, everything, folds, n_classes) for seed in seeds]
        result[estimator.name] = {**(medians(draws, first) if len(draws) > 1 else draws[0]),
                                  "seconds": round(time.perf_counter() - start, 3)}
    return result


def compare(spec: ClassicModels, result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per printed number: ours, the book's, and its verdict (core/results.number_verdict)."""
    from ztdl_pipeline.core.report import lookup_metric
    from ztdl_pipeline.core.results import number_verdict

    rows = []
    for number in spec.book:
        ours = lookup_metric(result, number.split, number.metric)
        rows.append({"model": number.split, "number": number.metric, "ours": ours, "book": number.value,
                     "verdict": number_verdict(ours, number), "where": number.where})
    return rows


def problems(spec: ClassicModels, result: Mapping[str, Any], rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """What keeps the report from passing its gate: a number off the book's, a model no better than always
    predicting the train split's most frequent class."""
    from ztdl_pipeline.core.results import agrees

    found = [f"{r['model']}/{r['number']}: ours {r['ours']} vs the book's {r['book']} ({r['where']}): {r['verdict']}"
             for r in rows if not agrees(r["verdict"])]
    baseline = result["baseline"]["accuracy"]
    found += [f"{e.name}: test accuracy {result[e.name]['accuracy']:.4f} is no better than the baseline "
              f"{baseline:.4f} ({result['baseline']['rule']})"
              for e in spec.estimators if result[e.name]["accuracy"] <= baseline]
    return found


def _num(value: Any) -> str:
    return "—" if value is None else f"{value:.6g}"


def classic_chapter(spec: ClassicModels, frame, settings: Mapping[str, Any], profile: str,
                    resolve: Callable[[str], Callable]) -> Chapter:
    """Fit, compare and write up: the report's sections, a confusion matrix per model, and metrics.json
    ({model: {accuracy, cells, cv_fold_k, seed_spread}, data, baseline, comparison, profile})."""
    from ztdl_pipeline.core import plots
    from ztdl_pipeline.core.results import agrees

    result = fit_all(spec, frame, settings, resolve)
    rows = compare(spec, result)
    failed = problems(spec, result, rows)
    result["comparison"] = {"numbers": len(rows), "agreeing": sum(agrees(r["verdict"]) for r in rows),
                            "problems": failed}
    result["profile"] = profile
    classes = [str(c) for c in frame.attrs["classes"]]
    models = markdown_table(
        ["model", "scikit-learn", "test accuracy", "confusion matrix", *(["cv folds"] if settings.get("cv_folds")
                                                                         else [])],
        [[e.name, f"`{e.factory.split(':')[1]}({', '.join(f'{k}={v!r}' for k, v in e.params.items())})`",
          result[e.name]["accuracy"], str(result[e.name]["confusion_matrix"]),
          *([", ".join(f"{result[e.name][f'cv_fold_{k}']:.4f}" for k in range(1, settings["cv_folds"] + 1))]
            if settings.get("cv_folds") else [])] for e in spec.estimators])
    spreads = [f"- `{e.name}`: seeds {int(s['first_seed'])}–{int(s['first_seed'] + s['seeds']) - 1}: test "
               f"accuracy {s['min']:.4f} … {s['max']:.4f}, median {result[e.name]['accuracy']:.4f}"
               for e in spec.estimators if (s := result[e.name].get("seed_spread"))]
    sections = [
        ("Ours vs the book", markdown_table(["model", "number", "ours", "book", "verdict", "where"],
                                            [[r["model"], r["number"], _num(r["ours"]), _num(r["book"]), r["verdict"],
                                              r["where"]] for r in rows])),
        ("Models", models + f"\n\nTrained on {int(result['data']['train_rows'])} rows, tested on "
                            f"{int(result['data']['test_rows'])}; baseline: {result['baseline']['rule']} scores "
                            f"{result['baseline']['accuracy']:.4f}."),
        ("Gate", "A blocking check holds every number to the book's (within its rounding, or the tolerance the "
                 "number states) and every model above the baseline; nothing is exported. "
                 + ("Passed." if not failed else "Failed:\n\n" + "\n".join(f"- {p}" for p in failed))),
    ]
    if spreads:
        sections.append(("Seeds", "The book's random forest is unseeded, so its numbers are one draw. Ours is "
                                  "fitted with several seeds and every number of it above is the median over them "
                                  "(the confusion matrix cell by cell):\n\n" + "\n".join(spreads)))
    notes = "\n".join(f"- `{e.name}`: {e.note}" for e in spec.estimators if e.note)
    if spec.notes or notes:
        sections.append(("Notes", "\n\n".join(filter(None, [spec.notes, notes]))))
    sections.append(("Source", spec.source))
    images = {f"confusion_matrix_{e.name}": plots.confusion_matrix(
        result[e.name]["confusion_matrix"], classes,
        f"{e.name} (test{', median over seeds' if 'seed_spread' in result[e.name] else ''})") for e in spec.estimators}
    metadata = {f"{e.name}_test_accuracy": result[e.name]["accuracy"] for e in spec.estimators}
    metadata |= {"numbers_agreeing": result["comparison"]["agreeing"], "numbers_printed": len(rows)}
    return Chapter(spec.title, sections, images, result, metadata)
