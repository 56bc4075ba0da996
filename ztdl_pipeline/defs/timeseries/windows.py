"""features/<window table>: the ch7 series cut into windows (catalog/timeseries.py WINDOWS: several tables from
one series) and the independent curves (SEQUENCES), with their blocking checks (core/window_checks.py).

A window table holds, per target, the window of raw past values, the target, their times and the book's
chronological split; the scaling is fitted on the train part and stored with it."""


import json

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.assets.base import asset_in, key, versioned_asset
from ztdl_pipeline.assets.features import check_result
from ztdl_pipeline.catalog import timeseries as catalog
from ztdl_pipeline.core import timeseries as ts
from ztdl_pipeline.core import window_checks as C
from ztdl_pipeline.core.timeseries import SeriesRecipe

GROUP = "timeseries"


def window_features_asset(name: str, raw_name: str, recipe: SeriesRecipe) -> dg.AssetsDefinition:
    @versioned_asset(key=key("features", name), ins={"raw": asset_in("raw", raw_name)}, group_name=GROUP,
                     io_manager_key="parquet_io", kinds={"pandas", "parquet"},
                     description=f"{key('raw', raw_name).to_user_string()} as windows of {recipe.window} (target {recipe.start_lag} step(s) "
                                 f"after the window), split at {recipe.split_date}, scaling fitted on train — "
                                 f"{recipe.note}")
    def _features(raw: pd.DataFrame) -> dg.Output[pa.Table]:
        frame = ts.build_windows(raw, recipe, source=f"raw/{raw_name}")
        return dg.Output(ts.to_table(frame), metadata=C.table_summary(frame))

    return _features


@versioned_asset(catalog.SEQUENCES, key=key("features", catalog.SEQUENCE_TABLE),
                 ins={"raw": asset_in("raw", catalog.SEQUENCE_TABLE)}, group_name=GROUP, io_manager_key="parquet_io",
                 kinds={"pandas", "parquet"},
                 description="ch7: 200-step curves as a fixed-size-list column, the book's engineered std and "
                             "std_diff, anomaly label; train_test_split(test_size=0.25, random_state=0)")
def sequence_features(raw: pd.DataFrame) -> dg.Output[pa.Table]:
    frame = ts.build_sequences(raw, source=f"raw/{catalog.SEQUENCE_TABLE}", **catalog.SEQUENCES)
    return dg.Output(ts.to_table(frame), metadata=C.table_summary(frame))


def window_checks(name: str, recipe: SeriesRecipe | None) -> list[dg.AssetChecksDefinition]:
    """Blocking checks of a window table (recipe) or of the independent sequences (None)."""
    asset_key = key("features", name)

    @dg.asset_check(asset=asset_key, name="schema_and_nulls", blocking=True,
                    description="float32 windows of the recipe's shape, no NaN in windows, features or targets")
    def _schema(features: pa.Table) -> dg.AssetCheckResult:
        problems, shape = C.shape_problems(ts.from_table(features))
        return check_result(problems, window_shape=json.dumps(shape))

    @dg.asset_check(asset=asset_key, name="row_counts", blocking=True, description="train and test are both non-empty")
    def _rows(features: pa.Table) -> dg.AssetCheckResult:
        problems, counts = C.row_problems(ts.from_table(features))
        return check_result(problems, **counts)

    checks = [_schema, _rows]
    if recipe is None:  # independent sequences: the engineered features must be those of the raw curves
        @dg.asset_check(asset=asset_key, name="engineered_features_match", blocking=True,
                        description="std and std_diff recomputed from the stored curves equal the stored columns")
        def _engineered(features: pa.Table) -> dg.AssetCheckResult:
            problems, difference = C.engineered_problems(ts.from_table(features))
            return check_result(problems, max_abs_difference=difference)

        return [*checks, _engineered]

    @dg.asset_check(asset=asset_key, name="no_leakage", blocking=True,
                    description="every window and its target lie on one side of the split date, train before "
                                "test, and the scaling equals a fit on the train part alone")
    def _leakage(features: pa.Table) -> dg.AssetCheckResult:
        frame = ts.from_table(features)
        return check_result(C.leakage_problems(frame, recipe.scaling), split_date=frame.attrs["split_date"])

    checks.append(_leakage)
    if recipe.task == "binary":
        @dg.asset_check(asset=asset_key, name="label_balance", blocking=True,
                        description="both classes hold at least 10 % of the train windows")
        def _balance(features: pa.Table) -> dg.AssetCheckResult:
            problems, share = C.balance_problems(ts.from_table(features))
            return check_result(problems, **{"train share of class 1": share})

        checks.append(_balance)
    return checks


defs = dg.Definitions(
    assets=[*(window_features_asset(name, raw, recipe) for name, (raw, recipe) in catalog.WINDOWS.items()),
            sequence_features],
    asset_checks=[*(c for name, (_, recipe) in catalog.WINDOWS.items() for c in window_checks(name, recipe)),
                  *window_checks(catalog.SEQUENCE_TABLE, None)])
