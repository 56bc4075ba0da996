"""reports/<name>_report: the book's scikit-learn comparisons (catalog/tabular.CLASSIC: ch4 ex3's diabetes models,
ch5's banknotes random forest) fitted on their features table's split, ours next to every printed number. Its
blocking check is the gate: each number within the book's rounding or stated tolerance, each model above the
majority baseline. Nothing is exported (core/classic_ml.py and docs/architecture.md say why)."""


import json

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import asset_in, key, versioned_asset
from ztdl_pipeline.assets.chapters import chapter_output, run_settings
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import tabular as catalog
from ztdl_pipeline.core.classic_ml import ClassicModels
from ztdl_pipeline.resources.storage import Storage


def classic_report(spec: ClassicModels) -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition]:
    config_cls = values_config(spec.name, dict(spec.settings), f"{spec.title}: the run's settings")
    config_cls.FAST = spec.fast  # what assets.chapters.run_settings applies under the fast profile
    names = ", ".join(e.name for e in spec.estimators)

    @versioned_asset(spec, key=key("reports", spec.name),
                     ins={"features": asset_in("features", spec.dataset)}, group_name="tabular",
                     io_manager_key="report_io", kinds={"scikitlearn", "markdown"},
                     description=f"{spec.title} ({names}) — {spec.source}; judged, not exported")
    def _report(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
                storage: Storage, features: pd.DataFrame) -> dg.Output[dict]:
        from ztdl_pipeline.core.classic_ml import classic_chapter
        from ztdl_pipeline.core.refs import resolve

        settings = run_settings(context, config, storage)
        chapter = classic_chapter(spec, features, settings.values, settings.profile, resolve)
        for problem in chapter.result["comparison"]["problems"]:
            context.log.warning(problem)
        return chapter_output(storage, spec.name, chapter, settings.adjustments)

    @dg.asset_check(asset=key("reports", spec.name), name="matches_the_book", blocking=True,
                    description="every printed number within the book's rounding or its stated tolerance, every "
                                "model better than always predicting the train split's most frequent class")
    def _gate(report: dict) -> dg.AssetCheckResult:
        comparison = report["comparison"]
        return dg.AssetCheckResult(passed=not comparison["problems"], metadata={
            "numbers": comparison["numbers"], "agreeing": comparison["agreeing"],
            "problems": json.dumps(comparison["problems"])})

    return _report, _gate


_BUILT = [classic_report(spec) for spec in catalog.CLASSIC]
defs = dg.Definitions(assets=[asset for asset, _ in _BUILT], asset_checks=[check for _, check in _BUILT])
