"""How the web UI presents every asset of the location: its owner, and code references to what defines it.

- Owner: OWNERS, set here for every asset (the UI's owner filter and asset pages show it).
- Code references (Dagster's `dagster/code_references` metadata, the UI's "Code" links): for an example's
  models/reports/exports/predictions, its card in the catalogue, the builder the card names and the family whose
  steps train, judge and export it; for features, the recipe; for raw data, the dataset's catalogue entry; for
  every asset, the function that defines it (first decorator line). Lines are found by reading the source text
  (no import, no `inspect`: loading the location stays fast).
- Where a git remote is known (`$ZTDL_GIT_URL`, else the checkout's `origin`, on GitHub or GitLab), Dagster's
  `link_code_references_to_git` turns those into links to the files at the checked-out commit.
"""

from __future__ import annotations

import functools
import inspect
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from ztdl_pipeline.core import names

OWNERS = ["team:ztdl"]
GIT_URL_ENV = "ZTDL_GIT_URL"  # e.g. https://github.com/<owner>/ztdl-pipeline
REPO = Path(__file__).resolve().parents[1]
CARD_LAYERS = ("models", "reports", "exports", "predictions")


@functools.cache
def _text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _line_of(text: str, match: re.Match | None) -> int | None:
    return text.count("\n", 0, match.start()) + 1 if match else None


def entry_line(path: str, value: str, constructor: str = "", collection: str = "") -> int | None:
    """The line of a catalogue entry named `value` in the module at `path`: `Constructor("value"` or
    `Constructor(name="value"`, else `name="value"`, else the first "value", else an f-string name that makes
    "value", else the `collection` line."""
    text, quoted = _text(path), re.escape(f'"{value}"')
    patterns = [rf"\b{re.escape(constructor)}\(\s*(?:name\s*=\s*)?{quoted}"] if constructor else []
    patterns += [rf"\bname\s*=\s*{quoted}", quoted]
    for pattern in patterns:
        if (line := _line_of(text, re.search(pattern, text, re.MULTILINE))) is not None:
            return line
    # an entry made in a loop: name=f"airline_lstm_window{w}" names airline_lstm_window1
    for match in re.finditer(r'(?:\bname\s*=\s*|\(\s*)f"([^"]*)"', text):
        template = "".join(".+" if part.startswith("{") else re.escape(part)
                           for part in re.split(r"(\{[^}]*\})", match.group(1)))
        if re.fullmatch(template, value):
            return _line_of(text, match)
    return _line_of(text, re.search(rf"^{re.escape(collection)}\b", text, re.MULTILINE)) if collection else None


def definition_line(path: str, name: str) -> int | None:
    """The line of the top-level `def name` or `class name` in the module at `path`."""
    text = _text(path)
    return _line_of(text, re.search(rf"^(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b", text, re.MULTILINE))


def _module_file(module: str) -> str | None:
    loaded = sys.modules.get(module)
    if loaded is not None and getattr(loaded, "__file__", None):
        return loaded.__file__
    candidate = REPO.joinpath(*module.split(".")).with_suffix(".py")
    return str(candidate) if candidate.is_file() else None


def _reference(path: str | None, line: int | None, label: str) -> dg.LocalFileCodeReference | None:
    return dg.LocalFileCodeReference(file_path=path, line_number=line, label=label) if path and line else None


@functools.cache
def _catalogue() -> dict[tuple[str, str], tuple[str, Any, str]]:
    """(kind, name) -> (module file, entry, collection) for cards, recipes, generated data, scorings, raw files."""
    from ztdl_pipeline import catalog
    from ztdl_pipeline.catalog import datasets

    found: dict[tuple[str, str], tuple[str, Any, str]] = {}
    for _, module in catalog.modules():
        for collection, kind, attribute in (("CARDS", "card", "name"), ("FEATURES", "features", "dataset"),
                                            ("GENERATED", "raw", "name"), ("PREDICTIONS", "scoring", "name")):
            for entry in getattr(module, collection, ()):
                found.setdefault((kind, getattr(entry, attribute)), (module.__file__, entry, collection))
    for entry in [*datasets.CATALOG.values(), *datasets.FOLDERS.values()]:
        found.setdefault(("raw", entry.name), (datasets.__file__, entry, "CATALOG"))
    return found


def _catalogue_reference(kind: str, name: str, label: str) -> dg.LocalFileCodeReference | None:
    where = _catalogue().get((kind, name))
    if where is None:
        return None
    path, entry, collection = where
    return _reference(path, entry_line(path, name, type(entry).__name__, collection), label)


