"""A model whose training is killed part-way resumes from its last completed epoch on the next run, and its
metadata, log and report say so: the tabular, vision and text families (sequence and Reuters models fit
through the same core.training.fit)."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from tests.faults import KillAfter
from ztdl_pipeline.assets.base import key
from ztdl_pipeline.core.names import op_name

# (card, the epoch the kill comes after): small fast-profile models of three families
CASES = [("banknotes_logreg", 3), ("digits_small_fc", 4), ("sms_two_features", 2)]


@pytest.mark.fault
@pytest.mark.parametrize("name,killed_after", CASES, ids=[c[0] for c in CASES])
def test_a_killed_training_resumes_and_the_report_says_so(data_env, monkeypatch, name, killed_after):
    from ztdl_pipeline.core import training
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    model, report = key("models", name), key("reports", name)
    instance = dg.DagsterInstance.ephemeral()

    def run(selection):
        return dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                              selection=selection, raise_on_error=False)

    assert run(dg.AssetSelection.assets(model).upstream() - dg.AssetSelection.assets(model)).success
    # every resumable fit takes its callbacks from core.training.Resume: the kill goes in beside them
    original = training.Resume.__init__

    def killing(self, backup_dir):
        original(self, backup_dir)
        self.callbacks = [*self.callbacks, KillAfter(killed_after)]

    monkeypatch.setattr(training.Resume, "__init__", killing)
    assert not run(dg.AssetSelection.assets(model)).success
    assert any((data_env / "training" / name).rglob("training_metadata.json"))

    monkeypatch.setattr(training.Resume, "__init__", original)
    resumed = run(dg.AssetSelection.assets(model, report))
    # both materialize (a fast smoke model may still fail its export gate, which is not this test's concern)
    assert resumed.asset_materializations_for_node(op_name("reports", name))
    metadata = resumed.asset_materializations_for_node(op_name("models", name))[0].metadata
    assert metadata["resumed_from_epoch"].value == killed_after
    history = json.loads((data_env / "models" / name / "history.json").read_text())
    assert len(history["loss"]) == metadata["epochs"].value  # the epochs before the kill are in the history
    log = "\n".join(entry.user_message for entry in instance.all_logs(resumed.run_id))
    assert f"resuming {name}: a killed run of this model version left a checkpoint" in log
    assert f"from epoch {killed_after}" in log
    report_text = (data_env / "reports" / name / "report.md").read_text()
    assert "## Resumed" in report_text and f"from epoch {killed_after}" in report_text
    assert not any((data_env / "training" / name).rglob("*.h5"))  # nothing left to resume
