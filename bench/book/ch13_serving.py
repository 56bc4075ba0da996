"""Chapter 13, the model the book serves (ch13.wifi_indoor_location_model, export_keras_json_h5), as the book's
cells do it: train, save the architecture as JSON and the weights as HDF5, reload them and score the test split."""

import tempfile
from pathlib import Path

from book_cells import Examples, arguments

args = arguments(__doc__, "wifi_location.csv")
import pandas as pd  # noqa: E402  (after the arguments: a missing data file fails before the slow imports)
from keras.layers import BatchNormalization, Dense, Input  # noqa: E402
from keras.models import Model, model_from_json  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

examples = Examples(args.profile)

# wifi_fc
df = pd.read_csv(args.data / "wifi_location.csv")
X = df.drop("location", axis=1).values
y = df["location"].values
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
inputs = Input(shape=X_train.shape[1:])
x = BatchNormalization()(inputs)
x = Dense(50, activation="relu")(x)
x = Dense(30, activation="relu")(x)
x = Dense(10, activation="relu")(x)
predictions = Dense(4, activation="softmax")(x)
model = Model(inputs=inputs, outputs=predictions)
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, batch_size=128, epochs=examples.epochs(40), verbose=0, validation_data=(X_test, y_test))
with tempfile.TemporaryDirectory() as base_path:  # the book's /tmp/ztdl_models/wifi/flask/1
    export_path = Path(base_path) / "flask" / "1"
    export_path.mkdir(parents=True)
    (export_path / "model.json").write_text(model.to_json())
    model.save_weights(export_path / "weights.weights.h5")  # Keras 3 wants this suffix for save_weights
    loaded_model = model_from_json((export_path / "model.json").read_text())
    loaded_model.load_weights(export_path / "weights.weights.h5")
    preds = loaded_model.predict(X_test, verbose=0).argmax(axis=1)
examples.done("wifi_fc", test_accuracy=accuracy_score(y_test, preds))
