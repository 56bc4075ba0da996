"""ch5: the banknotes logistic regression swept over learning rates and batch sizes, as the book does.

`banknotes_sweeps` trains and returns the chapter its report shows (core/chapter.Chapter)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from ztdl_pipeline.core.chapter import Chapter
from ztdl_pipeline.core.specs import Card, Hyper

HEADER = ["setting", "final loss", "book loss", "final train accuracy", "book accuracy", "test accuracy", "seconds"]


def sweep_rows(histories: Mapping[str, Mapping[str, list[float]]], book: Mapping[str, tuple[float, float]]
               ) -> list[list]:
    """One table row per setting: our final loss and accuracy next to the book's, test accuracy, seconds."""
    rows = []
    for setting, history in histories.items():
        name = setting.rstrip("0").rstrip(".") if "." in setting else setting
        book_loss, book_accuracy = book.get(name, (None, None))
        rows.append([setting, history["loss"][-1], book_loss, history["accuracy"][-1], book_accuracy,
                     history["test_accuracy"][0], history["seconds"][0]])
    return rows


def banknotes_sweeps(card: Card, features, settings: Mapping[str, Any], profile: str, *,
                     lr_book: Mapping, batch_book: Mapping, source: str,
                     seed_fn: Callable[[int], None] | None = None, jit_compile="auto",
                     log: Callable[[str], None] = print) -> Chapter:
    from ztdl_pipeline.core import plots, tabular
    from ztdl_pipeline.core.progress import trainings
    from ztdl_pipeline.core.report import markdown_table

    progress = trainings("banknotes sweeps", len(settings["learning_rates"]) + len(settings["batch_sizes"]), log)
    base = Hyper(epochs=settings["lr_epochs"], batch_size=16, optimizer="sgd", learning_rate=0.01, profile=profile)
    log(f"learning-rate sweep {settings['learning_rates']} for {base.epochs} epochs")
    by_lr = tabular.sweep(card, features, base, "learning_rate", settings["learning_rates"], seed_fn=seed_fn,
                          jit_compile=jit_compile, progress=progress)
    batch_base = replace(base, epochs=settings["batch_epochs"])
    log(f"batch-size sweep {settings['batch_sizes']} for {batch_base.epochs} epochs")
    by_batch = tabular.sweep(card, features, batch_base, "batch_size", settings["batch_sizes"], seed_fn=seed_fn,
                             jit_compile=jit_compile, progress=progress)
    sections = [
        ("Learning rate (SGD, batch 16)", markdown_table(HEADER, sweep_rows(by_lr, lr_book))),
        ("Batch size (SGD, lr 0.01)", markdown_table(HEADER, sweep_rows(by_batch, batch_book))),
        ("Notes", f"Profile {profile}: {base.epochs} / {batch_base.epochs} epochs (book: 10 / 20). Every run "
                  "starts from the same initial weights, as the book resets them. The book's batch-size table "
                  "prints five of its six columns; we compare the first five."),
        ("Source", source),
    ]
    images = {"learning_rate_accuracy": plots.sweep_curves(by_lr, "accuracy", "train accuracy by learning rate"),
              "batch_size_accuracy": plots.sweep_curves(by_batch, "accuracy", "train accuracy by batch size")}
    numbers = {f"lr_{k}_final_accuracy": v["accuracy"][-1] for k, v in by_lr.items()}
    numbers.update({f"batch_{k}_final_accuracy": v["accuracy"][-1] for k, v in by_batch.items()})
    return Chapter("ch5 banknotes sweeps", sections, images,
                   {"profile": profile, "learning_rate": by_lr, "batch_size": by_batch}, numbers)
