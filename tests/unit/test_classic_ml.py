"""core/classic_ml: the book's scikit-learn comparisons, and core/results.number_verdict, which holds their numbers
(and the fundamentals') to the book's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.catalog import tabular
from ztdl_pipeline.core import classic_ml as C
from ztdl_pipeline.core.features import build_features
from ztdl_pipeline.core.refs import resolve
from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.results import agrees, number_verdict

RECIPES = {f.dataset: f.recipe for f in tabular.FEATURES}
SPECS = {spec.name: spec for spec in tabular.CLASSIC}


def test_a_number_matches_within_the_printed_digits_or_its_stated_tolerance():
    assert number_verdict(0.7207, B("svc", "accuracy", 0.721)) == "matches"  # half a unit of the last digit
    assert number_verdict(0.7196, B("svc", "accuracy", 0.721)) == "differs"
    assert number_verdict(0.714, B("rf", "accuracy", 0.747, tolerance=0.05)) == "within tolerance ±0.05"
    assert number_verdict(0.690, B("rf", "accuracy", 0.747, tolerance=0.05)) == "differs"
    assert number_verdict(float("nan"), B("rf", "accuracy", 0.747, tolerance=0.05)) == "differs"
    assert number_verdict(None, B("rf", "accuracy", 0.747)) == "not run here"
    assert [agrees(v) for v in ("matches", "within tolerance ±0.05", "differs", "not run here")] == [
        True, True, False, False]


def test_cross_validation_is_the_books_cross_val_score():
    """StratifiedKFold without shuffling: what `cross_val_score(model, X, y, cv=3)` does for a classifier."""
    from sklearn.model_selection import cross_val_score
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(1)
    x = rng.normal(size=(90, 3))
    y = (x[:, 0] + 0.5 * rng.normal(size=90) > 0).astype(int)
    ours = C.cross_validation(DecisionTreeClassifier(random_state=0), x, y, 3)
    expected = cross_val_score(DecisionTreeClassifier(random_state=0), x, y, cv=3)
    assert [ours[f"cv_fold_{k}"] for k in (1, 2, 3)] == pytest.approx(list(expected))
    assert ours["cv_mean"] == pytest.approx(expected.mean())


def test_medians_over_seeds_are_values_a_fit_gave():
    draws = [{"accuracy": a, "true_negatives": float(tn), "confusion_matrix": [[tn, 10 - tn], [1, 4]]}
             for a, tn in ((0.70, 8), (0.80, 9), (0.60, 7))]
    out = C.medians(draws, first_seed=42)
    assert out["accuracy"] == 0.70 and out["true_negatives"] == 8.0
    assert out["confusion_matrix"] == [[8, 2], [1, 4]] and isinstance(out["confusion_matrix"][0][0], int)
    assert out["seed_spread"] == {"seeds": 3.0, "first_seed": 42.0, "min": 0.60, "max": 0.80}


def test_a_model_no_better_than_the_majority_or_off_the_book_is_a_problem():
    spec = C.ClassicModels("toy", "toy", "toy", "nowhere", (C.Estimator("svc", "sklearn.svm:SVC"),),
                           (B("svc", "accuracy", 0.9, "L1"),), {"seed": 0, "seeds": 1})
    result = {"svc": {"accuracy": 0.6}, "baseline": {"accuracy": 0.6, "rule": "always 0"}}
    found = C.problems(spec, result, C.compare(spec, result))
    assert len(found) == 2 and "svc/accuracy: ours 0.6 vs the book's 0.9 (L1): differs" in found[0]
    assert "no better than the baseline 0.6000" in found[1]


@pytest.fixture(scope="module")
def diabetes(mirror) -> pd.DataFrame:
    return build_features(pd.read_csv(mirror / "diabetes.csv"), RECIPES["diabetes"])


def test_svc_and_naive_bayes_reproduce_the_books_diabetes_numbers_exactly(diabetes):
    """The same 154 test rows as the book (random_state 22) and its scikit-learn 0.19 defaults: SVC and naive
    Bayes have no randomness, so their accuracy and every confusion-matrix cell are the book's (L21581–21591)."""
    spec = SPECS["diabetes_classic_ml"]
    chapter = C.classic_chapter(spec, diabetes, {**spec.settings, **spec.fast}, "fast", resolve)
    result = chapter.result
    assert result["svc"]["confusion_matrix"] == [[89, 11], [32, 22]]
    assert result["naive_bayes"]["confusion_matrix"] == [[87, 13], [32, 22]]
    assert result["data"]["test_rows"] == 154.0
    assert result["random_forest"]["seed_spread"]["seeds"] == spec.fast["seeds"]
    rows = {(r["model"], r["number"]): r["verdict"] for r in C.compare(spec, result)}
    assert {v for (model, _), v in rows.items() if model != "random_forest"} == {"matches"}
    assert result["comparison"]["problems"] == [] and result["profile"] == "fast"
    assert set(chapter.images) == {f"confusion_matrix_{e.name}" for e in spec.estimators}
