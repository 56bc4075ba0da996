"""Asset factories for the pattern every example repeats:

raw/<dataset> -> features/<dataset> -> models/<example> -> reports/<example> -> exports/<example>

with checks on features (blocking), the export gate on reports (blocking) and a reload check on
exports. Heavy imports (Keras/TensorFlow, core modules that use them) happen inside asset bodies.

Versions: every asset's code_version is derived from its source and what it reaches (core/versioning.py);
a model's data version hashes its inputs' data versions, resolved hyper-parameters, profile, device and
code version, so a retrain with other settings makes its report and export unsynced, and the same
settings on the same inputs give the same version (training is seeded and deterministic).
"""


import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import dagster as dg
import pandas as pd
import pydantic

from ztdl_pipeline.core import versioning
from ztdl_pipeline.core.features import SPLIT_COLUMN, TabularRecipe, column_summary
from ztdl_pipeline.datasets import DatasetFile
from ztdl_pipeline.resources.compute import TensorFlowCompute
from ztdl_pipeline.resources.data_source import DatasetSource
from ztdl_pipeline.resources.storage import Storage


def versioned_asset(*parts: Any, **asset_kwargs: Any) -> Callable[[Callable], dg.AssetsDefinition]:
    """`dg.asset` with a code_version derived from the function's source, everything of this package it
    reaches, the values its factory closed over, and `parts` (e.g. a builder picked by name)."""

    def wrap(fn: Callable) -> dg.AssetsDefinition:
        return dg.asset(code_version=versioning.code_version(fn, *parts), **asset_kwargs)(fn)

    return wrap


class TrainingConfig(dg.Config):
    """Hyper-parameters of a training asset. Subclasses set the book's values as defaults."""

    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 0.001
    momentum: float = 0.0
    validation_split: float = 0.0
    cv_folds: int = 0
    cv_epochs: int = 0  # 0: same as epochs
    seed: int = 42
    restarts: int = 1  # >1: train from several seeds, keep the lowest final training loss
    fast_epochs: int = 5  # epochs under the fast profile

    @pydantic.model_validator(mode="after")
    def _valid(self):
        """Refuse bad settings before anything trains, naming each field (a validator, not Field bounds: the
        per-example subclasses redeclare the fields with the book's defaults)."""
        from ztdl_pipeline.core.specs import setting_problems

        problems = setting_problems(self.model_dump())
        if problems:
            raise ValueError("invalid training settings: " + "; ".join(problems))
        return self

    def resolve(self, profile: str):
        """The hyper-parameters of a run under `profile` (the run's, from the storage resource)."""
        from ztdl_pipeline.core.specs import Hyper

        fast = profile == "fast"
        return Hyper(
            epochs=min(self.epochs, self.fast_epochs) if fast else self.epochs,
            batch_size=self.batch_size, optimizer=self.optimizer, learning_rate=self.learning_rate,
            momentum=self.momentum, validation_split=self.validation_split,
            cv_folds=min(self.cv_folds, 2) if fast and self.cv_folds else self.cv_folds,
            cv_epochs=min(self.cv_epochs or self.epochs, self.fast_epochs) if fast else self.cv_epochs,
            seed=self.seed, restarts=self.restarts, profile=profile)


def _md_table(frame: pd.DataFrame) -> dg.MetadataValue:
    from ztdl_pipeline.core.report import markdown_table

    rows = [[str(index), *row] for index, row in zip(frame.index, frame.itertuples(index=False))]
    return dg.MetadataValue.md(markdown_table(["column", *map(str, frame.columns)], rows))


def _table_schema(frame: pd.DataFrame) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in frame.dtypes.items()])


# ---------------------------------------------------------------- raw


def reader_ref(entry: DatasetFile) -> versioning.Ref | None:
    """The reader function a catalog entry names (core/timeseries.py READERS), for code versions."""
    return versioning.Ref("ztdl_pipeline.core.timeseries", entry.reader) if entry.reader else None


