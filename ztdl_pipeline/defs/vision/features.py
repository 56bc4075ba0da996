"""features/<images>: catalog/vision.IMAGE_FEATURES read into pyarrow Tables (uint8 tensor column, label, split)
in parquet (core/image_features.build), with blocking checks whose arithmetic is in core."""


import json

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.assets.base import asset_in, key, ref, settings_metadata, versioned_asset
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.assets.features import check_result
from ztdl_pipeline.catalog import vision as catalog
from ztdl_pipeline.core.image_specs import ImageFeatures
from ztdl_pipeline.resources.storage import Storage


def image_features_asset(spec: ImageFeatures, group: str = "vision") -> dg.AssetsDefinition:
    config_cls = values_config(f"{spec.dataset}_features", dict(spec.settings),
                               "images kept per split (class-stratified; 0: all, the book) and how they are read")

    @versioned_asset(spec, ref(spec.reader), key=key("features", spec.dataset),
                     ins={"raw": asset_in("raw", spec.dataset)}, group_name=group, io_manager_key="parquet_io",
                     kinds={"pyarrow", "parquet"}, description=spec.description)
    def _features(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
                  storage: Storage, raw: pd.DataFrame) -> dg.Output[pa.Table]:
        from ztdl_pipeline.core import image_features
        from ztdl_pipeline.core.profile import resolve_config

        settings = resolve_config(config, storage.run_profile(), spec.fast)
        table, summary = image_features.build(raw, spec.dataset, spec.reader, profile=settings.profile,
                                              **settings.values)
        return dg.Output(table, metadata={**image_features.summary_metadata(summary, settings.profile),
                                          **settings_metadata(context, settings)})

    return _features


def image_features_checks(spec: ImageFeatures) -> list[dg.AssetChecksDefinition]:
    asset_key = key("features", spec.dataset)

    @dg.asset_check(asset=asset_key, name="schema_and_nulls", blocking=True,
                    description="image is a fixed-shape uint8 tensor of the recorded shape; labels are "
                                "integers in range; no nulls")
    def _schema(features: pa.Table) -> dg.AssetCheckResult:
        from ztdl_pipeline.core.images import table_problems

        return check_result(table_problems(features))

    @dg.asset_check(asset=asset_key, name="row_counts", blocking=True,
                    description=f"at least {spec.min_rows} images, and both a train and a test split")
    def _rows(features: pa.Table) -> dg.AssetCheckResult:
        from ztdl_pipeline.core.image_features import row_problems
        from ztdl_pipeline.core.images import table_attrs

        return check_result(row_problems(features, spec.min_rows), rows=features.num_rows,
                       **table_attrs(features).get("splits", {}))

    @dg.asset_check(asset=asset_key, name="label_balance", blocking=True,
                    description="every class is present in the train split, none below 1 % of it")
    def _balance(features: pa.Table) -> dg.AssetCheckResult:
        from ztdl_pipeline.core.image_features import balance_problems, rounded_shares

        return check_result(balance_problems(features, 0.01),
                       **{"train class shares": json.dumps(rounded_shares(features))})

    return [_schema, _rows, _balance]


defs = dg.Definitions(assets=[image_features_asset(spec) for spec in catalog.IMAGE_FEATURES],
                      asset_checks=[c for spec in catalog.IMAGE_FEATURES for c in image_features_checks(spec)])
