"""predictions/<card>: downstream consumption in the lineage. The current export of a card, loaded as a consumer
loads it (`tf.saved_model.load` on <root>/exports/<name>/<current version>), scores every row of its raw source;
the table (row, id, predicted class and probabilities or value, true label, export version) is stored as
<root>/predictions/<name>.parquet. It depends on exports/<card>, so a newly published version makes it stale.

A catalogue module lists the scored examples as data: PREDICTIONS = (core.specs.Scoring(...), ...)."""


import json

import dagster as dg
import pandas as pd

from ztdl_pipeline.assets.base import asset_in, key, table_schema, versioned_asset
from ztdl_pipeline.core.specs import Scoring
from ztdl_pipeline.resources.storage import Storage


def predictions_asset(entry: Scoring, group: str) -> dg.AssetsDefinition:
    export_key = key("exports", entry.name).to_user_string()

    @versioned_asset(entry, key=key("predictions", entry.name), group_name=group, io_manager_key="parquet_io",
                     ins={"export": asset_in("exports", entry.name), "raw": asset_in("raw", entry.dataset)},
                     kinds={"tensorflow", "pandas", "parquet"},
                     description=f"Every row of {key('raw', entry.dataset).to_user_string()} scored by the current "
                                 f"version of {export_key}, loaded as a consumer loads it (tf.saved_model.load)")
    def _predictions(context: dg.AssetExecutionContext, storage: Storage, export: dict,
                     raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
        from ztdl_pipeline.core import predictions, registry
        from ztdl_pipeline.core.stores import local_view

        model_dir = storage.folder("exports", entry.name)
        manifest = registry.read(model_dir)
        current = manifest.get("current")
        if current is None:
            raise dg.Failure(f"{model_dir}: no current export version; materialize {export_key} first")
        if int(current) != int(export["version"]):
            context.log.warning(f"{export_key} recorded version {export['version']}, the registry's current is "
                                f"{current}: scoring with the current one, as a consumer would")
        recorded = manifest["versions"][str(current)]
        path = model_dir / str(current)
        with local_view(path) as local:  # on an object store: downloaded, then checked like a local folder
            table = _score(entry, local, int(current), recorded, raw, export_key)
        facts = predictions.summary(table)
        context.log.info(f"scored {facts['rows_scored']} rows of {key('raw', entry.dataset).to_user_string()} with "
                         f"{export_key} version {current}")
        metadata = {"export_version": int(current), "export_path": dg.MetadataValue.path(str(path)),
                    "rows_scored": facts["rows_scored"], "sample": _markdown(facts["sample"]),
                    "dagster/row_count": len(table), "dagster/column_schema": table_schema(table)}
        if "class_counts" in facts:
            metadata["class_counts"] = dg.MetadataValue.json(facts["class_counts"])
        if "agreement_with_actual" in facts:
            metadata["agreement_with_actual"] = facts["agreement_with_actual"]
        if "predicted_value" in facts:
            metadata["predicted_value"] = json.dumps(facts["predicted_value"])
        return dg.Output(table, metadata=metadata)

    return _predictions


def _score(entry: Scoring, path, current: int, recorded: dict, raw: pd.DataFrame, export_key: str) -> pd.DataFrame:
    """The rows scored by the SavedModel in `path`, after checking its files are those published as `current`."""
    from ztdl_pipeline.core import predictions
    from ztdl_pipeline.core.schema import folder_sha256

    if recorded.get("content_sha256") and folder_sha256(path) != recorded["content_sha256"]:
        raise dg.Failure(f"{path}: the files differ from those published as version {current}; "
                         f"rematerialize {export_key}")
    classes = (recorded.get("outputs") or {}).get("classes")
    return predictions.score(path, raw, version=current, classes=classes, recorded=recorded.get("signature"),
                             overrides=entry.inputs, id_column=entry.id_column, target=entry.target,
                             signature=recorded.get("signature_name") or predictions.SIGNATURE)


def _markdown(frame: pd.DataFrame) -> dg.MetadataValue:
    from ztdl_pipeline.core.report import markdown_table

    return dg.MetadataValue.md(markdown_table(list(map(str, frame.columns)), frame.itertuples(index=False)))
