"""The catalogue: data only (no Dagster, no Keras). datasets.py lists every raw file; one module per domain
holds that domain's cards (core/specs.Card), feature recipes and chapter-experiment settings."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from typing import Any

# domain (asset group) -> catalogue module, in the order the docs list them
DOMAINS = {"tabular": "ztdl_pipeline.catalog.tabular", "serving": "ztdl_pipeline.catalog.serving"}


def cards() -> Iterator[tuple[str, Any]]:
    """(domain, card) for every card of the catalogue."""
    for domain, module in DOMAINS.items():
        for card in importlib.import_module(module).CARDS:
            yield domain, card


def card(name: str):
    """The card called `name`, with an error listing the known names."""
    found = {c.name: c for _, c in cards()}
    if name not in found:
        raise KeyError(f"no card {name!r}; the catalogue has: {', '.join(sorted(found))}")
    return found[name]