def raw_file_asset(entry: DatasetFile, group: str) -> dg.AssetsDefinition:
    @versioned_asset(reader_ref(entry), key=["raw", entry.name], group_name=group, io_manager_key="parquet_io",
                     kinds={"pandas", "parquet"}, description=f"{entry.filename}: {entry.description}")
    def _raw(context: dg.AssetExecutionContext, data_source: DatasetSource) -> dg.Output[pd.DataFrame]:
        # a file without a pinned hash is parsed before it may enter the cache (the hash cannot vouch for it)
        path, digest, origin = data_source.fetch(entry, log=context.log, validate=lambda p: _read_raw(p, entry))
        frame = _read_raw(path, entry)
        return dg.Output(frame, data_version=dg.DataVersion(digest), metadata={
            "rows": len(frame), "columns": list(map(str, frame.columns)), "sha256": digest,
            "source_file": dg.MetadataValue.path(str(path)), "fetched_from": origin,
            "canonical_url": dg.MetadataValue.url(entry.url),
            "dagster/column_schema": _table_schema(frame), "dagster/row_count": len(frame),
        })

    return _raw


def _read_raw(path, entry: DatasetFile) -> pd.DataFrame:
    """A CSV checked against the catalog's columns, or a file read by the reader the catalog names."""
    if entry.reader:  # not a plain CSV (compressed, JSON, notes around the data): core/timeseries.py READERS
        from ztdl_pipeline.core.timeseries import READERS

        return READERS[entry.reader](path, entry.columns)
    from ztdl_pipeline.core.schema import read_csv_checked

    return read_csv_checked(path, entry.columns, entry.read_options)


class GeneratedDataConfig(dg.Config):
    n_samples: int = 1000
    noise: float = 0.1
    random_state: int = 0


def generated_asset(name: str, group: str, generate: Callable[[GeneratedDataConfig], pd.DataFrame],
                    description: str, config_cls: type[GeneratedDataConfig]) -> dg.AssetsDefinition:
    @versioned_asset(generate, config_cls, key=["raw", name], group_name=group, io_manager_key="parquet_io",
                     kinds={"pandas", "parquet"}, description=description)
    def _generated(config: config_cls) -> dg.Output[pd.DataFrame]:  # type: ignore[valid-type]
        frame = generate(config)
        digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()).hexdigest()
        return dg.Output(frame, data_version=dg.DataVersion(digest), metadata={
            "rows": len(frame), "generator": json.dumps(config.model_dump()), "sha256": digest,
            "dagster/column_schema": _table_schema(frame), "dagster/row_count": len(frame),
        })

    return _generated


# ---------------------------------------------------------------- features


