"""The building block every domain uses: a Dagster Component that turns one catalogue module into

    raw/<dataset> -> features/<dataset> -> models/<card> -> reports/<card> -> exports/<card> [-> predictions/<card>]

with the features checks (blocking), the export gate on reports (blocking) and the reload check on exports.
A domain's folder under ztdl_pipeline/defs/ instantiates it in a few lines of defs.yaml:

    type: ztdl_pipeline.assets.chain.ExampleChains
    attributes: {catalog: ztdl_pipeline.catalog.tabular, group: tabular}

The catalogue module may define RAW_FILES (names in catalog/datasets.py), GENERATED (core.specs.GeneratedData),
FEATURES (core.specs.TableFeatures), CARDS (core.specs.Card) and PREDICTIONS (core.specs.Scoring: the examples whose
current export scores its raw rows, predictions/<card>); `family` names the steps its cards use.
"""


import importlib
from dataclasses import dataclass, replace
from types import ModuleType

import dagster as dg

from ztdl_pipeline.assets.exports import export_asset, export_reload_check
from ztdl_pipeline.assets.family import Family
from ztdl_pipeline.assets.features import features_asset, features_checks
from ztdl_pipeline.assets.models import model_asset
from ztdl_pipeline.assets.predictions import predictions_asset
from ztdl_pipeline.assets.raw import generated_asset, raw_file_asset
from ztdl_pipeline.assets.reports import export_gate_check, report_asset
from ztdl_pipeline.catalog import datasets


def card_assets(card, group: str, family: Family
                ) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """models/<x>, reports/<x>, exports/<x> and their checks; what a card reads besides its features is its
    family's (`model_inputs`, `export_inputs`)."""
    return ([model_asset(card, group, family), report_asset(card, group, family),
             export_asset(card, group, family)],
            [export_gate_check(card), export_reload_check(card, family)])


def chain_definitions(catalog: ModuleType, group: str, family: Family) -> dg.Definitions:
    assets: list[dg.AssetsDefinition] = []
    checks: list[dg.AssetChecksDefinition] = []
    assets += [raw_file_asset(datasets.get(name), group) for name in getattr(catalog, "RAW_FILES", ())]
    assets += [generated_asset(data, group) for data in getattr(catalog, "GENERATED", ())]
    for spec in getattr(catalog, "FEATURES", ()):
        assets.append(features_asset(spec, group))
        checks += features_checks(spec)
    for card in getattr(catalog, "CARDS", ()):
        # the book chain ignores the card's search (assets/tuned.py runs it), so editing a search space never
        # changes the book model's version
        card_asset_list, card_checks = card_assets(replace(card, tuning=None), group, family)
        assets += card_asset_list
        checks += card_checks
    assets += [predictions_asset(entry, group) for entry in getattr(catalog, "PREDICTIONS", ())]
    return dg.Definitions(assets=assets, asset_checks=checks)


@dataclass
class ExampleChains(dg.Component, dg.Resolvable):
    """Every card of one catalogue module as an asset chain with checks."""

    catalog: str  # the catalogue module, e.g. ztdl_pipeline.catalog.tabular
    group: str  # the asset group (a domain), e.g. tabular
    family: str = "ztdl_pipeline.assets.family:TABULAR"  # the steps its cards train, judge and export with

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from ztdl_pipeline.core.refs import resolve

        return chain_definitions(importlib.import_module(self.catalog), self.group, resolve(self.family))
