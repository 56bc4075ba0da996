"""The serving chapter (ch13): the Wi-Fi indoor-location classifier the book exports and serves.

The same factory pattern as the tabular examples: raw/wifi_location -> features/wifi_location ->
models/wifi_fc -> reports/wifi_fc -> exports/wifi_fc (gated, versioned SavedModel in
data/exports/wifi_fc/<version>/ with registry.json). The REST server that serves the exports is
`ztdl_pipeline.serving` (`ztdl-serve`, `make serve`); it is not an asset.
"""

from ztdl_pipeline import datasets
from ztdl_pipeline.assets import factory
from ztdl_pipeline.assets.factory import TrainingConfig
from ztdl_pipeline.core.features import TabularRecipe
from ztdl_pipeline.core.report import BookNumber as B
from ztdl_pipeline.core.specs import TabularExample

GROUP = "serving"

_ROUTERS = tuple(f"a_{i}" for i in range(1, 8))

RECIPES: dict[str, tuple[TabularRecipe, str]] = {
    "wifi_location": (TabularRecipe(numeric=_ROUTERS, target="location", task="multiclass", classes=(0, 1, 2, 3),
                                    test_size=0.25, random_state=0),
                      ("7 Wi-Fi signal strengths (dB, unscaled: the model's BatchNormalization input layer "
                       "normalizes them, as in the book) -> room 0-3 as an integer label; 75/25 split, "
                       "random_state 0 (ch13)")),
}
FILE_DATASETS = list(RECIPES)

raw_assets = [factory.raw_file_asset(datasets.get(name), GROUP) for name in FILE_DATASETS]
features_assets = [factory.features_asset(name, recipe, GROUP, description)
                   for name, (recipe, description) in RECIPES.items()]
features_checks = [check for name, (recipe, _) in RECIPES.items()
                   for check in factory.features_checks(name, min_rows=1000, classified=recipe.classes is not None)]


class WifiConfig(TrainingConfig):
    """ch13: model.fit(X_train, y_train, batch_size=128, epochs=40) with 'adam' (Keras' default lr 0.001)."""

    epochs: int = 40
    batch_size: int = 128
    optimizer: str = "adam"
    learning_rate: float = 0.001
    fast_epochs: int = 20  # the BatchNormalization moving statistics need ~200 steps to settle


EXAMPLES: list[tuple[TabularExample, type[TrainingConfig]]] = [
    (TabularExample(
        name="wifi_fc", dataset="wifi_location", title="ch13 Wi-Fi indoor location",
        source="book ch13.wifi_indoor_location_model (L17677–17880), export and serving (L17882–18986)",
        builder="wifi_fc", loss="sparse_categorical_crossentropy", primary=("test", "accuracy"),
        tolerance=0.03, fast_floor=0.7,
        book=(B("test", "accuracy", 0.978, "L18143 (accuracy_score on X_test after reloading the weights)"),),
        notes="Integer room labels with sparse_categorical_crossentropy, as the book (no one-hot target). "
              "The book serves this model with Flask and TF Serving; here `ztdl-serve` (make serve) answers "
              "TF Serving's REST API for data/exports/, and the same request works against TF Serving."),
        WifiConfig),
]

_built = [factory.example_assets(example, GROUP, config) for example, config in EXAMPLES]
example_assets = [a for built_assets, _ in _built for a in built_assets]
example_checks = [c for _, built_checks in _built for c in built_checks]

assets = [*raw_assets, *features_assets, *example_assets]
checks = [*features_checks, *example_checks]
