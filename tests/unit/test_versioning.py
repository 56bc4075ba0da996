"""core.versioning: code versions follow the source that determines an asset, and nothing else.

The end-to-end tests copy the package, edit one function in the copy as a developer would, and compare
every asset's code version with the original's, each computed in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ztdl_pipeline.core import versioning
from ztdl_pipeline.core.versioning import Ref, code_version, data_version

PACKAGE = Path(versioning.__file__).resolve().parents[1]
DUMP = ("import json, ztdl_pipeline.definitions as d; "
        "print(json.dumps({k.to_user_string(): v for a in d.ALL_ASSETS for k, v in a.code_versions_by_key.items()}))")


def _code_versions(root: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    out = subprocess.run([sys.executable, "-c", DUMP], cwd=root, env=env, capture_output=True, text=True,
                         timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def original() -> dict[str, str]:
    return _code_versions(PACKAGE.parent)


def _edited(tmp_path: Path, relative: str, old: str, new: str) -> dict[str, str]:
    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "ztdl_pipeline", ignore=shutil.ignore_patterns("__pycache__"))
    path = copy / "ztdl_pipeline" / relative
    source = path.read_text()
    assert source.count(old) == 1, f"{relative}: the text to edit is not there once"
    path.write_text(source.replace(old, new))
    return _code_versions(copy)


def _changed(before: dict[str, str], after: dict[str, str]) -> set[str]:
    assert before.keys() == after.keys()
    return {key for key in before if before[key] != after[key]}


def test_every_asset_has_a_derived_code_version(original):
    assert len(original) > 200
    assert all(len(v) == 16 and int(v, 16) >= 0 for v in original.values())
    assert len(set(original.values())) > 0.9 * len(original)  # versions are specific, not one shared constant


@pytest.mark.e2e
def test_changing_one_builder_changes_exactly_its_examples_model_report_and_export(tmp_path, original):
    after = _edited(tmp_path, "core/models.py", 'keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1, '
                    'activation="sigmoid")])', 'keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1, '
                    'activation="sigmoid")])')
    assert _changed(original, after) == {"models/circles_shallow_model", "reports/circles_shallow_report", "exports/circles_shallow_export"}


@pytest.mark.e2e
def test_changing_a_feature_recipe_changes_its_features_and_downstream_code_only(tmp_path, original):
    after = _edited(tmp_path, "catalog/tabular.py", 'classes=(0, 1),\n                                         test_size=0.3, random_state=42)',
                    'classes=(0, 1),\n                                         test_size=0.25, random_state=42)')
    assert _changed(original, after) == {"features/moons_features"}


def test_builder_source_changes_the_version_and_unrelated_text_does_not():
    a = code_version(Ref("ztdl_pipeline.core.models", "circles_shallow"))
    assert a == code_version(Ref("ztdl_pipeline.core.models", "circles_shallow"))
    assert a != code_version(Ref("ztdl_pipeline.core.models", "linear_regression"))
    assert versioning.has_definition(Ref("ztdl_pipeline.core.models", "circles_shallow"))
    assert not versioning.has_definition(Ref("ztdl_pipeline.core.models", "no_such_builder"))


def test_closed_over_values_enter_the_version():
    import dataclasses

    from ztdl_pipeline.assets.features import features_asset
    from ztdl_pipeline.catalog.tabular import FEATURES

    spec = next(s for s in FEATURES if s.dataset == "moons")
    same = features_asset(spec, "tabular")
    other = features_asset(dataclasses.replace(spec, recipe=dataclasses.replace(spec.recipe, random_state=7)),
                           "tabular")
    key = same.key
    assert same.code_versions_by_key[key] == features_asset(spec, "tabular").code_versions_by_key[key]
    assert same.code_versions_by_key[key] != other.code_versions_by_key[key]


def test_data_version_ignores_key_order_and_follows_values():
    assert data_version({"a": 1, "b": [1, 2]}) == data_version({"b": [1, 2], "a": 1})
    assert data_version({"a": 1}) != data_version({"a": 2})


def test_every_builder_an_example_names_is_found_and_enters_its_versions():
    """A builder picked by a string in a card must resolve to a function, or a renamed builder would silently
    drop out of the model's code version (transfer and Reuters models call their builders directly)."""
    import ztdl_pipeline.definitions  # noqa: F401  (builds every asset, which registers the cards)
    from ztdl_pipeline.assets.reports import FAMILIES

    direct = {"xception", "reuters_lstm"}
    checked = 0
    for name, (example, family) in FAMILIES.items():
        if example.builder in direct:
            continue
        ref = family.builder_ref(example)
        assert ref is not None, f"{name}: builder {example.builder!r} does not resolve"
        checked += 1
    assert checked >= 35
