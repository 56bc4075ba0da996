"""features/<dataset>: model inputs as parquet, with blocking checks (schema and nulls, row counts, label balance).

The check arithmetic lives in core (core/feature_checks.py for tabular frames, core/tables.py for column-kind
tables); the checks here only wrap it.
"""


import json
from collections.abc import Callable
from typing import Any

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import asset_in, key, md_table, table_schema, versioned_asset
from ztdl_pipeline.core.specs import TableFeatures


def features_asset(spec: TableFeatures, group: str) -> dg.AssetsDefinition:
    @versioned_asset(key=key("features", spec.dataset), ins={"raw": asset_in("raw", spec.dataset)},
                     group_name=group, io_manager_key="parquet_io", kinds={"pandas", "parquet"},
                     description=spec.description)
    def _features(raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
        from ztdl_pipeline.core.feature_checks import class_balance, split_rows
        from ztdl_pipeline.core.features import SPLIT_COLUMN, apply_scaling, build_features, column_summary

        frame = build_features(raw, spec.recipe, source=f"raw/{spec.dataset}")
        attrs, counts = frame.attrs, split_rows(frame)
        metadata: dict[str, Any] = {
            "rows": counts["rows"], "rows_train": counts["train"], "rows_test": counts["test"],
            "feature_columns": attrs["feature_columns"], "target": attrs["target"],
            "split": json.dumps(attrs["split"]),
            "scaling (offset, scale) fitted on train": json.dumps(attrs["scaling"]),
            "imputation (train medians)": json.dumps(attrs["imputation"]),
            "categories": json.dumps(attrs["categorical"]),
            "column statistics (unscaled)": md_table(column_summary(frame.drop(columns=[SPLIT_COLUMN]))),
            "dagster/column_schema": table_schema(frame), "dagster/row_count": len(frame),
        }
        if attrs["scaling"]:
            scaled = apply_scaling(frame, attrs)
            metadata["column statistics (scaled, as the model sees them)"] = md_table(
                column_summary(scaled[list(attrs["scaling"])]))
        if attrs["classes"] is not None:
            metadata["class balance"] = json.dumps(class_balance(frame))
        return dg.Output(frame, metadata=metadata)

    return _features


def check_result(problems: list[str], **metadata: Any) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": json.dumps(problems), **metadata})


def features_checks(spec: TableFeatures) -> list[dg.AssetChecksDefinition]:
    """schema_and_nulls and row_counts for a tabular features table, and label_balance where it holds class
    labels (a regression table has none: a balance check there could not fail)."""
    from ztdl_pipeline.core import feature_checks as fc

    asset_key = key("features", spec.dataset)

    @dg.asset_check(asset=asset_key, name="schema_and_nulls", blocking=True,
                    description="feature columns are present, float32 and free of NaN; target present")
    def _schema(features: pd.DataFrame) -> dg.AssetCheckResult:
        return check_result(fc.schema_problems(features))

    @dg.asset_check(asset=asset_key, name="row_counts", blocking=True,
                    description=f"at least {spec.min_rows} rows and no empty split")
    def _rows(features: pd.DataFrame) -> dg.AssetCheckResult:
        return check_result(fc.row_problems(features, spec.min_rows), **fc.split_rows(features), min_rows=spec.min_rows)

    if spec.recipe.classes is None:
        return [_schema, _rows]

    @dg.asset_check(asset=asset_key, name="label_balance", blocking=True,
                    description="every class is present in the train split, none below 1 % of it")
    def _balance(features: pd.DataFrame) -> dg.AssetCheckResult:
        problems = fc.balance_problems(features)
        shares = fc.train_class_shares(features) if features.attrs.get("classes") is not None else {}
        return check_result(problems, **{"train class shares": json.dumps(shares)})

    return [_schema, _rows, _balance]


def _attrs_of(features) -> dict:
    from ztdl_pipeline.core.tables import table_attrs

    return dict(features.attrs) if isinstance(features, pd.DataFrame) else table_attrs(features)


def table_features_checks(name: str, columns: dict[str, str], *, min_rows: int,
                          splits: tuple[str, ...] = ("train", "test"), min_class_share: float | None = 0.01,
                          n_classes: int | None = None,
                          extra_problems: Callable[[Any], list[str]] | None = None) -> list[dg.AssetChecksDefinition]:
    """The blocking checks of a features table described by column kinds (core/tables.py): schema_and_nulls
    (columns and kinds, no nulls, finite floats, labels in range, plus `extra_problems`), row_counts, and
    label_balance unless `min_class_share` is None. The class count is `n_classes` or the attrs' `classes`."""
    from ztdl_pipeline.core import tables

    asset_key = key("features", name)
    labelled = "label" in columns

    def classes_of(features) -> int:
        return n_classes or len(_attrs_of(features).get("classes") or [])

    @dg.asset_check(asset=asset_key, name="schema_and_nulls", blocking=True,
                    description="columns " + ", ".join(f"{c} ({k})" for c, k in columns.items())
                                + "; no nulls, no NaN or infinite values" + ("; labels in range" if labelled else ""))
    def _schema(features) -> dg.AssetCheckResult:
        problems = tables.column_problems(features, columns)
        if labelled and not problems and classes_of(features):
            problems += tables.label_problems(features, classes_of(features), min_share=0.0)
        if extra_problems is not None and not problems:
            problems += extra_problems(features)
        return check_result(problems)

    @dg.asset_check(asset=asset_key, name="row_counts", blocking=True,
                    description=f"at least {min_rows} rows" + (f"; {' and '.join(splits)} splits non-empty"
                                                                if splits else ""))
    def _rows(features) -> dg.AssetCheckResult:
        return check_result(tables.row_count_problems(features, min_rows, splits), rows=len(features),
                       **tables.split_counts(features))

    checks = [_schema, _rows]
    if labelled and min_class_share is not None:
        @dg.asset_check(asset=asset_key, name="label_balance", blocking=True,
                        description=f"every class present in the train split, none below {min_class_share:.0%} of it")
        def _balance(features) -> dg.AssetCheckResult:
            count = classes_of(features)
            problems = tables.label_problems(features, count, min_class_share) if count else ["no classes recorded"]
            shares = tables.train_class_shares(features, count) if count else {}
            return check_result(problems, **{"train class shares": json.dumps(
                {str(c): round(v, 4) for c, v in shares.items()})})

        checks.append(_balance)
    return checks
