"""The tuned model's report: the chosen settings judged once on the test split, next to the book-settings model
and the book's printed number, with every trial of the search, its cost and the gate's noise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ztdl_pipeline.core import metrics as M
from ztdl_pipeline.core.features import xy
from ztdl_pipeline.core.report import markdown_table, render
from ztdl_pipeline.core.tabular import predict_original_units, trivial_baselines


def evaluate_once(card, model, data: pd.DataFrame, profile: str) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Train and test metrics of the chosen model, the test split predicted exactly once; returns (metrics,
    test targets in original units, the model's test output) for the comparison with the book settings."""
    attrs = data.attrs
    out: dict[str, Any] = {"task": attrs["task"], "profile": profile}
    test = None
    for split in ("train", "test"):
        y, output = outputs(model, data, split)
        out[split] = (M.regression_metrics(y, output) if attrs["task"] == "regression"
                      else M.classification_metrics(y, output, attrs["classes"]))
        if split == "test":
            test = (y, output)
    out.update(trivial_baselines(data, ["train", "test"], False))
    out["test_split_uses"] = 1
    assert test is not None
    return out, test[0], test[1]


def outputs(model, data: pd.DataFrame, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(targets in original units, the model's output in original units) of one split."""
    x, y = xy(data, split, scale_target=False)
    return y, predict_original_units(model, x, data.attrs)


def _value(value: Any) -> Any:
    return f"{value:.4g}" if isinstance(value, float) else value


def _state(trial: Mapping[str, Any]) -> str:
    if trial['diverged']:
        return "fail (diverged)"
    if trial['state'] in ("FAIL", "RUNNING"):  # its process was killed: never counted, its time not known
        return trial['state'].lower() + " (interrupted; not counted)"
    return trial['state'].lower()


def _counted(trial: Mapping[str, Any]) -> bool:
    return trial['state'] == "COMPLETE" or bool(trial['diverged'])


def trials_table(trials: Sequence[Mapping[str, Any]], params: Sequence[str]) -> str:
    """Every trial; an interrupted one shows no seconds (its end is when the next worker noticed it had died)."""
    rows = [[t['number'], _state(t), *[_value(t['params'].get(p, "—")) for p in params],
             t['value'] if t['value'] is not None else "—", _value(t.get('validation_loss')) or "—",
             t['best_epoch'] or "—", f"{t['seconds']:.1f}" if _counted(t) else "—"] for t in trials]
    return markdown_table(["trial", "state", *params, "validation score", "validation loss", "best epoch",
                           "seconds"], rows)


def trials_plot(trials: Sequence[Mapping[str, Any]], metric: str, title: str) -> bytes:
    """Validation score of each completed trial against its number, and the best so far."""
    import matplotlib.pyplot as plt

    from ztdl_pipeline.core.plots import _png

    done = [t for t in trials if t['state'] == "COMPLETE" and t['value'] is not None]
    numbers = [t['number'] for t in done]
    values = [t['value'] for t in done]
    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(numbers, values, "o", label="trial")
    if values:
        ax.step(numbers, np.maximum.accumulate(values), where="post", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"validation {metric}")
    ax.set_title(title)
    ax.legend()
    return _png(fig)


def importance_plot(importances: Mapping[str, float], title: str) -> bytes:
    import matplotlib.pyplot as plt

    from ztdl_pipeline.core.plots import _png

    names = list(importances)[::-1]
    fig, ax = plt.subplots(figsize=(6, 0.5 * len(names) + 1.5))
    ax.barh(names, [importances[n] for n in names])
    ax.set_xlabel("fANOVA importance")
    ax.set_title(title)
    return _png(fig)


def chosen_how(metrics: Mapping[str, Any]) -> str:
    """The report's account of the selection: which rows scored the trials, what the final model trained on."""
    c, t, chosen = metrics["comparison"], metrics["tuning"], metrics["chosen"]
    test_once = (f"The test split ({c['rows']} rows) was used once, for that chosen model; no trial saw it.")
    if t.get("model") == "card":
        carved = metrics.get("validation_rule") or "carved from it"
        return (f"Each trial trained the card's own model with its own training step on the training split minus "
                f"{metrics['validation_rows']} validation rows ({t['validation']:.0%}: {carved}) and was scored on "
                f"those rows ({t['metric']}) by the card's own evaluation. The best trial's settings were retrained "
                f"by the same step on the whole training split ({metrics['train_rows']} rows, {chosen['epochs']} "
                f"epochs at most). " + test_once)
    stratified = ", stratified by class" if metrics["task"] != "regression" else ""
    return (f"Each trial trained on the training split minus {metrics['validation_rows']} validation rows carved "
            f"from it ({t['validation']:.0%}, seed {t['seed']}{stratified}) and was scored on those rows "
            f"({t['metric']}), stopping early on their loss (patience {t['patience']}, at most {t['max_epochs']} "
            f"epochs). The best trial's settings were retrained on the whole training split ({metrics['train_rows']} "
            f"rows) for the epochs its early stopping chose ({chosen['epochs']}). " + test_once)


def markdown(card, metrics: Mapping[str, Any], images: Mapping[str, bytes], embed: bool) -> str:
    """The report: `metrics` is what the report asset stores (search, comparison, gate, settings, the search's
    Tuning as a dict)."""
    s, c, t = metrics["search"], metrics["comparison"], metrics["tuning"]
    m = t['metric']
    printed = metrics["book_printed"]
    verdict, why = metrics["against_book"]
    fast = f"; the {metrics['profile']} profile's budgets" if metrics["profile"] != "book" else ""
    chosen = metrics["chosen"]
    per_row = (f"one row moves accuracy by {1 / c['rows']:.4f}" if m == "accuracy"
               else f"each row carries 1/{c['rows']} of the squared errors behind R²")
    book = metrics["book_settings"]  # the book model's resolved settings; its shape is the card's builder
    settings_rows = [[k, _value(v), _value(book.get(k, "— (the card's builder)"))] for k, v in chosen.items()]
    importances = metrics["importance"]
    sections = [
        ("How the settings were chosen", chosen_how(metrics)),
        ("Test split (used once)", markdown_table(
            ["model", f"test {m}"],
            [["tuned (chosen settings)", c["tuned"]], ["book settings (models/" + card.name + "_model)",
                                                       c["book_settings"]],
             ["the book's printed number", printed if printed is not None else "—"]])
         + f"\n\nTuned − book settings: **{c['difference']:+.4f}**; noise (1.96 × the standard deviation of that "
           f"difference over {c['resamples']} paired bootstrap resamples of the test rows, seed {c['seed']}): "
           f"{c['noise']:.4f}; 95 % interval [{c['low']:+.4f}, {c['high']:+.4f}]. Why a bootstrap: with "
           f"{c['rows']} test rows, {per_row}, so which rows were drawn decides part of any difference; the "
           "bootstrap measures that on the same rows and predictions, with no extra training."),
        ("Export gate", f"`{metrics['gate']['rule']}`: "
                        + ("passed." if metrics["gate"]["passed"] else "refused — " + "; ".join(metrics["gate"]["reasons"]) + ".")
                        + f" The tuned export is `exports/{card.name}_tuned`; the book-settings export is never replaced."),
        ("Against the book's printed number", f"**{verdict}**" + (f": {why}" if why else ".")),
        ("Chosen settings", markdown_table(["setting", "tuned", "book"], settings_rows)),
        ("Search", markdown_table(["", ""], [
            ["sampler", f"Optuna TPESampler, seed {t['seed']} + finished trials, {t['startup_trials']} random "
                        "trials first"],
            ["budgets", f"{t['trials']} trials, {t['timeout_s']:g} s of trial compute (card{fast})"],
            ["finished trials", s["finished"]], ["ran in this materialization", s["ran_now"]],
            ["resumed from", f"{s['resumed_from']} finished trials" if s["resumed_from"] else "— (a fresh search)"],
            ["stopped by", s["stopped_by"]], ["search compute (s)", f"{s['search_seconds']:.1f}"],
            ["final training (s)", f"{metrics['final_seconds']:.1f}"], ["study", f"`{s['study']}`"],
            ["storage", metrics["storage"]]])),
        ("Trials", trials_table(s["trials"], s["params"])),
        ("Parameter importance", markdown_table(["parameter", "fANOVA importance"], list(importances.items()))
         if importances else "Not computed: it needs at least two parameters that vary and four completed trials."),
    ]
    if card.notes:
        sections.append(("Notes on the book example", card.notes))
    sections.append(("Source", card.source))
    return render(f"{card.title}: tuned", sections, images, embed)


def story(metrics: Mapping[str, Any], limit: int = 1000) -> str:
    """The report's few lines the UI shows inline (under `limit` characters): tuned vs the book's settings on the
    test split, with the noise, against the book's printed number, and the gate."""
    c, m, gate = metrics["comparison"], metrics["tuning"]["metric"], metrics["gate"]
    verdict, why = metrics["against_book"]
    printed = metrics["book_printed"]
    book = f"the book's {printed:.4f}: {verdict}" if printed is not None else verdict
    head = (f"**test/{m}**: tuned **{c['tuned']:.4f}**, book settings {c['book_settings']:.4f} (tuned − book settings "
            f"{c['difference']:+.4f}, noise {c['noise']:.4f}); {book}.")
    tail = (f"\n\nGate `{gate['rule']}`: {'passed' if gate['passed'] else 'refused'}; {metrics['search']['finished']} "
            "trials. The full report with plots is the `report` entry.")
    reason = f" {why[0].upper()}{why[1:]}." if why else ""
    return head + (reason if len(head + reason + tail) < limit else "") + tail
