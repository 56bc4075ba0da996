"""One model builder per book example, in Keras 3 (backend-neutral: no tf.* inside models).

Every builder takes the number of input features and optional scaling statistics. The scaling is
the model's first layer (a Normalization with fixed, train-fitted mean/variance), so the exact
preprocessing the model was trained with travels inside the saved and exported model.
Trainable parameter counts match the book's model summaries.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

Scaling = tuple[np.ndarray, np.ndarray] | None


def _stack(name: str, n_features: int, scaling: Scaling, layers: Sequence[keras.layers.Layer]) -> keras.Model:
    stack: list[keras.layers.Layer] = [keras.Input((n_features,), name="features")]
    if scaling is not None:
        mean, variance = scaling
        stack.append(keras.layers.Normalization(mean=mean, variance=variance, name="scaling"))
    return keras.Sequential([*stack, *layers], name=name)


def circles_shallow(n_features: int, scaling: Scaling = None) -> keras.Model:
    """ch1: Dense(4, tanh) -> Dense(1, sigmoid) on make_circles."""
    return _stack("circles_shallow", n_features, scaling, [
        keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1, activation="sigmoid")])


def linear_regression(n_features: int, scaling: Scaling = None) -> keras.Model:
    """ch3: a single Dense(1) unit (weight-height, housing)."""
    return _stack("linear_regression", n_features, scaling, [keras.layers.Dense(1)])


def logistic_regression(n_features: int, scaling: Scaling = None,
                        kernel_initializer: str = "glorot_uniform") -> keras.Model:
    """ch3/ch4/ch5: Dense(1, sigmoid) (visit duration, HR churn, moons, banknotes)."""
    return _stack("logistic_regression", n_features, scaling, [
        keras.layers.Dense(1, activation="sigmoid", kernel_initializer=kernel_initializer)])


def banknotes_logistic(n_features: int, scaling: Scaling = None) -> keras.Model:
    """ch5: Dense(1, sigmoid) with kernel_initializer='ones', as the book starts its SGD runs."""
    return logistic_regression(n_features, scaling, kernel_initializer="ones")


def moons_deep(n_features: int, scaling: Scaling = None) -> keras.Model:
    """ch4: Dense(4, relu) -> Dense(2, relu) -> Dense(1, sigmoid)."""
    return _stack("moons_deep", n_features, scaling, [
        keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid")])


def moons_deep_tanh(n_features: int, scaling: Scaling = None) -> keras.Model:
    """ch4: the same 4-2-1 network with tanh in the hidden layers: Dense(4, tanh) -> Dense(2, tanh) ->
    Dense(1, sigmoid)."""
    return _stack("moons_deep_tanh", n_features, scaling, [
        keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2, activation="tanh"),
        keras.layers.Dense(1, activation="sigmoid")])


def softmax_regression(n_features: int, scaling: Scaling = None, n_classes: int = 3) -> keras.Model:
    """ch4 iris: Dense(3, softmax), a multinomial logistic regression."""
    return _stack("softmax_regression", n_features, scaling, [
        keras.layers.Dense(n_classes, activation="softmax")])


def diabetes_fc(n_features: int, scaling: Scaling = None) -> keras.Model:
    """ch4 ex2: Dense(32, relu) -> Dense(32, relu) -> Dense(2, softmax)."""
    return _stack("diabetes_fc", n_features, scaling, [
        keras.layers.Dense(32, activation="relu"), keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(2, activation="softmax")])


def wines_deep(n_features: int, scaling: Scaling = None) -> keras.Model:
    """ch5 ex1: Dense(5, he_normal, relu) -> Dense(3, softmax)."""
    return _stack("wines_deep", n_features, scaling, [
        keras.layers.Dense(5, kernel_initializer="he_normal", activation="relu"),
        keras.layers.Dense(3, activation="softmax")])


# ch5 ex2/ex3: the layer whose 2-D output the book plots (ex3 calls it `second_to_last`)
INNER_LAYER = "second_to_last"


def _wines_2d_layers(n_classes: int) -> list[keras.layers.Layer]:
    return [keras.layers.Dense(8, kernel_initializer="he_normal", activation="tanh"),
            keras.layers.Dense(5, kernel_initializer="he_normal", activation="tanh"),
            keras.layers.Dense(2, kernel_initializer="he_normal", activation="tanh", name=INNER_LAYER),
            keras.layers.Dense(n_classes, activation="softmax")]


def wines_2d(n_features: int, scaling: Scaling = None, n_classes: int = 3) -> keras.Model:
    """ch5 ex2: Dense(8) -> Dense(5) -> Dense(2) (he_normal, tanh) -> Dense(3, softmax), Sequential; 178
    trainable parameters on 13 inputs (112, 45, 12, 9)."""
    return _stack("wines_2d", n_features, scaling, _wines_2d_layers(n_classes))


def wines_2d_functional(n_features: int, scaling: Scaling = None, n_classes: int = 3) -> keras.Model:
    """ch5 ex3: the same network in the functional API (Input -> layers called on tensors -> Model)."""
    inputs = keras.Input((n_features,), name="features")
    x = inputs
    if scaling is not None:
        x = keras.layers.Normalization(mean=scaling[0], variance=scaling[1], name="scaling")(x)
    for layer in _wines_2d_layers(n_classes):
        x = layer(x)
    return keras.Model(inputs, x, name="wines_2d_functional")


def titanic_fc(n_features: int, scaling: Scaling = None) -> keras.Model:
    """DataCamp: Dense(32, relu) -> Dense(2, softmax)."""
    return _stack("titanic_fc", n_features, scaling, [
        keras.layers.Dense(32, activation="relu"), keras.layers.Dense(2, activation="softmax")])


def wifi_fc(n_features: int, scaling: Scaling = None, n_classes: int = 4) -> keras.Model:
    """ch13 Wi-Fi indoor location: BatchNormalization -> Dense(50, relu) -> Dense(30, relu) -> Dense(10, relu)
    -> Dense(4, softmax); the book normalizes the raw dB readings with the BatchNormalization input layer
    (2,298 trainable + 14 non-trainable parameters on 7 inputs)."""
    return _stack("wifi_fc", n_features, scaling, [
        keras.layers.BatchNormalization(name="input_batchnorm"),
        keras.layers.Dense(50, activation="relu"), keras.layers.Dense(30, activation="relu"),
        keras.layers.Dense(10, activation="relu"), keras.layers.Dense(n_classes, activation="softmax")])


OPTIMIZERS: dict[str, type[keras.optimizers.Optimizer]] = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "rmsprop": keras.optimizers.RMSprop,
    "adagrad": keras.optimizers.Adagrad,
}


def make_optimizer(name: str, learning_rate: float, momentum: float = 0.0) -> keras.optimizers.Optimizer:
    try:
        cls = OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}") from None
    if cls is keras.optimizers.SGD:
        return cls(learning_rate=learning_rate, momentum=momentum)
    return cls(learning_rate=learning_rate)


def trainable_params(model: keras.Model) -> int:
    return int(sum(np.prod(w.shape) for w in model.trainable_weights))
