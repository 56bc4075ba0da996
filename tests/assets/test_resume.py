"""A model whose training is killed part-way resumes from its last completed epoch on the next run, and its
metadata and report say so."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from tests.faults import KillAfter

MODEL = dg.AssetKey(["models", "banknotes_logreg"])
REPORT = dg.AssetKey(["reports", "banknotes_logreg"])


@pytest.mark.fault
def test_a_killed_training_resumes_and_the_report_says_so(data_env, monkeypatch):
    from ztdl_pipeline.core import tabular
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    instance = dg.DagsterInstance.ephemeral()

    def run(selection):
        return dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                              selection=selection, raise_on_error=False)

    assert run(dg.AssetSelection.assets(MODEL).upstream() - dg.AssetSelection.assets(MODEL)).success
    fit = tabular.fit
    monkeypatch.setattr(tabular, "fit", lambda *a, **k: fit(*a, **{**k, "callbacks": [KillAfter(3)]}))
    killed = run(dg.AssetSelection.assets(MODEL))
    assert not killed.success
    assert any((data_env / "training" / "banknotes_logreg").rglob("training_metadata.json"))

    monkeypatch.setattr(tabular, "fit", fit)
    resumed = run(dg.AssetSelection.assets(MODEL, REPORT))
    assert resumed.success
    metadata = resumed.asset_materializations_for_node("models__banknotes_logreg")[0].metadata
    assert metadata["resumed_from_epoch"].value == 3
    history = json.loads((data_env / "models" / "banknotes_logreg" / "history.json").read_text())
    assert len(history["loss"]) == metadata["epochs"].value  # the epochs before the kill are in the history
    log = "\n".join(entry.user_message for entry in instance.all_logs(resumed.run_id))
    assert "resumed banknotes_logreg (seed 42) from epoch 3" in log
    report = (data_env / "reports" / "banknotes_logreg" / "report.md").read_text()
    assert "## Resumed" in report and "seed 42 from epoch 3" in report
    assert not any((data_env / "training" / "banknotes_logreg").rglob("*.h5"))  # nothing left to resume
