"""The serving chapter (ch13): the Wi-Fi indoor-location classifier the book exports and serves. Data only.

Its chain ends in exports/wifi_fc_export (a gated, versioned SavedModel in <data>/exports/wifi_fc/<version>/ with
registry.json); the REST server that serves it is `ztdl_pipeline.serving` (`ztdl-serve`, `make serve`).
"""

from __future__ import annotations

from ztdl_pipeline.core.features import TabularRecipe
from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.search_space import Choice, FloatRange, IntRange, Tuning
from ztdl_pipeline.core.specs import Card, Scoring, TableFeatures

_ROUTERS = tuple(f"a_{i}" for i in range(1, 8))

RAW_FILES = ("wifi_location",)

FEATURES = (
    TableFeatures("wifi_location", TabularRecipe(numeric=_ROUTERS, target="location", task="multiclass",
                                                 classes=(0, 1, 2, 3), test_size=0.25, random_state=0),
                  "7 Wi-Fi signal strengths (dB, unscaled: the model's BatchNormalization input layer normalizes "
                  "them, as in the book) -> room 0-3 as an integer label; 75/25 split, random_state 0 (ch13)",
                  min_rows=1000),
)

CARDS = (
    Card(
        name="wifi_fc", dataset="wifi_location", title="ch13 Wi-Fi indoor location",
        source="book ch13.wifi_indoor_location_model (L17677–17880), export and serving (L17882–18986)",
        builder="ztdl_pipeline.core.models:wifi_fc", loss="sparse_categorical_crossentropy",
        primary=("test", "accuracy"), tolerance=0.03, fast_floor=0.7,
        # model.fit(X_train, y_train, batch_size=128, epochs=40) with 'adam' (Keras' default lr 0.001);
        # fast: 20 epochs, as the BatchNormalization moving statistics need ~200 steps to settle
        hyper={"epochs": 40, "batch_size": 128, "optimizer": "adam", "learning_rate": 0.001}, fast={"epochs": 20},
        book=(B("test", "accuracy", 0.978, "L18143 (accuracy_score on X_test after reloading the weights)"),),
        # searched beyond the book (models/wifi_fc_tuned): dense networks as the tabular cards' searches
        tuning=Tuning(space={"hidden_layers": IntRange(1, 3), "units": IntRange(8, 128, log=True),
                             "dropout": FloatRange(0.0, 0.5), "learning_rate": FloatRange(1e-3, 0.03, log=True),
                             "batch_size": Choice((32, 64, 128))},
                      trials=15, timeout_s=300.0, seed=0, max_epochs=100, patience=10,
                      fast={"trials": 3, "max_epochs": 8, "patience": 2, "startup_trials": 2, "timeout_s": 60.0}),
        notes="Integer room labels with sparse_categorical_crossentropy, as the book (no one-hot target). "
              "The book serves this model with Flask and TF Serving; here `ztdl-serve` (make serve) answers "
              "TF Serving's REST API for data/exports/, and the same request works against TF Serving."),
)

# predictions/<card>: the current export scoring every source row as a consumer would (one line per example)
PREDICTIONS = (Scoring("wifi_fc", dataset="wifi_location", target="location"),)
