"""Fixtures for the serving tests: real exports (materialized in-process, fast profile) and a real
`ztdl-serve` process on 127.0.0.1 driven over HTTP (helpers in tests/serving/helpers.py).

One session materializes the serving group (wifi_fc) plus two tabular chains that cover the other
signature shapes: titanic_fc (float, int64 and string inputs) and weight_height_linreg (one input).
"""

from __future__ import annotations

import pytest

from tests.serving.helpers import MODELS, start_server, stop_server
from ztdl_pipeline.assets.base import key


@pytest.fixture(scope="session")
def exports_run(tmp_path_factory, mirror):
    """The serving group + the titanic and weight-height chains, materialized once (fast profile):
    (result, data root, instance, environment for further in-process runs)."""
    import dagster as dg

    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    root = tmp_path_factory.mktemp("serving") / "data"
    env = {"ZTDL_DATA_DIR": str(root), "ZTDL_DATA_MIRROR": str(mirror), "ZTDL_PROFILE": "fast"}
    selection = dg.AssetSelection.groups("serving") | dg.AssetSelection.assets(
        *[key("exports", name) for name in MODELS if name != "wifi_fc"]).upstream()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                                selection=selection, raise_on_error=False)
    assert result.success, "materializing the exports for the serving tests failed"
    root = root / "fast"  # the fast profile's storage root
    for name in MODELS:
        assert (root / "exports" / name / "1" / "saved_model.pb").is_file(), name
    return result, root, instance, env


@pytest.fixture(scope="session")
def server(exports_run, tmp_path_factory):
    _, root, _, _ = exports_run
    running = start_server(root / "exports", tmp_path_factory.mktemp("serve_log") / "ztdl-serve.log")
    try:
        yield running
    finally:
        stop_server(running)
