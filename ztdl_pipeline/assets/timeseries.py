"""The time-series chapter (ch7 and its ch21 solutions) as assets, group `timeseries`.

raw/<series> -> features/<window table> -> models/<example> -> reports/<example> -> exports/<example>

A window table (one per window shape the examples use) holds, per target, the window of raw past
values, the target, their times and the book's chronological split; the scaling is fitted on the
train part and stored with it. Models train with the book's settings (typed Configs below), reports
put R² / MSE / MAE next to the book's numbers and a naive "repeat the last value" forecast, and the
gated exports take a raw window and answer in original units. Keras is imported inside asset bodies.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline import datasets
from ztdl_pipeline.assets import factory
from ztdl_pipeline.assets.factory import TrainingConfig
from ztdl_pipeline.core import profile as P
from ztdl_pipeline.core import refs, versioning
from ztdl_pipeline.core import timeseries as ts
from ztdl_pipeline.core import window_checks as C
from ztdl_pipeline.core.timeseries import SeriesRecipe
from ztdl_pipeline.core.timeseries_cards import AIRLINE_WINDOWS, SEQUENCES, WINDOWS
from ztdl_pipeline.core.timeseries_cards import EXAMPLES as CARDS
from ztdl_pipeline.resources.data_source import DatasetSource

GROUP = "timeseries"

# ------------------------------------------------------------------ raw series

RAW = ["ontario_demand", "retail_sales", "airline_passengers", "bitcoin", "sequence_classification"]
raw_assets = [factory.raw_file_asset(datasets.get(name), GROUP) for name in RAW]


@dg.asset_check(asset=dg.AssetKey(["raw", "ontario_demand"]), name="matches_masterclass_copy",
                description="the hourly total equals Ontario_energy_demand_2003-2016.csv.gz, the masterclass's "
                            "copy of the same series (same timestamps, same MW)")
def ontario_matches_masterclass_copy(raw: pd.DataFrame, data_source: DatasetSource) -> dg.AssetCheckResult:
    entry = datasets.get("ontario_energy_demand")
    path, digest, _ = data_source.fetch(entry)
    problems, compared = C.same_series_problems(raw, C.read_with(entry.reader, path, entry.columns), "Total Ontario")
    return dg.AssetCheckResult(passed=not problems, metadata={**compared, "other_sha256": digest,
                                                              "problems": json.dumps(problems)})


# ------------------------------------------------------------------ window tables (features)

# window recipes: core/timeseries_cards.py WINDOWS, SEQUENCES


def window_features_asset(name: str, raw_name: str, recipe: SeriesRecipe) -> dg.AssetsDefinition:
    @factory.versioned_asset(key=["features", name], ins={"raw": dg.AssetIn(["raw", raw_name])}, group_name=GROUP,
              io_manager_key="parquet_io", kinds={"pandas", "parquet"},
              description=f"raw/{raw_name} as windows of {recipe.window} (target {recipe.start_lag} step(s) after the "
                          f"window), split at {recipe.split_date}, scaling fitted on train — {recipe.note}")
    def _features(raw: pd.DataFrame) -> dg.Output[pa.Table]:
        frame = ts.build_windows(raw, recipe, source=f"raw/{raw_name}")
        return dg.Output(ts.to_table(frame), metadata=C.table_summary(frame))

    return _features


@factory.versioned_asset(key=["features", "sequence_classification"], ins={"raw": dg.AssetIn(["raw", "sequence_classification"])},
          group_name=GROUP, io_manager_key="parquet_io", kinds={"pandas", "parquet"},
          description="ch7: 200-step curves as a fixed-size-list column, the book's engineered std and std_diff, "
                      "anomaly label; train_test_split(test_size=0.25, random_state=0)")
def sequence_features(raw: pd.DataFrame) -> dg.Output[pa.Table]:
    frame = ts.build_sequences(raw, "anomaly", source="raw/sequence_classification", **SEQUENCES)
    return dg.Output(ts.to_table(frame), metadata=C.table_summary(frame))


def _result(problems: list[str], **metadata: Any) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=not problems, metadata={"problems": json.dumps(problems), **metadata})


def _window_checks(name: str, recipe: SeriesRecipe | None) -> list[dg.AssetChecksDefinition]:
    """Blocking checks of a window table (recipe) or of the independent sequences (None); core/window_checks.py."""
    key = dg.AssetKey(["features", name])

    @dg.asset_check(asset=key, name="schema_and_nulls", blocking=True,
                    description="float32 windows of the recipe's shape, no NaN in windows, features or targets")
    def _schema(features: pa.Table) -> dg.AssetCheckResult:
        problems, shape = C.shape_problems(ts.from_table(features))
        return _result(problems, window_shape=json.dumps(shape))

    @dg.asset_check(asset=key, name="row_counts", blocking=True, description="train and test are both non-empty")
    def _rows(features: pa.Table) -> dg.AssetCheckResult:
        problems, counts = C.row_problems(ts.from_table(features))
        return _result(problems, **counts)

    checks = [_schema, _rows]
    if recipe is None:  # independent sequences: the engineered features must be those of the raw curves
        @dg.asset_check(asset=key, name="engineered_features_match", blocking=True,
                        description="std and std_diff recomputed from the stored curves equal the stored columns")
        def _engineered(features: pa.Table) -> dg.AssetCheckResult:
            problems, difference = C.engineered_problems(ts.from_table(features))
            return _result(problems, max_abs_difference=difference)

        return [*checks, _engineered]

    @dg.asset_check(asset=key, name="no_leakage", blocking=True,
                    description="every window and its target lie on one side of the split date, train before "
                                "test, and the scaling equals a fit on the train part alone")
    def _leakage(features: pa.Table) -> dg.AssetCheckResult:
        frame = ts.from_table(features)
        return _result(C.leakage_problems(frame, recipe.scaling), split_date=frame.attrs["split_date"])

    checks.append(_leakage)
    if recipe.task == "binary":
        @dg.asset_check(asset=key, name="label_balance", blocking=True,
                        description="both classes hold at least 10 % of the train windows")
        def _balance(features: pa.Table) -> dg.AssetCheckResult:
            problems, share = C.balance_problems(ts.from_table(features))
            return _result(problems, **{"train share of class 1": share})

        checks.append(_balance)
    return checks


features_assets = [window_features_asset(name, raw, recipe) for name, (raw, recipe) in WINDOWS.items()]
features_assets.append(sequence_features)
features_checks = [c for name, (_, recipe) in WINDOWS.items() for c in _window_checks(name, recipe)]
features_checks += _window_checks("sequence_classification", None)


# ------------------------------------------------------------------ the family: train, judge, export


class SeriesFamily(factory.Family):
    """Window tables in, core/sequence_models.py steps, core/sequence_report.py reports (Keras is imported only
    when a step runs)."""

    features_type = pa.Table
    metadata_splits = ("train", "test", "naive_test", "test_stateless")

    def builder_ref(self, example) -> versioning.Ref:
        return versioning.Ref(*refs.split(example.builder))

    @staticmethod
    def _core():
        from ztdl_pipeline.core import sequence_models

        return sequence_models

    @staticmethod
    def _report():
        from ztdl_pipeline.core import sequence_report

        return sequence_report

    def train(self, example, features, hyper, **kwargs):
        return self._core().train(example, ts.from_table(features), hyper, **kwargs)

    def evaluate(self, example, trained, features) -> dict:
        return self._core().evaluate(example, trained, ts.from_table(features))

    def report_images(self, example, trained, features, metrics: dict) -> dict[str, bytes]:
        return self._report().report_images(example, trained, ts.from_table(features), metrics)

    def report_markdown(self, example, trained, metrics: dict, images: dict, threshold: float, embed: bool) -> str:
        return self._report().report_markdown(example, trained, metrics, images, threshold, embed)

    def view(self, example, features):
        return self._core().view(ts.from_table(features), example)

    def serving(self, example, trained, data) -> tuple:
        return self._core().serving_model(trained, data)

    def verify(self, path, example, trained, data, raw, signature: dict) -> float:
        return self._core().verify_savedmodel(path, trained, data, raw, signature)

    def outputs(self, data) -> dict:
        return self._core().describe_outputs(data.attrs)


SERIES = SeriesFamily()


class SequenceTrainingConfig(TrainingConfig):
    """TrainingConfig plus the ch7 settings: early stopping, a sub-sample of windows, steps per call. The
    profile changes them only through FAST_WINDOWS (core/profile.py; a value set in run config wins)."""

    patience: int = 0  # EarlyStopping(monitor='loss', patience=...); 0: none
    train_windows: int = 0  # 0: every train window; N: train on the last N
    test_windows: int = 0  # 0: every test window; N: judge on the first N
    steps_per_execution: int = 1  # speed only (stateful batch-1 training): the same updates, fewer calls

    def resolve(self, profile: str) -> ts.SequenceHyper:
        base = super().resolve(profile)
        fast = {k: v for cls in reversed(type(self).__mro__) for k, v in FAST_WINDOWS.get(cls.__name__, {}).items()}
        values = P.resolve_config(self, profile, fast).values
        return ts.SequenceHyper(**{**asdict(base), "restarts": values["restarts"]}, patience=values["patience"],
                                train_windows=values["train_windows"], test_windows=values["test_windows"],
                                steps_per_execution=values["steps_per_execution"])


class OntarioFCConfig(SequenceTrainingConfig):
    epochs: int = 200
    batch_size: int = 512
    patience: int = 1
    fast_epochs: int = 20


class OntarioStatefulConfig(SequenceTrainingConfig):
    """SimpleRNN: 1 epoch; the LSTM subclass: 2. Batch size 1, Adam(lr=0.0005), no shuffling."""

    epochs: int = 1
    batch_size: int = 1
    learning_rate: float = 0.0005
    steps_per_execution: int = 256
    fast_epochs: int = 1


class OntarioStatefulLSTMConfig(OntarioStatefulConfig):
    epochs: int = 2


class OntarioWindowConfig(SequenceTrainingConfig):
    """ch7 24-hour windows and ch21 ex1/ex2 (36 h ahead): Adam(lr=0.05), 5 epochs, batch 256."""

    epochs: int = 5
    batch_size: int = 256
    learning_rate: float = 0.05
    fast_epochs: int = 5


class OntarioLag36Config(OntarioWindowConfig):
    pass


class OntarioFCWindowConfig(SequenceTrainingConfig):
    epochs: int = 50
    batch_size: int = 256
    fast_epochs: int = 10


class BitcoinConfig(SequenceTrainingConfig):
    epochs: int = 20
    batch_size: int = 512
    learning_rate: float = 0.05
    restarts: int = 3  # lr 0.05 GRUs often stall near 'always up'; keep the seed with the lowest training loss
    fast_epochs: int = 2


class MonthlyLSTMConfig(SequenceTrainingConfig):
    """The video course's retail-sales exercise: LSTM(6), adam, 600 epochs, batch 32; airline the same."""

    epochs: int = 600
    batch_size: int = 32
    fast_epochs: int = 30  # a smoke run: the forecasts are poor (hence the low fast floor); the pipeline runs


