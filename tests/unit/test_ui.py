"""What the web UI shows of every asset, read from the real code location's specs (ztdl_pipeline/ui.py): an owner,
and code references that point at the lines defining it: the card, the builder it names, the family of its
steps, the recipe or dataset entry, the asset function; linked to the git host when a remote is known."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from ztdl_pipeline import catalog, ui
from ztdl_pipeline.core import names
from ztdl_pipeline.definitions import defs


def _specs() -> list[dg.AssetSpec]:
    return [spec for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) for spec in a.specs]


def _references(spec: dg.AssetSpec) -> list:
    return list(spec.metadata["dagster/code_references"].code_references)


def _line(reference, after: int = 0) -> str:
    return Path(reference.file_path).read_text().splitlines()[reference.line_number - 1 + after]


def test_every_asset_sources_included_has_the_team_as_owner():
    specs = _specs()
    assert len(specs) > 250 and any(spec.key.path[0] == "sources" for spec in specs)
    assert [spec.key for spec in specs if spec.owners != ui.OWNERS] == []


def test_every_asset_points_at_an_existing_line_of_its_definition():
    for spec in _specs():
        references = _references(spec)
        assert references and all(isinstance(r, dg.LocalFileCodeReference) for r in references), spec.key
        for reference in references:
            lines = Path(reference.file_path).read_text().splitlines()
            assert 1 <= reference.line_number <= len(lines) and reference.label, (spec.key, reference)
        definition = next(r for r in references if r.label.startswith("asset definition"))
        assert _line(definition).lstrip().startswith(("@", "def ")), (spec.key, definition)


@pytest.mark.parametrize("layer", ["models", "reports", "exports"])
def test_an_examples_assets_point_at_its_card_builder_and_family(layer):
    from ztdl_pipeline.assets.reports import FAMILIES

    by_key = {spec.key: spec for spec in _specs()}
    for _, card in catalog.cards():
        spec = by_key.get(dg.AssetKey(names.key_parts(layer, card.name)))
        if spec is None:  # e.g. a name generator has no export
            continue
        card_ref, builder_ref, family_ref = _references(spec)[:3]
        # the card's constructor line, its name given there or on the next line (an f-string for cards made in a
        # loop, e.g. name=f"airline_lstm_window{w}")
        near = _line(card_ref) + _line(card_ref, 1)
        assert card_ref.label.startswith(f"card {card.name}"), card_ref
        assert f'"{card.name}"' in near or 'name=f"' in near, (card.name, near)
        function = card.builder.partition(":")[2]
        assert _line(builder_ref).startswith(f"def {function}("), (card.name, builder_ref)
        assert _line(family_ref).startswith(f"class {type(FAMILIES[card.name][1]).__name__}"), (card.name, family_ref)


def test_features_and_raw_assets_point_at_their_recipe_and_dataset_entry():
    by_key = {spec.key: spec for spec in _specs()}
    iris_features = _references(by_key[dg.AssetKey(["features", "iris_features"])])[0]
    assert iris_features.file_path.endswith("catalog/tabular.py") and '"iris"' in _line(iris_features)
    iris_raw = _references(by_key[dg.AssetKey(["raw", "iris_raw"])])[0]
    assert iris_raw.file_path.endswith("catalog/datasets.py") and 'name="iris"' in _line(iris_raw, 1)


def test_with_a_known_git_remote_the_references_link_to_the_files_at_the_commit(monkeypatch):
    from ztdl_pipeline.core.provenance import git_commit

    monkeypatch.setenv(ui.GIT_URL_ENV, "git@github.com:someone/ztdl-pipeline.git")
    model = next(a for a in defs.assets if isinstance(a, dg.AssetsDefinition)
                 and a.key == dg.AssetKey(["models", "iris_softmax_model"]))
    linked = ui.present(dg.Definitions(assets=[model]))
    (spec,) = next(iter(linked.assets)).specs
    card = _references(spec)[0]
    assert isinstance(card, dg.UrlCodeReference)
    commit = git_commit().removesuffix("-dirty")
    assert card.url.startswith(f"https://github.com/someone/ztdl-pipeline/tree/{commit}/ztdl_pipeline/catalog/")
    assert card.url.endswith(f"#L{_references(model.specs_by_key[model.key])[0].line_number}")
