"""serving.rest: TF Serving's JSON request/response format <-> numpy, without a server or TensorFlow."""

from __future__ import annotations

import base64
import math
import re

import numpy as np
import pytest

from ztdl_pipeline.serving import rest
from ztdl_pipeline.serving.rest import BadRequest, TensorSpec

WIFI = {f"a_{i}": TensorSpec(f"a_{i}", "float32", (None,)) for i in range(1, 4)}
MIXED = {"age": TensorSpec("age", "float32", (None,)), "pclass": TensorSpec("pclass", "int64", (None,)),
         "sex": TensorSpec("sex", "string", (None,))}
ONE = {"height": TensorSpec("height", "float32", (None,))}
IMAGE = {"pixels": TensorSpec("pixels", "float32", (None, 2, 2))}


def test_row_form_with_named_inputs():
    form, arrays = rest.to_arrays({"instances": [{"a_1": -62, "a_2": -58.5, "a_3": 0},
                                                 {"a_1": 1, "a_2": 2, "a_3": 3}]}, WIFI)
    assert form == "row"
    assert set(arrays) == set(WIFI)
    np.testing.assert_array_equal(arrays["a_2"], np.array([-58.5, 2], "float32"))
    assert arrays["a_1"].dtype == np.float32 and arrays["a_1"].shape == (2,)


def test_row_form_single_input_takes_plain_values_or_objects():
    _, plain = rest.to_arrays({"instances": [60.0, 70]}, ONE)
    _, objects = rest.to_arrays({"instances": [{"height": 60.0}, {"height": 70}]}, ONE)
    np.testing.assert_array_equal(plain["height"], objects["height"])
    np.testing.assert_array_equal(plain["height"], np.array([60, 70], "float32"))


def test_column_form_object_and_bare_value():
    form, arrays = rest.to_arrays({"inputs": {"a_1": [1, 2], "a_2": [3, 4], "a_3": [5, 6]}}, WIFI)
    assert form == "column"
    np.testing.assert_array_equal(arrays["a_3"], np.array([5, 6], "float32"))
    _, bare = rest.to_arrays({"inputs": [[[1, 2], [3, 4]]]}, IMAGE)
    assert bare["pixels"].shape == (1, 2, 2)


def test_strings_ints_nan_and_b64():
    payload = {"instances": [{"age": math.nan, "pclass": 3, "sex": "male"},
                             {"age": 4.5, "pclass": 1, "sex": {"b64": base64.b64encode(b"fe\xffmale").decode()}}]}
    _, arrays = rest.to_arrays(payload, MIXED)
    assert math.isnan(arrays["age"][0]) and arrays["age"][1] == 4.5
    assert arrays["pclass"].dtype == np.int64 and arrays["pclass"].tolist() == [3, 1]
    assert arrays["sex"].tolist() == [b"male", b"fe\xffmale"]


@pytest.mark.fault
def test_parse_json_accepts_nan_and_rejects_non_objects():
    assert math.isnan(rest.parse_json(b'{"instances": [NaN]}')["instances"][0])
    for body, fragment in [(b"", "empty"), (b"{", "JSON Parse error"), (b"[1, 2]", "got a JSON array"),
                           (b"\xff\xfe\x00", "JSON Parse error"), (b"[" * 100000, "JSON Parse error"),
                           (b'{"a": ' + b"9" * 5000 + b"}", "JSON Parse error")]:
        with pytest.raises(BadRequest, match=fragment):
            rest.parse_json(body)