class SequenceFCConfig(SequenceTrainingConfig):
    epochs: int = 30
    validation_split: float = 0.1
    fast_epochs: int = 10


class SequenceFCEngineeredConfig(SequenceFCConfig):
    epochs: int = 50
    fast_epochs: int = 30  # two inputs of similar size: it needs more epochs than the others


# the fast profile's sub-sample and single seed, by config class (a subclass inherits and may override)
FAST_WINDOWS: dict[str, dict[str, int]] = {
    "SequenceTrainingConfig": {"train_windows": 2000, "test_windows": 744, "restarts": 1},  # a month of hours
    "OntarioFCConfig": {"train_windows": 8000},
    "OntarioLag36Config": {"train_windows": 1024},  # 72 steps per window: the smoke run keeps fewer
    "BitcoinConfig": {"train_windows": 1000},
}

CONFIGS: dict[str, type[SequenceTrainingConfig]] = {  # example -> its run config (the book's settings)
    "ontario_fc_lag1": OntarioFCConfig, "ontario_simplernn_stateful": OntarioStatefulConfig,
    "ontario_lstm_stateful": OntarioStatefulLSTMConfig, "ontario_lstm_window24": OntarioWindowConfig,
    "ontario_lstm_lag36": OntarioLag36Config, "ontario_gru_lag36": OntarioLag36Config,
    "ontario_fc_lag36": OntarioFCWindowConfig, "bitcoin_gru_direction": BitcoinConfig,
    "retail_lstm_window12": MonthlyLSTMConfig, **{f"airline_lstm_window{w}": MonthlyLSTMConfig for w in AIRLINE_WINDOWS},
    "sequences_fc_raw": SequenceFCConfig, "sequences_fc_engineered": SequenceFCEngineeredConfig,
    "sequences_conv1d": SequenceFCConfig}
EXAMPLES = [(card, CONFIGS[card.name]) for card in CARDS]

_built = [factory.example_assets(example, GROUP, config, SERIES) for example, config in EXAMPLES]
example_assets = [a for built_assets, _ in _built for a in built_assets]
example_checks = [c for _, built_checks in _built for c in built_checks]

assets = [*raw_assets, *features_assets, *example_assets]
checks = [ontario_matches_masterclass_copy, *features_checks, *example_checks]
