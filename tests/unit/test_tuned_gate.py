"""The tuned export's gate (core/tuned_gate.py): a tuned model must beat the book-settings model on the test split
by more than the paired bootstrap's noise, beat its baseline, and be no worse than the tuned export published."""

from __future__ import annotations

import numpy as np
import pytest

from ztdl_pipeline.core.tuned_gate import Z95, Comparison, compare, decide_tuned


def _outputs(labels: np.ndarray, wrong: int, seed: int) -> np.ndarray:
    """Sigmoid outputs that get exactly `wrong` of `labels` wrong (at seeded positions)."""
    flipped = labels.copy()
    picked = np.random.default_rng(seed).choice(len(labels), size=wrong, replace=False)
    flipped[picked] = 1 - flipped[picked]
    return np.where(flipped == 1, 0.9, 0.1)[:, None]


def test_compare_scores_both_models_on_every_test_row_and_bootstraps_their_difference():
    labels = np.array([0, 1] * 150)
    tuned, book = _outputs(labels, 6, seed=1), _outputs(labels, 45, seed=2)  # 0.98 against 0.85
    c = compare("accuracy", labels, tuned, book, resamples=2000, seed=0)
    assert (c.tuned, c.book_settings, c.rows) == (pytest.approx(0.98), pytest.approx(0.85), 300)
    assert c.difference == pytest.approx(0.13)
    # the bootstrap's spread is of the order of a binomial standard error on 300 rows, not zero and not huge
    assert 0.5 * Z95 * np.sqrt(0.13 / 300) < c.noise < 2 * Z95 * np.sqrt(0.2 / 300)
    assert c.low < c.difference < c.high
    assert compare("accuracy", labels, tuned, book, resamples=2000, seed=0) == c  # seeded: reproducible
    assert compare("accuracy", labels, tuned, book, resamples=2000, seed=1).noise != c.noise


def test_compare_r2_on_a_regression_split():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=200)
    c = compare("r2", truth, truth + rng.normal(scale=0.3, size=200), truth + rng.normal(scale=0.8, size=200),
                resamples=500, seed=0)
    assert c.tuned > c.book_settings and c.difference > c.noise > 0


def _comparison(tuned: float, book: float, noise: float, rows: int = 300) -> Comparison:
    return Comparison("accuracy", tuned, book, tuned - book, noise, tuned - book - noise, tuned - book + noise,
                      1000, 0, rows)


def test_a_tuned_model_clearly_better_than_the_book_settings_passes():
    decision = decide_tuned(_comparison(0.98, 0.85, 0.04), baseline=0.5)
    assert decision.passed and not decision.reasons
    assert decision.threshold == pytest.approx(0.89)  # book settings + noise: the value to beat
    assert decision.bar == "test/accuracy > 0.8900 (book settings + noise) and > baseline 0.5000"


@pytest.mark.parametrize("tuned, book, noise", [(0.87, 0.85, 0.04), (0.89, 0.85, 0.04), (0.85, 0.85, 0.0),
                                                 (0.80, 0.85, 0.04)],
                         ids=["within the noise", "exactly the noise", "identical models", "worse"])
def test_the_gate_refuses_a_tuned_model_that_does_not_beat_the_book_settings_by_more_than_the_noise(tuned, book, noise):
    decision = decide_tuned(_comparison(tuned, book, noise), baseline=0.5)
    assert not decision.passed
    assert len(decision.reasons) == 1 and "not by more than the noise" in decision.reasons[0]


def test_the_gate_also_refuses_a_model_no_better_than_its_baseline_or_worse_than_the_tuned_export():
    assert "no better than the baseline" in decide_tuned(_comparison(0.60, 0.40, 0.05), baseline=0.62).reasons[0]
    worse = decide_tuned(_comparison(0.95, 0.85, 0.04), baseline=0.5, previous=0.97)
    assert not worse.passed and "worse than the current export's 0.9700" in worse.reasons[0]
    assert decide_tuned(_comparison(0.95, 0.85, 0.04), baseline=None).reasons  # no baseline measured: fails


def test_an_unmeasured_noise_refuses():
    decision = decide_tuned(_comparison(0.98, 0.85, float("nan")), baseline=0.5)
    assert not decision.passed and "could not be measured" in decision.reasons[0]


def test_the_trials_table_marks_an_interrupted_trial_and_shows_no_time_for_it():
    """A trial whose process was killed ends as FAIL when the next worker notices, minutes later: its 'seconds'
    would be that wait, not compute, so the table shows none, and says it was not counted."""
    from ztdl_pipeline.core.tuned_report import trials_table

    def trial(number, state, seconds, diverged=False):
        return {"number": number, "state": state, "params": {"units": 8}, "value": 0.9 if state == "COMPLETE" else None,
                "validation_loss": 0.1, "best_epoch": 3, "seconds": seconds, "diverged": diverged}

    rows = trials_table([trial(0, "COMPLETE", 12.5), trial(1, "FAIL", 531.6), trial(2, "FAIL", 4.2, diverged=True)],
                        ["units"]).splitlines()[2:]
    assert rows[0].startswith("| 0 | complete |") and rows[0].endswith("| 12.5 |")
    assert "interrupted; not counted" in rows[1] and "531.6" not in rows[1] and rows[1].endswith("| — |")
    assert "fail (diverged)" in rows[2] and rows[2].endswith("| 4.2 |")
