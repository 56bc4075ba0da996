"""`make run` under one profile does not take another profile's materialization for its own (run.plan): the
book profile's export is missing after a fast run, though Dagster's staleness, which knows no profiles, says
fresh. Found by running docs/serving.md as written after the README's fast run: `ZTDL_PROFILE=book make run`
said "nothing to do" and `make serve` had no model. A real run on an ephemeral instance, tagged as the pipeline
tags its runs."""

from __future__ import annotations

import dagster as dg

from ztdl_pipeline.core.provenance import PROFILE_TAG
from ztdl_pipeline.run import plan


@dg.asset(key=["exports", "toy_export"])
def toy_export():
    return 1


def test_an_asset_made_under_the_fast_profile_is_missing_under_the_book_profile(monkeypatch):
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([toy_export], instance=instance, tags={PROFILE_TAG: "fast"}).success
    graph = dg.Definitions(assets=[toy_export]).resolve_asset_graph()
    key = toy_export.key

    monkeypatch.setenv("ZTDL_PROFILE", "fast")
    assert plan(instance, graph, [key], {}).fresh == [key]
    monkeypatch.setenv("ZTDL_PROFILE", "book")
    assert plan(instance, graph, [key], {}).run == [key]
