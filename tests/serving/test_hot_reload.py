"""A new export is served without a restart: export again while ztdl-serve runs, and the status lists the
new version and predict without a version answers with it; the old version stays served when asked for."""

from __future__ import annotations

import hashlib
import time

import numpy as np
import pytest

from tests.serving.helpers import instances, raw_test_rows, served_in_process
from ztdl_pipeline.serving import registry

pytestmark = pytest.mark.e2e


def _predictions(server, path: str, columns) -> np.ndarray:
    answer = server.post(path, {"instances": instances(columns)})
    assert answer.status == 200, answer.body
    return np.asarray(answer.json["predictions"], "float32")


def test_export_while_serving_is_picked_up(server, exports_run):
    import dagster as dg

    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    _, root, instance, env = exports_run
    exports = server.exports
    columns = raw_test_rows(root, "wifi_fc", n=60)
    before = registry.list_versions("wifi_fc", exports)
    old = before[-1]
    old_pb = hashlib.sha256((exports / "wifi_fc" / str(old) / "saved_model.pb").read_bytes()).hexdigest()
    served_before = _predictions(server, "/v1/models/wifi_fc:predict", columns)  # loads and caches `old`
    np.testing.assert_allclose(served_before, served_in_process(exports, "wifi_fc", old, columns), rtol=1e-6)

    # retrain for longer (a different, better model: it clears the "no worse than current" gate) and export
    selection = dg.AssetSelection.assets(["models", "wifi_fc_model"], ["reports", "wifi_fc_report"], ["exports", "wifi_fc_export"])
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                                selection=selection, raise_on_error=False,
                                run_config={"ops": {"models__wifi_fc_model": {"config": {"epochs": 40}}}})
    assert result.success
    new = old + 1
    assert registry.list_versions("wifi_fc", exports) == [*before, new]
    manifest = registry.manifest("wifi_fc", exports)
    assert manifest["current"] == new and manifest["versions"][str(new)]["run_id"] == result.run_id

    deadline = time.monotonic() + 5.0  # mtime check on every request; a full rescan at least every second
    while True:
        statuses = server.get("/v1/models/wifi_fc").json["model_version_status"]
        if statuses[0]["version"] == str(new) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert [s["version"] for s in statuses] == [str(v) for v in reversed([*before, new])]
    assert all(s["state"] == "AVAILABLE" for s in statuses)

    expected_new = served_in_process(exports, "wifi_fc", new, columns)
    expected_old = served_in_process(exports, "wifi_fc", old, columns)
    assert not np.allclose(expected_new, expected_old, atol=1e-3)  # the versions are distinguishable
    np.testing.assert_allclose(_predictions(server, "/v1/models/wifi_fc:predict", columns), expected_new,
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(_predictions(server, f"/v1/models/wifi_fc/versions/{old}:predict", columns),
                               expected_old, rtol=1e-6, atol=1e-7)
    metadata = server.get("/v1/models/wifi_fc/metadata").json
    assert metadata["model_spec"]["version"] == str(new)
    # the published version was not touched by the new export
    assert hashlib.sha256((exports / "wifi_fc" / str(old) / "saved_model.pb").read_bytes()).hexdigest() == old_pb
