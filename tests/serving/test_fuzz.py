"""Property-based fuzzing of the predict endpoint: whatever the body, path or version, the server answers
with JSON, never with a 5xx, and keeps serving valid requests."""

from __future__ import annotations

import json
import math
import os
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.e2e

# bounded for the CI suite; ZTDL_FUZZ_EXAMPLES=2000 fuzzes harder
FUZZ = settings(max_examples=int(os.environ.get("ZTDL_FUZZ_EXAMPLES", "50")), deadline=None, database=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
INPUTS = {
    "wifi_fc": [f"a_{i}" for i in range(1, 8)],
    "titanic_fc": ["age", "sibsp", "parch", "fare", "pclass", "sex", "embarked"],
    "weight_height_linreg": ["height"],
}
WIFI_ROW = {f"a_{i}": -55.0 for i in range(1, 8)}

leaf = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                 st.builds(lambda s: {"b64": s}, st.text(max_size=12)))
json_value = st.recursive(leaf, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=16)
value = st.one_of(leaf, st.lists(leaf, max_size=3), st.lists(st.lists(leaf, max_size=2), max_size=2))


@st.composite
def predict_bodies(draw):
    model = draw(st.sampled_from(sorted(INPUTS)))
    names = INPUTS[model]
    keys = st.sampled_from([*names, "extra", "b64", ""])
    full_row = st.fixed_dictionaries({n: value for n in names})
    some_row = st.dictionaries(keys, value, max_size=len(names) + 1)
    body = draw(st.one_of(
        st.fixed_dictionaries({"instances": st.lists(st.one_of(full_row, some_row, value), max_size=4)}),
        st.fixed_dictionaries({"inputs": st.one_of(st.dictionaries(keys, st.one_of(value, st.lists(value,
                                                                                                  max_size=3))),
                                                   value)}),
        st.fixed_dictionaries({"instances": st.lists(full_row, min_size=1, max_size=3),
                               "signature_name": st.one_of(st.sampled_from(["serving_default", "serve", ""]),
                                                           json_value)}),
        json_value,
    ))
    return model, body


def _check(answer, verb: str = ":predict") -> None:
    assert answer.status < 500, (answer.status, answer.body[:300])
    payload = json.loads(answer.body)  # always JSON
    if answer.status == 200:
        expected = {":predict": {"predictions", "outputs"}, "/metadata": {"metadata"},
                    "": {"model_version_status"}}[verb]
        assert expected & set(payload), payload
    else:
        assert 400 <= answer.status < 500 and isinstance(payload["error"], str) and payload["error"]


@FUZZ
@given(case=predict_bodies())
@pytest.mark.fault
def test_fuzzed_json_bodies_never_get_a_5xx(server, case):
    model, body = case
    _check(server.post(f"/v1/models/{model}:predict", json.dumps(body, allow_nan=True)))


@FUZZ
@given(name=st.one_of(st.sampled_from(sorted(INPUTS)), st.text(max_size=16)),
       version=st.one_of(st.none(), st.integers(min_value=-3, max_value=2**70), st.text(max_size=6)),
       body=st.binary(max_size=256), verb=st.sampled_from([":predict", "/metadata", ""]))
@pytest.mark.fault
def test_fuzzed_paths_and_raw_bytes_never_get_a_5xx(server, name, version, body, verb):
    path = "/v1/models/" + urllib.parse.quote(name, safe="")
    if version is not None:
        path += "/versions/" + urllib.parse.quote(str(version), safe="")
    method = "POST" if verb == ":predict" else "GET"
    _check(server.request(method, path + verb, body if method == "POST" else None), verb)


@pytest.mark.fault
def test_still_serving_after_the_fuzz(server):
    answer = server.post("/v1/models/wifi_fc:predict", {"instances": [WIFI_ROW, WIFI_ROW]})
    assert answer.status == 200
    first, second = answer.json["predictions"]
    assert first == second and math.isclose(sum(first), 1.0, rel_tol=1e-5)
    assert server.proc.poll() is None
