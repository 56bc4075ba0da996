"""The catalogue: data only (no Dagster, no Keras). datasets.py lists every raw file; one module per domain
holds that domain's cards (core/specs.Card), feature recipes and chapter-experiment settings."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from types import ModuleType
from typing import Any

# the domains (asset groups), in the order the docs list them; each has a module ztdl_pipeline/catalog/<domain>.py
DOMAINS = ("tabular", "serving", "timeseries", "vision", "text", "embeddings", "transfer", "fundamentals")


def modules() -> Iterator[tuple[str, ModuleType]]:
    """(domain, catalogue module) for every domain written as cards."""
    for domain in DOMAINS:
        name = f"{__name__}.{domain}"
        if importlib.util.find_spec(name) is not None:
            yield domain, importlib.import_module(name)


def cards() -> Iterator[tuple[str, Any]]:
    """(domain, card) for every card of the catalogue."""
    for domain, module in modules():
        for card in getattr(module, "CARDS", ()):
            yield domain, card


def card(name: str):
    """The card called `name`, with an error listing the known names."""
    found = {c.name: c for _, c in cards()}
    if name not in found:
        raise KeyError(f"no card {name!r}; the catalogue has: {', '.join(sorted(found))}")
    return found[name]