@pytest.mark.parametrize("payload,inputs,fragment", [
    ({}, WIFI, "neither"),
    ({"instances": [], "inputs": {}}, WIFI, "both"),
    ({"instances": {"a_1": 1}}, WIFI, "must be a list"),
    ({"instances": []}, WIFI, "empty"),
    ({"instances": [[1, 2, 3]]}, WIFI, "must be an object with the named inputs"),
    ({"instances": [{"a_1": 1, "a_2": 2}]}, WIFI, "does not have the named input"),
    ({"instances": [{"a_1": 1, "a_2": 2, "a_3": 3, "zzz": 4}]}, WIFI, "unknown input"),
    ({"instances": [{"a_1": "x", "a_2": 2, "a_3": 3}]}, WIFI, "expected numbers"),
    ({"instances": [{"a_1": True, "a_2": 2, "a_3": 3}]}, WIFI, "expected numbers"),
    ({"instances": [{"a_1": [1], "a_2": 2, "a_3": 3}]}, WIFI, "wrong shape"),
    ({"instances": [{"a_1": 10 ** 400, "a_2": 2, "a_3": 3}]}, WIFI, "too large"),
    ({"inputs": {"a_1": [1, 2], "a_2": [1], "a_3": [1, 2]}}, WIFI, "batch size"),
    ({"inputs": [1, 2]}, WIFI, "must be an object"),
    ({"instances": [{"age": 1, "pclass": 2.5, "sex": "m"}]}, MIXED, "expected integers"),
    ({"instances": [{"age": 1, "pclass": 2.0, "sex": "m"}]}, MIXED, "send it as 2"),
    ({"instances": [{"age": 1, "pclass": 2 ** 63, "sex": "m"}]}, MIXED, "out of range"),
    ({"instances": [{"age": 1, "pclass": 2, "sex": 5}]}, MIXED, "expected strings"),
    ({"instances": [{"age": 1, "pclass": 2, "sex": {"b64": "***"}}]}, MIXED, "invalid base64"),
    ({"instances": [{"age": {"b64": "AAAA"}, "pclass": 2, "sex": "m"}]}, MIXED, "expected numbers"),
    ({"instances": [[[1, 2], [3, 4]], [[1, 2], [3]]]}, IMAGE, "ragged"),
    ({"instances": [[[1, 2], [3, 4], [5, 6]]]}, IMAGE, "wrong shape"),
    ({"instances": [[[[[[[[[[1]]]]]]]]]]}, IMAGE, "deeper"),
    ({"signature_name": 7, "instances": [1]}, ONE, "must be a string"),
])
@pytest.mark.fault
def test_bad_requests_name_the_problem(payload, inputs, fragment):
    with pytest.raises(BadRequest, match=fragment):
        rest.signature_name(payload)
        rest.to_arrays(payload, inputs)


def test_response_shapes_follow_tf_serving():
    probabilities = np.array([[0.25, 0.75], [0.5, 0.5]], "float32")
    assert rest.response("row", {"output_0": probabilities}) == {"predictions": [[0.25, 0.75], [0.5, 0.5]]}
    assert rest.response("column", {"output_0": probabilities}) == {"outputs": [[0.25, 0.75], [0.5, 0.5]]}
    two = {"p": np.array([0.5, 1.0]), "label_bytes": np.array([b"\x00a", b"b"], dtype=object)}
    assert rest.response("row", two) == {"predictions": [{"p": 0.5, "label_bytes": {"b64": "AGE="}},
                                                         {"p": 1.0, "label_bytes": {"b64": "Yg=="}}]}
    assert rest.response("column", {"label": np.array([b"cat"], dtype=object)}) == {"outputs": ["cat"]}


@pytest.mark.fault
def test_check_values_refuses_what_the_model_never_saw():
    rules = {"sex": {"vocabulary": ["female", "male"], "unknown": "reject"},
             "port": {"vocabulary": ["C", "Q", "S"], "unknown": "all_zeros"},
             "pclass": {"vocabulary": [1, 2, 3], "unknown": "reject"},
             "age": {"finite": True, "missing": "NaN, filled with the train median"},
             "fare": {"finite": True}}
    good = {"sex": np.array([b"male", b"female"], dtype=object), "port": np.array([b"", b"X"], dtype=object),
            "pclass": np.array([1, 3]), "age": np.array([np.nan, 3.0], "float32"), "fare": np.array([1.0, 2.0])}
    rest.check_values(good, rules)  # nothing raised
    for name, values, fragment in [
            ("sex", np.array([b"male", b"x"], dtype=object), "input 'sex', row 1: 'x' is not one of"),
            ("pclass", np.array([2, 0]), "input 'pclass', row 1: 0 is not one of"),
            ("age", np.array([1.0, np.inf], "float32"), "input 'age', row 1"),
            ("fare", np.array([np.nan, 1.0]), "input 'fare', row 0: nan is not allowed")]:
        with pytest.raises(rest.BadRequest, match=re.escape(fragment)):
            rest.check_values({**good, name: values}, rules)
    rest.check_values({"x": np.array([np.inf])}, {})  # no rules (an older export): nothing is refused


@pytest.mark.fault
def test_dumps_never_writes_bare_nan():
    with pytest.raises(ValueError):
        rest.dumps({"predictions": [float("nan")]})
    assert rest.dumps({"predictions": [0.5]}) == b'{"predictions":[0.5]}'
