"""reports/fundamentals_report: DataCamp's forward-propagation and gradient lessons computed in NumPy
(core/fundamentals.py), every number the memo prints next to ours; its blocking check holds each to the book's
rounding. One report for the ten lessons: they are one memo's arithmetic on the same small networks, each a
microsecond of NumPy, so a node per lesson would add ten graph nodes and ten runs of nothing. No data file."""

import json

import dagster as dg

from ztdl_pipeline.assets.base import key, versioned_asset
from ztdl_pipeline.assets.chapters import chapter_output
from ztdl_pipeline.catalog import fundamentals as catalog
from ztdl_pipeline.resources.storage import Storage

REPORT_KEY = key("reports", catalog.REPORT)


@versioned_asset(catalog.LESSONS, key=REPORT_KEY, group_name="fundamentals", io_manager_key="report_io",
                 kinds={"numpy", "markdown"},
                 description="DataCamp: forward propagation (26, -39), ReLU (52), many rows, two hidden layers (182), "
                             "model errors, mean squared errors, slopes and a gradient step, the backprop quiz: "
                             "ours next to the memo's printed numbers")
def fundamentals(context: dg.AssetExecutionContext, storage: Storage) -> dg.Output[dict]:
    from ztdl_pipeline.core.fundamentals import fundamentals_chapter
    from ztdl_pipeline.core.refs import resolve

    chapter = fundamentals_chapter(catalog.LESSONS, resolve)
    context.log.info(chapter.sections[0][1])
    return chapter_output(storage, catalog.REPORT, chapter)


@dg.asset_check(asset=REPORT_KEY, name="matches_the_book", blocking=True,
                description="every number the memo prints is reproduced within its rounding (half a unit of the last "
                            "digit printed)")
def matches_the_book(report: dict) -> dg.AssetCheckResult:
    from ztdl_pipeline.core.fundamentals import compare, problems

    rows = [row for lesson in catalog.LESSONS for row in compare(lesson, report.get(lesson.name) or {})]
    failed = problems(rows)
    return dg.AssetCheckResult(passed=not failed, metadata={"numbers": len(rows), "matching": len(rows) - len(failed),
                                                            "problems": json.dumps(failed)})


defs = dg.Definitions(assets=[fundamentals], asset_checks=[matches_the_book])
