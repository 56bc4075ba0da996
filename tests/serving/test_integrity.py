"""ztdl-serve refuses a version whose files changed since it was published (sha256 recorded in registry.json)."""

from __future__ import annotations

import json
import shutil

import pytest

from ztdl_pipeline.core.schema import folder_sha256
from ztdl_pipeline.serving.store import LoadError, ModelStore

WIFI_ROW = {f"a_{i}": -60.0 for i in range(1, 8)}


@pytest.mark.fault
def test_a_damaged_version_is_refused_and_an_intact_one_served(exports_run, tmp_path):
    _, root, _, _ = exports_run
    exports = tmp_path / "exports"
    shutil.copytree(root / "exports" / "wifi_fc", exports / "wifi_fc")
    version = exports / "wifi_fc" / "1"
    manifest = json.loads((exports / "wifi_fc" / "registry.json").read_text())
    assert manifest["versions"]["1"]["content_sha256"] == folder_sha256(version)
    answer = ModelStore(exports, poll_interval=0.0).predict("wifi_fc", 1, {"instances": [WIFI_ROW]})
    assert len(answer["predictions"]) == 1

    data = next((version / "variables").glob("variables.data-*"))
    damaged = bytearray(data.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte: the model would still load and answer wrongly
    data.write_bytes(bytes(damaged))
    with pytest.raises(LoadError) as info:
        ModelStore(exports, poll_interval=0.0).predict("wifi_fc", 1, {"instances": [WIFI_ROW]})
    message = str(info.value)
    assert str(version) in message and "recorded when it was published" in message
    assert "rematerialize exports/wifi_fc_export" in message
