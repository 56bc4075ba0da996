"""The tuned chains of the vision, text and time-series families (fast profile: three trials each), in-process:
models/<card>_tuned searches the card's own model and training, reports/<card>_tuned judges it once on the test
split against models/<card>, and the gated exports/<card>_tuned is published exactly when the tuned model beats
the book settings by more than the noise (and its trivial baseline); the book-settings export is untouched."""

from __future__ import annotations

import math

import dagster as dg
import numpy as np
import pyarrow.parquet as pq
import pytest

from tests.conftest import report_metrics
from ztdl_pipeline.assets.base import key

# (card, its features table, the searched settings of its fast profile)
CASES = [("digits_small_fc", "digits", {"units", "learning_rate", "epochs"}),
         ("sms_bow", "sms_spam_bow", {"learning_rate", "epochs"}),
         ("ontario_fc_lag1", "ontario_lag1", {"units", "learning_rate"})]


@pytest.mark.parametrize("card,features,searched", CASES, ids=[c[0] for c in CASES])
def test_a_family_tuned_chain_searches_its_own_model_and_gates_its_export(data_env, card, features, searched):
    from ztdl_pipeline import catalog
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    tuned = f"{card}_tuned"
    result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=dg.DagsterInstance.ephemeral(),
                            selection=dg.AssetSelection.assets(key("exports", tuned)).upstream(), raise_on_error=False)
    [model] = result.asset_materializations_for_node(f"models__{tuned}_model")
    assert model.metadata["finished_trials"].value == 3 == model.metadata["ran_now"].value
    metrics = report_metrics(data_env, tuned)
    space = catalog.card(card).tuning.for_profile(fast=True).space
    trials = [t for t in metrics["search"]["trials"] if t["state"] == "COMPLETE"]
    assert trials and all(set(t["params"]) == searched == set(space) for t in trials)

    # the validation rows came from the training split only; the test split was scored once, for the chosen model
    splits = np.asarray(pq.read_table(data_env / "features" / f"{features}.parquet", columns=["split"])
                        .column("split").to_numpy(zero_copy_only=False)).astype(str)
    train_rows, test_rows = int((splits == "train").sum()), int((splits == "test").sum())
    assert metrics["validation_rows"] == math.ceil(train_rows * metrics["tuning"]["validation"])
    assert metrics["test_split_uses"] == 1 and metrics["tuning"]["model"] == "card"
    assert 0 < metrics["comparison"]["rows"] <= test_rows  # a time series' fast profile scores its first 744
    report = (data_env / "reports" / tuned / "report.md").read_text()
    assert "by the card's own evaluation" in report and "was used once, for that chosen model" in report
    assert all(f"| {t['number']} | complete |" in report for t in trials)

    # the gate: more than the noise above the book settings, and above the trivial baseline; nothing else
    comparison, gate = metrics["comparison"], metrics["gate"]
    beats = comparison["difference"] > comparison["noise"] and comparison["tuned"] > gate["baseline"]
    [check] = [e for e in result.get_asset_check_evaluations() if e.asset_key == key("reports", tuned)]
    assert check.passed == gate["passed"] == beats, gate["reasons"]
    if not beats:  # a win within the noise is refused, with the reason, and nothing is published
        assert any("not by more than the noise" in r or "baseline" in r for r in gate["reasons"])
    assert (data_env / "exports" / tuned / "1" / "saved_model.pb").is_file() == beats
    assert not (data_env / "exports" / card).exists()  # the book-settings export is another asset, untouched


@pytest.mark.fault
def test_a_card_search_killed_after_a_trial_resumes_with_only_the_remaining_trials(data_env, monkeypatch):
    """The study of a card search is durable like a tabular one: a materialization that dies after its first
    trial (raised from the hook that hears of each finished trial) leaves one finished trial,
    and the next run adds only the two remaining."""
    from tests.faults import Killed
    from ztdl_pipeline.assets import tuned as tuned_assets
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    tuned, instance = "sms_bow_tuned", dg.DagsterInstance.ephemeral()

    def run():
        return dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                              selection=dg.AssetSelection.assets(key("models", tuned)).upstream(), raise_on_error=False)

    real = tuned_assets.trial_logger

    def dies_after_one(context, name, budget):
        def heard(trial, finished):
            raise Killed(f"killed after trial {trial['number']} ({finished} finished)")

        return heard

    monkeypatch.setattr(tuned_assets, "trial_logger", dies_after_one)
    assert not run().success
    monkeypatch.setattr(tuned_assets, "trial_logger", real)
    [model] = run().asset_materializations_for_node(f"models__{tuned}_model")
    metadata = {k: v.value for k, v in model.metadata.items()}
    assert (metadata["resumed_from"], metadata["ran_now"], metadata["finished_trials"]) == (1, 2, 3)
