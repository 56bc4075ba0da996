"""Adding an example is one card plus a builder: a card written outside the package, with its own builder,
goes through the same building block (ExampleChains' chain_definitions) from features to a gated export."""

from __future__ import annotations

import importlib
import json
import textwrap

import dagster as dg
import pytest

from ztdl_pipeline.assets.base import key
from ztdl_pipeline.core.names import op_name, user_key

BUILDER = '''
import keras


def iris_tiny(n_features, scaling=None, n_classes=3):
    """A new example's model: one hidden layer on the iris measurements."""
    layers = [keras.Input((n_features,))]
    if scaling is not None:
        layers.append(keras.layers.Normalization(mean=scaling[0], variance=scaling[1], name="scaling"))
    layers += [keras.layers.Dense(8, activation="relu"), keras.layers.Dense(n_classes, activation="softmax")]
    return keras.Sequential(layers, name="iris_tiny")
'''

CARD = '''
from ztdl_pipeline.core.specs import Card

CARDS = (
    Card(name="iris_tiny", dataset="iris", title="a new example: iris with one hidden layer",
         source="written for the test", builder="my_examples.builders:iris_tiny", loss="categorical_crossentropy",
         builder_kwargs={"n_classes": 3}, primary=("test", "accuracy"), threshold=0.8, fast_floor=0.6,
         hyper={"epochs": 60, "optimizer": "adam", "learning_rate": 0.05}, fast={"epochs": 40}),
)
'''


@pytest.fixture
def new_card(tmp_path, monkeypatch):
    package = tmp_path / "my_examples"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "builders.py").write_text(textwrap.dedent(BUILDER))
    (package / "cards.py").write_text(textwrap.dedent(CARD))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module("my_examples.cards")
    from ztdl_pipeline.assets.reports import FAMILIES

    FAMILIES.pop("iris_tiny", None)  # the registry of loaded cards is process-wide


def test_a_new_card_and_builder_materialize_to_a_gated_export(data_env, new_card):
    from ztdl_pipeline.assets.chain import chain_definitions
    from ztdl_pipeline.assets.family import TABULAR
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    added = chain_definitions(new_card, "tabular", TABULAR)
    keys = {key.to_user_string() for asset in added.assets for key in asset.keys}
    assert keys == {user_key(layer, "iris_tiny") for layer in ("models", "reports", "exports")}
    export = key("exports", "iris_tiny")
    result = dg.materialize([*ALL_ASSETS, *added.assets, *ALL_CHECKS, *added.asset_checks], resources=resources(),
                            selection=dg.AssetSelection.assets(export).upstream(), raise_on_error=False)
    assert result.success
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert checks[(user_key("reports", "iris_tiny"), "export_gate")] and checks[(user_key("exports", "iris_tiny"), "savedmodel_matches_keras")]

    metrics = json.loads((data_env / "reports" / "iris_tiny" / "metrics.json").read_text())
    assert metrics["gate"]["threshold"] == 0.6 and metrics["test"]["accuracy"] >= 0.6
    model = result.asset_materializations_for_node(op_name("models", "iris_tiny"))[0].metadata
    assert model["epochs"].value == 40  # the card's fast override
    registry = json.loads((data_env / "exports" / "iris_tiny" / "registry.json").read_text())
    assert (data_env / "exports" / "iris_tiny" / "1" / "saved_model.pb").is_file()
    assert registry["versions"]["1"]["gate_metric"] == metrics["test"]["accuracy"]
