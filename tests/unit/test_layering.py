"""The package's shape, as docs/architecture.md states it: imports run one way
(core -> catalog -> resources -> assets -> defs), the catalogue is data, every reference it holds resolves,
and no module outgrows its budget."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ztdl_pipeline"

# layer -> what it may never import (package layers above it, and the frameworks it must stay free of)
FORBIDDEN = {
    "core": ("ztdl_pipeline.resources", "ztdl_pipeline.assets", "ztdl_pipeline.defs", "ztdl_pipeline.catalog",
             "ztdl_pipeline.definitions", "ztdl_pipeline.settings", "dagster"),
    "catalog": ("ztdl_pipeline.resources", "ztdl_pipeline.assets", "ztdl_pipeline.defs", "ztdl_pipeline.definitions",
                "dagster", "keras", "tensorflow", "optuna"),
    "resources": ("ztdl_pipeline.assets", "ztdl_pipeline.defs", "ztdl_pipeline.definitions"),
    # the wiring takes every path from a resource (Storage, DatasetSource), never from the environment
    "assets": ("ztdl_pipeline.defs", "ztdl_pipeline.definitions", "ztdl_pipeline.settings"),
    "defs": ("ztdl_pipeline.definitions", "ztdl_pipeline.settings"),
    "serving": ("ztdl_pipeline.resources", "ztdl_pipeline.assets", "ztdl_pipeline.defs", "ztdl_pipeline.catalog",
                "ztdl_pipeline.definitions", "dagster"),
}


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_run_one_way(layer):
    found = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    assert not found, "\n".join(found)


def test_the_catalogue_loads_without_dagster_or_keras():
    """...nor Optuna: a card's search space is plain data (core/search_space.py)."""
    code = ("import sys, ztdl_pipeline.catalog as c; [m for m in c.modules()]; list(c.cards()); "
            "print(sorted(n for n in ('dagster', 'keras', 'tensorflow', 'optuna') if n in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"


def test_every_reference_in_the_catalogue_resolves():
    """Builders, generators and readers are named by dotted path; each must name a callable, or a rename would
    only surface when an asset runs."""
    from ztdl_pipeline import catalog
    from ztdl_pipeline.catalog import datasets
    from ztdl_pipeline.core.refs import resolve

    references = [(card.name, card.builder) for _, card in catalog.cards()]
    references += [(data.name, data.generator) for _, module in catalog.modules()
                   for data in getattr(module, "GENERATED", ())]
    references += [(entry.name, entry.reader) for entry in datasets.CATALOG.values() if entry.reader]
    references += [(lesson.name, lesson.compute) for _, module in catalog.modules()
                   for lesson in getattr(module, "LESSONS", ())]
    references += [(f"{spec.name}/{estimator.name}", estimator.factory) for _, module in catalog.modules()
                   for spec in getattr(module, "CLASSIC", ()) for estimator in spec.estimators]
    references += [(spec.name, spec.function) for _, module in catalog.modules()
                   for spec in getattr(module, "EXPERIMENTS", ())]
    assert len(references) > 20
    unresolved = [f"{name}: {path}" for name, path in references if not callable(resolve(path))]
    assert not unresolved


def test_every_dataset_a_card_or_recipe_names_is_in_the_catalogue():
    from ztdl_pipeline import catalog
    from ztdl_pipeline.catalog import datasets

    generated = {data.name for _, module in catalog.modules() for data in getattr(module, "GENERATED", ())}
    for domain, module in catalog.modules():
        for name in getattr(module, "RAW_FILES", ()):
            datasets.get(name)  # raises, naming the known datasets, if it is not there
        features = {spec.dataset for spec in getattr(module, "FEATURES", ())}
        for spec in getattr(module, "FEATURES", ()):
            assert spec.dataset in set(getattr(module, "RAW_FILES", ())) | generated, (domain, spec.dataset)
        for card in getattr(module, "CARDS", ()):
            assert card.dataset in features or not features, (domain, card.name, card.dataset)


def test_card_names_are_unique():
    from ztdl_pipeline import catalog

    names = [card.name for _, card in catalog.cards()]
    assert len(names) == len(set(names))


def test_no_module_outgrows_its_budget():
    """≤ 400 lines per module; a domain's wiring (ztdl_pipeline/defs/) ≤ 150 lines per file."""
    too_long = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = len(path.read_text().splitlines())
        budget = 150 if "defs" in path.relative_to(PACKAGE).parts else 400
        if lines > budget:
            too_long.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines (budget {budget})")
    assert not too_long, "\n".join(too_long)