def features_asset(name: str, recipe: TabularRecipe, group: str, description: str) -> dg.AssetsDefinition:
    @versioned_asset(key=["features", name], ins={"raw": dg.AssetIn(["raw", name])}, group_name=group,
                     io_manager_key="parquet_io", kinds={"pandas", "parquet"}, description=description)
    def _features(raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
        from ztdl_pipeline.core.features import apply_scaling, build_features

        frame = build_features(raw, recipe, source=f"raw/{name}")
        attrs = frame.attrs
        counts = frame[SPLIT_COLUMN].value_counts()
        scaled = apply_scaling(frame, attrs)
        metadata: dict[str, Any] = {
            "rows": len(frame), "rows_train": int(counts.get("train", 0)), "rows_test": int(counts.get("test", 0)),
            "feature_columns": attrs["feature_columns"], "target": attrs["target"],
            "split": json.dumps(attrs["split"]),
            "scaling (offset, scale) fitted on train": json.dumps(attrs["scaling"]),
            "imputation (train medians)": json.dumps(attrs["imputation"]),
            "categories": json.dumps(attrs["categorical"]),
            "column statistics (unscaled)": _md_table(column_summary(frame.drop(columns=[SPLIT_COLUMN]))),
            "dagster/column_schema": _table_schema(frame), "dagster/row_count": len(frame),
        }
        if attrs["scaling"]:
            metadata["column statistics (scaled, as the model sees them)"] = _md_table(
                column_summary(scaled[list(attrs["scaling"])]))
        if attrs["classes"] is not None:
            balance = frame[attrs["target"]].value_counts(normalize=True).sort_index()
            metadata["class balance"] = json.dumps({str(attrs["classes"][i]): round(float(v), 4)
                                                    for i, v in balance.items()})
        return dg.Output(frame, metadata=metadata)

    return _features


def features_checks(name: str, min_rows: int, *, classified: bool) -> list[dg.AssetChecksDefinition]:
    """schema_and_nulls and row_counts for a tabular features table, and label_balance where the table holds
    class labels (a regression table has none: a balance check there could not fail)."""
    key = dg.AssetKey(["features", name])

    @dg.asset_check(asset=key, name="schema_and_nulls", blocking=True,
                    description="feature columns are present, float32 and free of NaN; target present")
    def _schema(features: pd.DataFrame) -> dg.AssetCheckResult:
        attrs = features.attrs
        problems = [f"missing column {c}" for c in [*attrs["feature_columns"], *attrs["target_columns"]]
                    if c not in features.columns]
        present = [c for c in attrs["feature_columns"] if c in features.columns]
        problems += [f"{c} is {features[c].dtype}, expected float32" for c in present
                     if str(features[c].dtype) != "float32"]
        nulls = {c: int(n) for c, n in features[present + [attrs["target"]]].isna().sum().items() if n}
        problems += [f"{c} has {n} NaN" for c, n in nulls.items()]
        return dg.AssetCheckResult(passed=not problems, metadata={"problems": json.dumps(problems)})

    @dg.asset_check(asset=key, name="row_counts", blocking=True,
                    description=f"at least {min_rows} rows and no empty split")
    def _rows(features: pd.DataFrame) -> dg.AssetCheckResult:
        counts = features[SPLIT_COLUMN].value_counts()
        wants_test = bool(features.attrs["split"]["test_size"])
        passed = bool(len(features) >= min_rows and counts.get("train", 0) > 0) and bool(
            not wants_test or counts.get("test", 0) > 0)
        return dg.AssetCheckResult(passed=passed, metadata={
            "rows": len(features), "min_rows": min_rows, "train": int(counts.get("train", 0)),
            "test": int(counts.get("test", 0))})

    if not classified:
        return [_schema, _rows]

    @dg.asset_check(asset=key, name="label_balance", blocking=True,
                    description="every class is present in the train split, none below 1 % of it")
    def _balance(features: pd.DataFrame) -> dg.AssetCheckResult:
        attrs = features.attrs
        if attrs["classes"] is None:
            return dg.AssetCheckResult(passed=False, metadata={"problems": "the table records no classes"})
        train = features[features[SPLIT_COLUMN] == "train"][attrs["target"]]
        shares = train.value_counts(normalize=True).reindex(range(len(attrs["classes"])), fill_value=0.0)
        return dg.AssetCheckResult(passed=bool(shares.min() >= 0.01), metadata={
            "train class shares": json.dumps({str(attrs["classes"][i]): round(float(v), 4)
                                              for i, v in shares.items()})})

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

    key = dg.AssetKey(["features", name])
    labelled = "label" in columns

    def classes_of(features) -> int:
        return n_classes or len(_attrs_of(features).get("classes") or [])

    @dg.asset_check(asset=key, name="schema_and_nulls", blocking=True,
                    description="columns " + ", ".join(f"{c} ({k})" for c, k in columns.items())
                                + "; no nulls, no NaN or infinite values" + ("; labels in range" if labelled else ""))
    def _schema(features) -> dg.AssetCheckResult:
        problems = tables.column_problems(features, columns)
        if labelled and not problems and classes_of(features):
            problems += tables.label_problems(features, classes_of(features), min_share=0.0)
        if extra_problems is not None and not problems:
            problems += extra_problems(features)
        return dg.AssetCheckResult(passed=not problems, metadata={"problems": json.dumps(problems)})

    @dg.asset_check(asset=key, name="row_counts", blocking=True,
                    description=f"at least {min_rows} rows" + (f"; {' and '.join(splits)} splits non-empty"
                                                                if splits else ""))
    def _rows(features) -> dg.AssetCheckResult:
        problems = tables.row_count_problems(features, min_rows, splits)
        return dg.AssetCheckResult(passed=not problems, metadata={
            "problems": json.dumps(problems), "rows": len(features), **tables.split_counts(features)})

    checks = [_schema, _rows]
    if labelled and min_class_share is not None:
        @dg.asset_check(asset=key, name="label_balance", blocking=True,
                        description=f"every class present in the train split, none below {min_class_share:.0%} of it")
        def _balance(features) -> dg.AssetCheckResult:
            count = classes_of(features)
            problems = tables.label_problems(features, count, min_class_share) if count else ["no classes recorded"]
            shares = tables.train_class_shares(features, count) if count else {}
            return dg.AssetCheckResult(passed=not problems, metadata={
                "problems": json.dumps(problems), "train class shares": json.dumps(
                    {str(c): round(v, 4) for c, v in shares.items()})})

        checks.append(_balance)
    return checks


# ---------------------------------------------------------------- models, reports, exports


class Family:
    """How a family of examples trains, is judged and is exported: the steps the model, report and export
    assets call. Each step imports its core module when it runs (core modules pull in Keras). This base
    class is the tabular family; another domain (e.g. vision) subclasses it with its own steps and
    `features_type` (what its features asset stores)."""

    features_type: type = pd.DataFrame
    metadata_splits: tuple[str, ...] = ("train", "test", "all")  # metrics sections shown as report metadata
    builder_module: str = "ztdl_pipeline.core.models"  # where `example.builder` names a function (BUILDERS)

    def builder_ref(self, example) -> versioning.Ref | None:
        """The model builder an example names, for code versions (None where the family's model assets call
        their builders directly, so their own source already reaches them)."""
        ref = versioning.Ref(self.builder_module, example.builder)
        return ref if versioning.has_definition(ref) else None

    def train(self, example, features, hyper, **kwargs):
        from ztdl_pipeline.core.tabular import train

        return train(example, features, hyper, **kwargs)

    def evaluate(self, example, trained, features) -> dict:
        from ztdl_pipeline.core.tabular import evaluate

        return evaluate(example, trained, features)

    def report_images(self, example, trained, features, metrics: dict) -> dict[str, bytes]:
        from ztdl_pipeline.core.tabular import report_images

        return report_images(example, trained, features, metrics)

    def report_markdown(self, example, trained, metrics: dict, images: dict, threshold: float,
                        embed: bool) -> str:
        from ztdl_pipeline.core.tabular import report_markdown

        return report_markdown(example, trained, metrics, images, threshold, embed)

    def view(self, example, features):
        """The features as one example sees them (what `serving`, `verify` and `outputs` read)."""
        from ztdl_pipeline.core.tabular import view

        return view(features, example)

    def serving(self, example, trained, data) -> tuple:
        """(the model to export, its input signature {name: {dtype, ...}})."""
        from ztdl_pipeline import datasets
        from ztdl_pipeline.core import export

        name = _raw_name(example)
        nullable = frozenset(c.name for c in datasets.get(name).columns if c.nullable) if name in datasets.CATALOG \
            else frozenset()
        return export.serving_model(trained.model, data.attrs, unknown_ok=nullable)

    def verify(self, path, example, trained, data, raw, signature: dict) -> float:
        return verify_savedmodel(path, trained, data, raw, signature)

    def outputs(self, data) -> dict:
        return _describe_outputs(data.attrs)


TABULAR = Family()


def model_data_version(context: dg.AssetExecutionContext, inputs: list[list[str]], hyper, device: dict) -> str:
    """A model's data version: its inputs' data versions, resolved hyper-parameters (profile and seed
    included), the device it trained on and its code version. Training is seeded and deterministic, so the
    same version means the same weights."""
    return versioning.data_version({
        "inputs": data_versions(context, inputs), "hyper": hyper.__dict__, "device": device,
        "code_version": context.assets_def.code_versions_by_key[context.asset_key]})


def model_asset(example, group: str, config_cls: type[TrainingConfig], family: Family = TABULAR
                ) -> dg.AssetsDefinition:
    @versioned_asset(example, config_cls, family.builder_ref(example),
                     key=["models", example.name], ins={"features": dg.AssetIn(["features", example.dataset])},
                     group_name=group, io_manager_key="keras_io", kinds={"keras", "tensorflow"}, pool="gpu",
                     description=f"{example.title} — {example.source}")
    def _model(context: dg.AssetExecutionContext, config: config_cls,  # type: ignore[valid-type]
               compute: TensorFlowCompute, storage: Storage, features: family.features_type) -> dg.Output:
        device = compute.setup()
        hyper = config.resolve(storage.run_profile())
        context.log.info(f"training {example.name}: {hyper} on {device}")

        def log_epoch(epoch: int, logs: dict) -> None:
            if epoch == 1 or epoch == hyper.epochs or epoch % max(1, hyper.epochs // 10) == 0:
                context.log.info(f"epoch {epoch}/{hyper.epochs}: "
                                 + ", ".join(f"{k}={v:.4f}" for k, v in logs.items()))

        trained = family.train(example, features, hyper, strategy=compute.strategy(),
                               jit_compile=compute.jit_compile, seed_fn=compute.seed_everything,
                               on_epoch_end=log_epoch)
        trained.info["device"] = device
        last = {f"final_{k}": float(v[-1]) for k, v in trained.history.items()}
        metadata = {**last, "epochs": hyper.epochs, "profile": hyper.profile,
                    "training_seconds": trained.info["seconds"],
                    "samples_per_second": trained.info["samples_per_second"] or 0.0,
                    "trainable_params": trained.info["trainable_params"],
                    "hyper_parameters": json.dumps(trained.info["hyper"])}
        if "cv" in trained.info:
            metadata["cv_mean"] = trained.info["cv"]["mean"]
            metadata["cv_std"] = trained.info["cv"]["std"]
        version = model_data_version(context, [["features", example.dataset]], hyper, device)
        return dg.Output(trained, data_version=dg.DataVersion(version), metadata=metadata)

    return _model


FAMILIES: dict[str, tuple[Any, Family]] = {}  # example name -> (card, family), for tools and tests


def report_asset(example, group: str, family: Family = TABULAR) -> dg.AssetsDefinition:
    FAMILIES[example.name] = (example, family)
    @versioned_asset(example, family.builder_ref(example), key=["reports", example.name],
                     ins={"trained": dg.AssetIn(["models", example.name]),
                          "features": dg.AssetIn(["features", example.dataset])},
                     group_name=group, io_manager_key="report_io", kinds={"keras", "json", "markdown"},
                     description=f"Evaluation of {example.title}, ours vs the book")
    def _report(context: dg.AssetExecutionContext, storage: Storage, trained,
                features: family.features_type) -> dg.Output[dict]:
        from ztdl_pipeline.core.report import comparison_rows, write_report_folder

        metrics = family.evaluate(example, trained, features)
        images = family.report_images(example, trained, features, metrics)
        profile = metrics["profile"]
        threshold = example.gate_threshold(profile)
        metrics["gate"] = gate_summary(example, metrics)
        metrics["book"] = comparison_rows(metrics, example.book)
        metrics["provenance"] = report_provenance(context, example, profile)
        folder = storage.folder("reports", example.name)
        write_report_folder(folder, family.report_markdown(example, trained, metrics, images, threshold,
                                                           embed=False), images)
        ui_markdown = family.report_markdown(example, trained, metrics, images, threshold, embed=True)
        numbers: dict[str, Any] = {}
        for split in family.metadata_splits:
            for name, value in metrics.get(split, {}).items():
                if isinstance(value, float):
                    numbers[f"{split}_{name}"] = value
        for row in metrics["book"]:
            numbers[f"book_{row['split']}_{row['metric']}"] = row["book"]
        return dg.Output(metrics, metadata={
            **numbers, "report": dg.MetadataValue.md(ui_markdown),
            "report_folder": dg.MetadataValue.path(str(folder)), "gate_threshold": threshold,
            "gate_baseline": metrics["gate"]["baseline"] if metrics["gate"]["baseline"] is not None else float("nan"),
            "profile": profile})

    return _report


def gate_summary(example, metrics: dict) -> dict:
    """What the report records of its gate: split, metric, threshold, and the trivial predictor's score."""
    from ztdl_pipeline.core.gate import BASELINE_RULE, baseline_of

    split, metric = example.primary
    return {"split": split, "metric": metric, "threshold": example.gate_threshold(metrics["profile"]),
            "tolerance": example.tolerance if example.threshold is None else None,
            "baseline": baseline_of(metrics, split, metric), "baseline_rule": metrics.get(BASELINE_RULE, "")}


def report_provenance(context: dg.AssetExecutionContext, example, profile: str) -> dict:
    """Which run made a report, when, from which model version and which commit (the results table reads it)."""
    from ztdl_pipeline.core.provenance import git_commit

    return {"run_id": context.run_id, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "profile": profile,
            "git_commit": git_commit(),
            "model_data_version": data_versions(context, [["models", example.name]])[f"models/{example.name}"]}


def _previous_export_metric(model_dir) -> float | None:
    from ztdl_pipeline.core import registry

    entry = registry.current_entry(model_dir)
    return entry.get("gate_metric") if entry else None


def _gate_decision(example, report: dict, model_dir):
    """The gate on a report: baseline, threshold, and the export currently published under this profile
    (`model_dir` is the profile's export folder, so the comparison never crosses profiles)."""
    from ztdl_pipeline.core.gate import baseline_of, decide
    from ztdl_pipeline.core.report import lookup_metric

    split, metric = example.primary
    return decide(f"{split}/{metric}", lookup_metric(report, split, metric),
                  example.gate_threshold(report["profile"]), baseline=baseline_of(report, split, metric),
                  previous=_previous_export_metric(model_dir))


def export_gate_check(example) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["reports", example.name]), name="export_gate", blocking=True,
                    description="the model beats its trivial baseline, clears its threshold (book value − "
                                "tolerance) and is no worse than the current export; a failure blocks the export")
    def _gate(storage: Storage, report: dict) -> dg.AssetCheckResult:
        decision = _gate_decision(example, report, storage.folder("exports", example.name))
        return dg.AssetCheckResult(passed=decision.passed, metadata={
            "metric": decision.metric, "value": decision.value if decision.value is not None else float("nan"),
            "threshold": decision.threshold, "rule": decision.bar,
            "baseline": decision.baseline if decision.baseline is not None else float("nan"),
            "previous_export": decision.previous if decision.previous is not None else float("nan"),
            "reasons": json.dumps(decision.reasons)})

    return _gate


