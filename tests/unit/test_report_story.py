"""The short "ours vs the book" a report shows inline in the UI (core/results.ours_vs_book), numbers rounded for
display (core/report.significant), and the per-epoch TensorBoard writer's folder per fit (core/tracking)."""

from __future__ import annotations

import math
import re

import pytest

from ztdl_pipeline import catalog
from ztdl_pipeline.core.report import comparison_rows, significant
from ztdl_pipeline.core.results import INLINE_MARKDOWN_LIMIT, ours_vs_book


def _metrics(card, profile: str, offset: float) -> dict:
    """A report's metrics as the report asset records them, ours = the book's number + offset."""
    metrics: dict = {"profile": profile}
    for number in card.book:
        metrics.setdefault(number.split, {})[number.metric] = number.value + offset
    split, metric = card.primary
    metrics.setdefault(split, {}).setdefault(metric, 0.9)
    metrics["book"] = comparison_rows(metrics, card.book)
    metrics["gate"] = {"threshold": card.gate_threshold(profile), "baseline": 0.5}
    return metrics


@pytest.mark.parametrize("profile", ["book", "fast"])
def test_every_cards_story_fits_inline_and_leads_with_its_gate_metric(profile):
    cards = [card for _, card in catalog.cards()]
    assert max(len(card.book) for card in cards) >= 8  # some card has many numbers to cut
    for card in cards:
        story = ours_vs_book(card, _metrics(card, profile, 0.001))
        assert len(story) < INLINE_MARKDOWN_LIMIT, (card.name, len(story))
        split, metric = card.primary
        assert story.startswith(f"**{split}/{metric}** (the gate): ours **"), card.name
        assert f"profile {profile}" in story


def test_a_story_cut_to_fit_says_how_many_rows_are_left_out():
    card = max((c for _, c in catalog.cards()), key=lambda c: len(c.book))
    full = ours_vs_book(card, _metrics(card, "book", 0.0), limit=10_000)
    cut = ours_vs_book(card, _metrics(card, "book", 0.0), limit=450)
    assert len(cut) < 450 < len(full)
    shown = sum(bool(re.match(r"\| \w+/\w+ \|", line)) for line in cut.splitlines())  # rows of other numbers
    assert 0 < shown < len(card.book) - 1
    assert f"| … | {len(card.book) - 1 - shown} more in the full report |" in cut


def test_the_verdict_says_when_a_fast_run_clears_its_floor_but_not_the_book():
    card = catalog.card("banknotes_logreg")
    fast = _metrics(card, "fast", 0.0)
    fast["test"]["accuracy"] = 0.85  # above the fast floor (0.8), far below the book (0.9782)
    assert "clears its gate, more than the tolerance below the book" in ours_vs_book(card, fast)
    assert ": within tolerance." in ours_vs_book(card, _metrics(card, "book", -0.01))


def test_numbers_are_rounded_to_four_significant_digits_and_stay_floats():
    assert significant(0.9208333333333333) == 0.9208
    assert significant(152.4567) == 152.5 and significant(0.000123456) == 0.0001235
    assert significant(123456.0) == 123500.0 and isinstance(significant(1.0), float)
    assert math.isnan(significant(float("nan"))) and significant(0.0) == 0.0


def test_each_fit_of_a_training_gets_its_own_tensorboard_folder(tmp_path):
    from ztdl_pipeline.core.tracking import TensorBoardLog

    board = TensorBoardLog(tmp_path / "run")
    for _ in range(2):  # a model trained from two seeds
        for epoch in (1, 2):
            board(epoch, {"loss": 1.0 / epoch, "val_loss": 2.0 / epoch})
    board.close()
    written = sorted(str(p.parent.relative_to(tmp_path)) for p in tmp_path.rglob("events.out.tfevents.*"))
    assert written == ["run/fit_2/train", "run/fit_2/validation", "run/train", "run/validation"]
