"""core.models: every builder against the parameter counts of the book's model summaries."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from ztdl_pipeline.catalog import serving, tabular
from ztdl_pipeline.core import models
from ztdl_pipeline.core.models import OPTIMIZERS, make_optimizer, trainable_params
from ztdl_pipeline.core.refs import resolve

CARDS = (*tabular.CARDS, *serving.CARDS)
RECIPES = {f.dataset: f.recipe for f in (*tabular.FEATURES, *serving.FEATURES)}


def BUILDER(name: str):
    return resolve(f"ztdl_pipeline.core.models:{name}")


def _n_features(dataset: str) -> int:
    recipe = RECIPES[dataset]
    return len(recipe.numeric) + len(recipe.impute_median) + sum(len(c) for c in recipe.categorical.values())


def test_titanic_recipe_has_13_features():
    # Age, Age_was_missing, SibSp, Parch, Fare, Pclass x3, Sex x2, Embarked x3
    assert _n_features("titanic") == 13


# builder, inputs, trainable parameters (book summaries; titanic: Dense(32) on 13 features + Dense(2))
BOOK_COUNTS = [
    ("circles_shallow", 2, {}, 4 * 2 + 4 + 4 + 1),  # 17
    ("linear_regression", 1, {}, 2),
    ("logistic_regression", 1, {}, 2),
    ("banknotes_logistic", 4, {}, 5),
    ("moons_deep", 2, {}, 12 + 10 + 3),  # 25
    ("moons_deep_tanh", 2, {}, 12 + 10 + 3),  # 25
    ("softmax_regression", 4, {"n_classes": 3}, 15),
    ("diabetes_fc", 8, {}, 288 + 1056 + 66),  # 1410
    ("wines_deep", 13, {}, 70 + 18),  # 88
    ("wines_2d", 13, {}, 112 + 45 + 12 + 9),  # 178 (ch5 ex2 summary, L21775-21781)
    ("wines_2d_functional", 13, {}, 112 + 45 + 12 + 9),  # ex3: the same network in the functional API
    ("titanic_fc", 13, {}, 13 * 32 + 32 + 32 * 2 + 2),  # 514
    ("wifi_fc", 7, {}, 14 + 400 + 1530 + 310 + 44),  # 2298 (ch13 summary, L17836-17848)
]
# weights that are not trained: BatchNormalization's moving mean and variance (the book's 14 non-trainable)
NON_TRAINABLE = {"wifi_fc": 14}


def test_every_builder_is_covered():
    builders = {name for name, value in vars(models).items()
                if callable(value) and getattr(value, "__module__", "") == models.__name__
                and name not in {"make_optimizer", "trainable_params"} and not name.startswith("_")}
    assert {name for name, *_ in BOOK_COUNTS} == builders
    assert {card.builder.split(":")[1] for card in CARDS} <= builders


@pytest.mark.parametrize("name,n_features,kwargs,expected", BOOK_COUNTS, ids=[c[0] for c in BOOK_COUNTS])
def test_trainable_parameters_match_the_book(name, n_features, kwargs, expected):
    model = BUILDER(name)(n_features, **kwargs)
    assert trainable_params(model) == expected
    # no hidden non-trainable weights without scaling (beyond BatchNormalization's moving statistics)
    assert model.count_params() - trainable_params(model) == NON_TRAINABLE.get(name, 0)
    assert model.input_shape == (None, n_features)
    assert not any(isinstance(layer, keras.layers.Normalization) for layer in model.layers)


@pytest.mark.parametrize("name,n_features,kwargs,expected", BOOK_COUNTS, ids=[c[0] for c in BOOK_COUNTS])
def test_scaling_adds_a_fixed_normalization_layer(name, n_features, kwargs, expected):
    mean = np.arange(n_features, dtype="float32")
    variance = np.full(n_features, 4.0, dtype="float32")
    model = BUILDER(name)(n_features, (mean, variance), **kwargs)
    norm = model.get_layer("scaling")
    assert isinstance(norm, keras.layers.Normalization)
    # the first layer after the input (a functional model lists its InputLayer too)
    assert [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)][0] is norm
    assert trainable_params(model) == expected  # the scaling is not trained
    x = np.random.default_rng(0).normal(size=(3, n_features)).astype("float32")
    np.testing.assert_allclose(np.asarray(norm(x)), (x - mean) / 2.0, rtol=1e-6, atol=1e-6)


def test_examples_use_known_builders_with_their_dataset_width():
    for example in CARDS:
        n = len(example.inputs) if example.inputs else _n_features(example.dataset)
        model = resolve(example.builder)(n, **example.builder_kwargs)
        assert model.input_shape == (None, n), example.name


def test_scaled_linear_regression_computes_on_standardised_inputs():
    mean, variance = np.array([10.0, -2.0], "float32"), np.array([4.0, 0.25], "float32")
    model = BUILDER("linear_regression")(2, (mean, variance))
    dense = model.layers[-1]
    dense.set_weights([np.array([[1.0], [3.0]], "float32"), np.array([0.5], "float32")])
    x = np.array([[12.0, -1.5], [10.0, -2.0]], "float32")
    expected = ((x - mean) / np.sqrt(variance)) @ np.array([1.0, 3.0]) + 0.5
    np.testing.assert_allclose(model.predict(x, verbose=0).reshape(-1), expected, rtol=1e-6)


def test_banknotes_logistic_starts_from_ones():
    model = BUILDER("banknotes_logistic")(4)
    kernel = model.layers[-1].get_weights()[0]
    np.testing.assert_array_equal(kernel, np.ones((4, 1)))


def test_output_activations():
    x = np.random.default_rng(1).normal(size=(5, 8)).astype("float32")
    probabilities = BUILDER("diabetes_fc")(8).predict(x, verbose=0)
    assert probabilities.shape == (5, 2)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    sigmoid = BUILDER("moons_deep")(8).predict(x, verbose=0)
    assert sigmoid.shape == (5, 1) and np.all((sigmoid > 0) & (sigmoid < 1))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_make_optimizer(name):
    optimizer = make_optimizer(name.upper(), 0.25)
    assert isinstance(optimizer, OPTIMIZERS[name])
    assert float(np.asarray(optimizer.learning_rate)) == pytest.approx(0.25)


def test_make_optimizer_sgd_momentum():
    assert make_optimizer("sgd", 0.1, momentum=0.9).momentum == pytest.approx(0.9)


def test_make_optimizer_unknown_name():
    with pytest.raises(ValueError) as info:
        make_optimizer("lbfgs", 0.1)
    assert "unknown optimizer 'lbfgs'" in str(info.value)
    assert all(name in str(info.value) for name in OPTIMIZERS)


def test_the_wines_2d_networks_expose_their_2d_layer_and_agree_layer_by_layer():
    """ex2 (Sequential) and ex3 (functional) are one network: the same layers, and a 2-unit layer named as the book's
    ex3 names it, whose output the report scatters."""
    from ztdl_pipeline.core.tabular import inner_features, parameter_counts

    scaling = (np.zeros(13, "float32"), np.ones(13, "float32"))
    sequential, functional = BUILDER("wines_2d")(13, scaling), BUILDER("wines_2d_functional")(13, scaling)
    assert parameter_counts(sequential) == parameter_counts(functional) == {
        "trainable": 178.0, "layer_1": 112.0, "layer_2": 45.0, "layer_3": 12.0, "layer_4": 9.0}
    assert isinstance(sequential, keras.Sequential) and not isinstance(functional, keras.Sequential)
    rows = np.random.default_rng(0).normal(size=(5, 13)).astype("float32")
    for model in (sequential, functional):
        inner = inner_features(model, rows)
        assert inner.shape == (5, 2) and np.all(np.abs(inner) <= 1.0)  # tanh
