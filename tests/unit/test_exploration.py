"""core/exploration: ch2's data exploration reports on the mirror's files, read as the raw assets read them.
Every number the book prints about them is pure computation (describe, counts, correlations), so each must match
the book's printed digits; the summary table is pandas' describe of the file and the plots are PNGs."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from PIL import Image

from ztdl_pipeline.catalog import tabular, timeseries
from ztdl_pipeline.catalog.datasets import CATALOG
from ztdl_pipeline.catalog.exploration import EXPLORATIONS, SERIES_EXPLORATIONS
from ztdl_pipeline.core import exploration as X
from ztdl_pipeline.core.chapter import Run
from ztdl_pipeline.core.refs import resolve
from ztdl_pipeline.core.results import number_verdict
from ztdl_pipeline.core.schema import read_csv_checked

SPECS = (*EXPLORATIONS, *SERIES_EXPLORATIONS)
REPORT_NUMBERS = {**tabular.REPORT_NUMBERS, **timeseries.REPORT_NUMBERS}


def raw(mirror, name: str) -> pd.DataFrame:
    entry = CATALOG[name]
    path = mirror / entry.filename
    if entry.reader:
        return resolve(entry.reader)(path, entry.columns)
    return read_csv_checked(path, entry.columns, entry.read_options)


@pytest.fixture(scope="module")
def chapters(mirror):
    return {spec.name: (spec, raw(mirror, spec.upstream[1]),
                        resolve(spec.function)(raw(mirror, spec.upstream[1]), run=Run(profile="fast"),
                                               book=spec.book, **spec.settings))
            for spec in SPECS}


@pytest.mark.parametrize("name", [spec.name for spec in SPECS])
def test_every_number_the_book_prints_matches(chapters, name):
    spec, _, chapter = chapters[name]
    assert spec.book and REPORT_NUMBERS[name] == spec.book  # the results table lists them
    for number in spec.book:
        ours = chapter.result[number.split][number.metric]
        assert number_verdict(ours, number) == "matches", (number, ours)


@pytest.mark.parametrize("name", [spec.name for spec in SPECS])
def test_the_summary_is_the_files_describe_and_the_plots_are_pngs(chapters, name):
    _, frame, chapter = chapters[name]
    for column, stats in chapter.result["describe"].items():
        assert stats["mean"] == pytest.approx(frame[column].mean(), rel=1e-12)
        assert stats["count"] == frame[column].notna().sum()
    markdown = chapter.markdown(embed=True)
    assert "## Summary statistics (describe)" in markdown and markdown.count("data:image/png;base64,") == len(
        chapter.images) >= 3
    for png in chapter.images.values():
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG" and min(image.size) > 100


def test_a_numeric_column_in_the_summary_table_keeps_describes_order():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0, None], "b": ["x", "y", "z", "w"]})
    stats = X.summary(frame)
    assert list(stats) == ["a"] and stats["a"]["count"] == 3 and stats["a"]["median"] == 2.0
    table = X.summary_table(stats).splitlines()
    assert [row.split(" | ")[0].strip("| ") for row in table[2:]] == list(X.STATISTICS)
