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