def export_asset(example, group: str, family: Family = TABULAR) -> dg.AssetsDefinition:
    @versioned_asset(example, family.builder_ref(example), key=["exports", example.name],
                     ins={"trained": dg.AssetIn(["models", example.name]),
                          "features": dg.AssetIn(["features", example.dataset]),
                          "raw": dg.AssetIn(["raw", _raw_name(example)]),
                          "report": dg.AssetIn(["reports", example.name])},
                     group_name=group, io_manager_key="export_record_io", kinds={"tensorflow", "savedmodel"},
                     description=f"{example.title} as a versioned SavedModel taking raw values (TF Serving layout)")
    def _export(context: dg.AssetExecutionContext, storage: Storage, trained, features: family.features_type,
                raw: pd.DataFrame, report: dict) -> dg.Output[dict]:
        from ztdl_pipeline.core import export

        data = family.view(example, features)

        def write_and_verify(staged):
            serving, signature = family.serving(example, trained, data)
            export.write_savedmodel(serving, signature, staged)
            difference = family.verify(staged, example, trained, data, raw, signature)
            return signature, difference, {"outputs": family.outputs(data)}

        return publish_gated_export(context, storage, example, report, write_and_verify)

    return _export


def publish_gated_export(context: dg.AssetExecutionContext, storage: Storage, example, report: dict,
                         write_and_verify: Callable[[Any], tuple[dict, float, dict]]) -> dg.Output[dict]:
    """What every exports/<x> asset does: re-apply the gate (the blocking check stops a run, this also covers a
    lone export); if the current export was built from this very model version, publish nothing and say so;
    else write the SavedModel into a staging folder and verify it there (`write_and_verify(staged)` ->
    (input signature, max difference vs Keras, extra registry fields)), publish it as the next integer version
    (never overwriting one) and record it in registry.json. Everything lives under the run profile's root,
    so a fast run never publishes where the book profile's exports are served from."""
    from ztdl_pipeline.core import export, registry
    from ztdl_pipeline.core.provenance import git_commit
    from ztdl_pipeline.core.schema import folder_sha256

    model_dir = storage.folder("exports", example.name)
    decision = _gate_decision(example, report, model_dir)
    if not decision.passed:
        raise dg.Failure(f"exports/{example.name}: not exported — " + "; ".join(decision.reasons))
    upstream = data_versions(context, [["raw", _raw_name(example)], ["features", example.dataset],
                                       ["models", example.name]])
    current = registry.current_entry(model_dir)
    model_key = f"models/{example.name}"
    if current and upstream[model_key] and current.get("upstream_data_versions", {}).get(model_key) == upstream[model_key]:
        context.log.info(f"exports/{example.name}: unchanged, version {current['version']} was built from this "
                         f"model version ({upstream[model_key][:12]}); nothing published")
        return dg.Output({"model": example.name, **current}, metadata={
            "version": current["version"], "published": f"unchanged, version {current['version']}",
            "path": dg.MetadataValue.path(current["path"]), "gate_metric": decision.value or 0.0})
    staged = export.staging_dir(model_dir)
    try:
        start = time.perf_counter()
        signature, difference, extra = write_and_verify(staged)
        served = registry.savedmodel_signature(staged)  # what TF Serving will see: shapes, output names
        content = folder_sha256(staged)  # ztdl-serve checks it before serving the version
        version, path = export.publish_version(staged, model_dir)
    finally:
        export.discard(staged)
    entry = {
        "path": str(path),
        "signature": {name: {**spec, "shape": served["inputs"].get(name, {}).get("shape", spec.get("shape"))}
                      for name, spec in signature.items()},
        "signature_name": served["signature_name"], "method_name": served["method_name"],
        "output_signature": served["outputs"], **extra,
        "gate_metric": decision.value, "gate": decision.bar, "gate_baseline": decision.baseline,
        "metrics": {s: {k: v for k, v in report[s].items() if isinstance(v, float)}
                    for s in ("train", "test", "all") if s in report},
        "content_sha256": content,
        "profile": report["profile"], "run_id": context.run_id, "git_commit": git_commit(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "upstream_data_versions": upstream,
    }
    registry.record(model_dir, version, entry)
    record = {"model": example.name, "version": version, **entry}
    return dg.Output(record, metadata={
        "version": version, "published": f"new version {version}", "path": dg.MetadataValue.path(str(path)),
        "max_abs_difference_vs_keras": difference, "export_seconds": round(time.perf_counter() - start, 2),
        "signature": json.dumps(signature), "gate_metric": decision.value or 0.0,
        **{k: v for k, v in extra.items() if isinstance(v, str | int | float)}})


def _describe_outputs(attrs: dict) -> dict:
    if attrs["task"] == "regression":
        return {"output_0": f"predicted {attrs['target']} in original units"}
    if attrs["task"] == "binary" and len(attrs["target_columns"]) == 1:
        return {"output_0": f"P({attrs['target']} = {attrs['classes'][1]})", "classes": attrs["classes"]}
    return {"output_0": "class probabilities", "classes": attrs["classes"]}


def _raw_name(example) -> str:
    """The raw asset behind an example: its dataset, unless its features are cut from another (`raw_dataset`,
    e.g. several window tables from one time series)."""
    return getattr(example, "raw_dataset", "") or example.dataset


def data_versions(context: dg.AssetExecutionContext, keys: list[list[str]]) -> dict[str, str]:
    """The data versions of the latest materializations of `keys` (this run's, for assets it materialized)."""
    versions = {}
    for key in keys:
        asset_key = dg.AssetKey(key)
        record = context.instance.get_latest_data_version_record(asset_key)
        event = record.asset_event if record else None
        versions[asset_key.to_user_string()] = (event.tags or {}).get("dagster/data_version", "") if event else ""
    return versions


def verify_savedmodel(path, trained, data: pd.DataFrame, raw: pd.DataFrame, signature: dict) -> float:
    """Reload the SavedModel with plain TensorFlow, feed it raw test rows, compare with the Keras model."""

    from ztdl_pipeline.core.export import agreement, load_and_predict
    from ztdl_pipeline.core.features import raw_rows, safe_name, xy
    from ztdl_pipeline.core.tabular import predict_original_units

    split = "test" if (data[SPLIT_COLUMN] == "test").any() else "train"
    rows = raw_rows(raw, data, split)
    served = load_and_predict(path, {safe_name(k): v for k, v in rows.items()})
    x, _ = xy(data, split)
    expected = predict_original_units(trained.model, x, data.attrs)
    return agreement(path, served, expected, f"raw {split} rows", relative=True)


def export_reload_check(example, family: Family = TABULAR) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=dg.AssetKey(["exports", example.name]), name="savedmodel_matches_keras",
                    additional_ins={"trained": dg.AssetIn(["models", example.name]),
                                    "features": dg.AssetIn(["features", example.dataset]),
                                    "raw": dg.AssetIn(["raw", _raw_name(example)])},
                    description="tf.saved_model.load of the published version, fed raw test rows, "
                                "predicts what the trained Keras model predicts")
    def _reload(record: dict, trained, features: family.features_type,
                raw: pd.DataFrame) -> dg.AssetCheckResult:
        data = family.view(example, features)
        try:
            difference = family.verify(record["path"], example, trained, data, raw, record["signature"])
        except ValueError as exc:
            return dg.AssetCheckResult(passed=False, metadata={"error": str(exc)})
        return dg.AssetCheckResult(passed=True, metadata={"max_relative_difference": difference,
                                                          "version": record["version"]})

    return _reload


def example_assets(example, group: str, config_cls: type[TrainingConfig], family: Family = TABULAR
                   ) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """models/<x>, reports/<x>, exports/<x> and their checks for one example."""
    return ([model_asset(example, group, config_cls, family), report_asset(example, group, family),
             export_asset(example, group, family)],
            [export_gate_check(example), export_reload_check(example, family)])