def _card_references(name: str) -> Iterator[dg.LocalFileCodeReference | None]:
    """The card, the builder it names and the family of its steps."""
    from ztdl_pipeline.assets.reports import FAMILIES

    where = _catalogue().get(("card", name))
    if where is None:
        return
    yield _catalogue_reference("card", name, f"card {name}")
    card = where[1]
    module, _, function = card.builder.partition(":")
    path = _module_file(module)
    yield _reference(path, definition_line(path, function) if path else None, f"builder {function}")
    if name in FAMILIES:
        family = type(FAMILIES[name][1])
        path = _module_file(family.__module__)
        yield _reference(path, definition_line(path, family.__name__) if path else None, f"family {family.__name__}")


def _definition(assets_def: dg.AssetsDefinition | None) -> dg.LocalFileCodeReference | None:
    """The function that computes the asset (its first decorator line), unwrapped from any decorator."""
    compute = getattr(getattr(assets_def, "op", None), "compute_fn", None) if assets_def is not None else None
    fn = inspect.unwrap(getattr(compute, "decorated_fn", compute)) if compute is not None else None
    code = getattr(fn, "__code__", None)
    if code is None:
        return None
    return _reference(code.co_filename, code.co_firstlineno, "asset definition")


def code_references(key: dg.AssetKey, assets_def: dg.AssetsDefinition | None) -> list[dg.LocalFileCodeReference]:
    """What defines the asset `key`, most specific first."""
    layer, name = names.split_key(key.path)
    found: list[Any] = []
    if layer in CARD_LAYERS:
        found += list(_card_references(name))
    if layer == "predictions":
        found.append(_catalogue_reference("scoring", name, f"scoring {name}"))
    if layer == "features":
        found.append(_catalogue_reference("features", name, f"recipe {name}"))
    if layer in ("raw", "sources"):
        found.append(_catalogue_reference("raw", name, f"dataset {name}"))
    found.append(_definition(assets_def))
    return [reference for reference in found if reference is not None]


def _present(spec: dg.AssetSpec, assets_def: dg.AssetsDefinition | None) -> dg.AssetSpec:
    existing = spec.metadata.get("dagster/code_references")  # a component's: the defs.yaml that made it
    earlier = [r.model_copy(update={"label": "component"}) if isinstance(r, dg.LocalFileCodeReference)
               and r.label is None else r
               for r in (existing.code_references if isinstance(existing, dg.CodeReferencesMetadataValue) else [])]
    references = dg.CodeReferencesMetadataValue(code_references=[*code_references(spec.key, assets_def), *earlier])
    return spec.replace_attributes(owners=[*OWNERS, *(o for o in spec.owners if o not in OWNERS)],
                                   metadata={**spec.metadata, "dagster/code_references": references})


def git_url() -> str | None:
    """The web address of the repository on GitHub or GitLab: $ZTDL_GIT_URL, else the checkout's `origin`
    (git@host:owner/repo.git becomes https://host/owner/repo); None when neither is known or the host is other."""
    url = os.environ.get(GIT_URL_ENV)
    if not url:
        try:
            url = subprocess.run(["git", "config", "--get", "remote.origin.url"], cwd=REPO, capture_output=True,
                                 text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
    url = re.sub(r"^git@([^:]+):", r"https://\1/", url or "").removesuffix(".git").rstrip("/")
    return url if url.startswith("https://") and ("github" in url or "gitlab" in url) else None


def _with_assets(defs: dg.Definitions, assets: list) -> dg.Definitions:
    return dg.Definitions(assets=assets, asset_checks=defs.asset_checks, schedules=defs.schedules, sensors=defs.sensors,
                          jobs=defs.jobs, resources=defs.resources, executor=defs.executor, loggers=defs.loggers,
                          metadata=defs.metadata, component_tree=defs.component_tree)


def present(defs: dg.Definitions) -> dg.Definitions:
    """`defs` with every asset's owner and code references (linked to the git host where one is known)."""
    from ztdl_pipeline.core.provenance import git_commit

    by_key = {key: a for a in defs.assets or [] if isinstance(a, dg.AssetsDefinition) for key in a.keys}
    with warnings.catch_warnings():  # code references and map_asset_specs are marked beta in Dagster 1.13
        warnings.simplefilter("ignore")
        presented = defs.map_asset_specs(func=lambda spec: _present(spec, by_key.get(spec.key)))
        remote = git_url()
        if remote is None:
            return presented
        commit = git_commit().removesuffix("-dirty")
        linked = dg.link_code_references_to_git(
            list(presented.assets or []), git_url=remote, git_branch=commit if commit != "unknown" else "main",
            file_path_mapping=dg.AnchorBasedFilePathMapping(local_file_anchor=REPO / "pyproject.toml",
                                                            file_anchor_path_in_repository="pyproject.toml"))
    return _with_assets(presented, list(linked))
