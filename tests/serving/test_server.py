"""ztdl-serve as a real process on 127.0.0.1: status, metadata and predict answered like TF Serving,
predictions equal to tf.saved_model.load in this process, and every kind of bad input answered with a
4xx and a message while the server keeps serving."""

from __future__ import annotations

import base64
import json
import math

import numpy as np
import pandas as pd
import pytest

from tests.serving.helpers import MODELS, instances, plain, raw_test_rows, served_in_process
from ztdl_pipeline.core.features import safe_name
from ztdl_pipeline.serving import client, registry

pytestmark = pytest.mark.e2e


def _current(server, model: str) -> int:
    statuses = server.get(f"/v1/models/{model}").json["model_version_status"]
    return max(int(s["version"]) for s in statuses)


def test_lists_every_exported_model(server):
    answer = server.get("/v1/models")
    assert answer.status == 200
    listed = {m["name"]: m for m in answer.json["models"]}
    assert set(listed) == set(MODELS) == set(registry.list_models(server.exports))
    for name, entry in listed.items():
        assert entry["versions"] == [str(v) for v in registry.list_versions(name, server.exports)]


@pytest.mark.parametrize("model", MODELS)
def test_status_in_tf_serving_shape(server, model):
    answer = server.get(f"/v1/models/{model}")
    assert answer.status == 200 and answer.headers["content-type"] == "application/json"
    statuses = answer.json["model_version_status"]
    versions = registry.list_versions(model, server.exports)
    assert [s["version"] for s in statuses] == [str(v) for v in reversed(versions)]  # newest first
    for status in statuses:
        assert status["state"] == "AVAILABLE"
        assert status["status"] == {"error_code": "OK", "error_message": ""}
    one = server.get(f"/v1/models/{model}/versions/{versions[0]}").json
    assert one == {"model_version_status": [{"version": str(versions[0]), "state": "AVAILABLE",
                                             "status": {"error_code": "OK", "error_message": ""}}]}


def test_metadata_is_the_savedmodel_signature(server):
    version = _current(server, "wifi_fc")
    for path in ("/v1/models/wifi_fc/metadata", f"/v1/models/wifi_fc/versions/{version}/metadata"):
        answer = server.get(path)
        assert answer.status == 200
        body = answer.json
        assert body["model_spec"] == {"name": "wifi_fc", "signature_name": "", "version": str(version)}
        signature = body["metadata"]["signature_def"]["signature_def"]["serving_default"]
        assert signature["method_name"] == "tensorflow/serving/predict"
        assert set(signature["inputs"]) == {f"a_{i}" for i in range(1, 8)}
        for spec in signature["inputs"].values():
            assert spec["dtype"] == "DT_FLOAT"
            assert [d["size"] for d in spec["tensor_shape"]["dim"]] == ["-1"]
        (output,) = signature["outputs"].values()
        assert [d["size"] for d in output["tensor_shape"]["dim"]] == ["-1", "4"]
    # the manifest describes the same signature (names, dtypes, shapes, output names)
    entry = registry.entry("wifi_fc", version, root=server.exports)
    assert set(entry["signature"]) == set(signature["inputs"])
    assert {n: s["shape"] for n, s in entry["signature"].items()} == {n: [-1] for n in signature["inputs"]}
    assert entry["output_signature"] == {name: {"dtype": "float32", "shape": [-1, 4]}
                                         for name in signature["outputs"]}


def test_metadata_of_mixed_dtypes(server):
    signature = server.get("/v1/models/titanic_fc/metadata").json["metadata"]["signature_def"]["signature_def"]
    inputs = signature["serving_default"]["inputs"]
    assert {n: s["dtype"] for n, s in inputs.items()} == {
        "age": "DT_FLOAT", "sibsp": "DT_FLOAT", "parch": "DT_FLOAT", "fare": "DT_FLOAT", "pclass": "DT_INT64",
        "sex": "DT_STRING", "embarked": "DT_STRING"}


@pytest.mark.parametrize("model", MODELS)
def test_predict_row_and_column_form_equal_saved_model_load(server, exports_run, model):
    _, root, _, _ = exports_run
    columns = raw_test_rows(root, model)
    version = _current(server, model)
    expected = served_in_process(server.exports, model, version, columns)
    assert np.ptp(expected) > 1e-3  # the rows are not all answered alike, so equality says something

    rows = server.post(f"/v1/models/{model}:predict", {"instances": instances(columns)})
    assert rows.status == 200, rows.body
    np.testing.assert_allclose(np.asarray(rows.json["predictions"], "float32"), expected, rtol=1e-6, atol=1e-7)

    body = {"inputs": {name: [plain(v) for v in values] for name, values in columns.items()}}
    cols = server.post(f"/v1/models/{model}/versions/{version}:predict", body)
    assert cols.status == 200, cols.body
    np.testing.assert_allclose(np.asarray(cols.json["outputs"], "float32"), expected, rtol=1e-6, atol=1e-7)


def test_titanic_rows_with_missing_age_and_port(server, exports_run):
    """NaN (a JSON extension TF Serving accepts) and an empty string reach the export's imputation."""
    _, root, _, _ = exports_run
    columns = raw_test_rows(root, "titanic_fc", n=179)
    missing = np.isnan(columns["age"])
    assert missing.any()
    expected = served_in_process(server.exports, "titanic_fc", _current(server, "titanic_fc"), columns)
    body = json.dumps({"instances": instances(columns)})
    assert "NaN" in body
    answer = server.post("/v1/models/titanic_fc:predict", body)
    assert answer.status == 200, answer.body
    served = np.asarray(answer.json["predictions"], "float32")
    np.testing.assert_allclose(served, expected, rtol=1e-6, atol=1e-7)
    assert np.isfinite(served).all()


@pytest.mark.fault
def test_an_unknown_port_is_the_books_all_zeros_and_a_known_row_is_answered(server):
    """Embarked may be missing in the raw data, so the export maps an unknown port to all zeros (the book's
    preprocessing); the registry documents which inputs accept what."""
    for port in ("S", "", "Atlantis"):
        answer = server.post("/v1/models/titanic_fc:predict", {"instances": [{**TITANIC_ROW, "embarked": port}]})
        assert answer.status == 200, answer.body
    manifest = json.loads((server.exports / "titanic_fc" / "registry.json").read_text())
    signature = manifest["versions"][str(manifest["current"])]["signature"]
    assert signature["embarked"]["unknown"] == "all_zeros" and signature["sex"]["unknown"] == "reject"
    assert signature["sex"]["vocabulary"] == ["female", "male"] and signature["pclass"]["vocabulary"] == [1, 2, 3]
    assert signature["age"]["missing"] and signature["fare"]["finite"] and "missing" not in signature["fare"]


def test_b64_strings_are_decoded(server):
    row = {"age": 30.0, "sibsp": 0, "parch": 0, "fare": 8.05, "pclass": 3, "sex": "female", "embarked": "S"}
    b64 = {**row, "sex": {"b64": base64.b64encode(b"female").decode()},
           "embarked": {"b64": base64.b64encode(b"S").decode()}}
    male = {**row, "sex": "male"}
    answers = [server.post("/v1/models/titanic_fc:predict", {"instances": [r]}) for r in (row, b64, male)]
    assert [a.status for a in answers] == [200, 200, 200]
    plain, decoded, other = (a.json["predictions"][0] for a in answers)
    assert decoded == plain
    assert other != plain  # the string input matters, so the equality above is not vacuous


def test_single_input_takes_plain_values(server):
    plain = server.post("/v1/models/weight_height_linreg:predict", {"instances": [60.0, 66, 72.5]})
    named = server.post("/v1/models/weight_height_linreg:predict",
                        {"instances": [{"height": 60.0}, {"height": 66}, {"height": 72.5}]})
    column = server.post("/v1/models/weight_height_linreg:predict", {"inputs": [60.0, 66, 72.5]})
    assert plain.status == named.status == column.status == 200
    assert plain.json["predictions"] == named.json["predictions"] == column.json["outputs"]
    expected = served_in_process(server.exports, "weight_height_linreg", _current(server, "weight_height_linreg"),
                                  {"height": np.array([60.0, 66, 72.5], "float32")})
    np.testing.assert_allclose(np.asarray(plain.json["predictions"], "float32"), expected, rtol=1e-6)


def test_client_predict_sends_raw_dataframe_rows(server, mirror):
    """The documented client: raw CSV columns in, predictions out (names mapped, NaN for missing)."""
    wifi = pd.read_csv(mirror / "wifi_location.csv").drop(columns=["location"]).iloc[:25]
    got = np.asarray(client.predict(server.url, "wifi_fc", wifi), "float32")
    columns = {c: wifi[c].to_numpy("float32") for c in wifi.columns}
    expected = served_in_process(server.exports, "wifi_fc", _current(server, "wifi_fc"), columns)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)

    titanic = pd.read_csv(mirror / "titanic-train.csv")[["Age", "SibSp", "Parch", "Fare", "Pclass", "Sex",
                                                          "Embarked"]].iloc[:30]
    assert titanic["Age"].isna().any() and titanic["Embarked"].notna().all()
    probabilities = np.asarray(client.predict(server.url, "titanic_fc", titanic, version=1))
    assert probabilities.shape == (30, 2) and np.isfinite(probabilities).all()

    with pytest.raises(client.ServingError) as error:
        client.predict(server.url, "no_such_model", wifi)
    assert error.value.status == 404 and "no_such_model" in error.value.message
    assert client.status(server.url, "wifi_fc")["model_version_status"][0]["state"] == "AVAILABLE"
    assert "serving_default" in client.metadata(server.url, "wifi_fc")["metadata"]["signature_def"]["signature_def"]


def test_client_input_names_follow_the_exports():
    from ztdl_pipeline.catalog.datasets import CATALOG

    columns = {c.name for entry in CATALOG.values() for c in entry.columns} | {"Time (min)", "3d", "a b"}
    for column in columns:
        assert client.input_name(column) == safe_name(column), column


# ------------------------------------------------------------------ bad input

WIFI_ROW = {f"a_{i}": -60.0 for i in range(1, 8)}
TITANIC_ROW = {"age": 30.0, "sibsp": 0, "parch": 0, "fare": 7.25, "pclass": 3, "sex": "male", "embarked": "S"}
BIG = b'{"instances": [' + b"1.0, " * (11 * 2**20 // 5) + b"1.0]}"


def _chunks(data: bytes, size: int = 2**20):
    for start in range(0, len(data), size):
        yield data[start:start + size]


BAD_REQUESTS = [
    # (id, method, path, body, status, fragment of the error message)
    ("malformed_json", "POST", "/v1/models/wifi_fc:predict", b'{"instances": [', 400, "JSON Parse error"),
    ("not_an_object", "POST", "/v1/models/wifi_fc:predict", b"[1, 2]", 400, "JSON object"),
    ("empty_body", "POST", "/v1/models/wifi_fc:predict", b"", 400, "empty"),
    ("no_instances", "POST", "/v1/models/wifi_fc:predict", {"rows": [WIFI_ROW]}, 400, "neither"),
    ("wrong_shape", "POST", "/v1/models/wifi_fc:predict",
     {"instances": [{**WIFI_ROW, "a_1": [1.0, 2.0]}]}, 400, "wrong shape"),
    ("positional_rows", "POST", "/v1/models/wifi_fc:predict", {"instances": [[-62, -58, -59, -59, -67, -80, -77]]},
     400, "named inputs"),
    ("missing_input", "POST", "/v1/models/wifi_fc:predict",
     {"instances": [{k: v for k, v in WIFI_ROW.items() if k != "a_7"}]}, 400, "'a_7'"),
    ("wrong_dtype", "POST", "/v1/models/wifi_fc:predict", {"instances": [{**WIFI_ROW, "a_3": "loud"}]}, 400,
     "expected numbers"),
    ("int_input_float", "POST", "/v1/models/titanic_fc:predict",
     {"instances": [{"age": 3.0, "sibsp": 0, "parch": 0, "fare": 1.0, "pclass": 1.5, "sex": "m", "embarked": "S"}]},
     400, "expected integers"),
    ("bad_b64", "POST", "/v1/models/titanic_fc:predict",
     {"instances": [{"age": 3.0, "sibsp": 0, "parch": 0, "fare": 1.0, "pclass": 1, "sex": {"b64": "!!"},
                     "embarked": "S"}]}, 400, "base64"),
    ("unseen_category", "POST", "/v1/models/titanic_fc:predict", {"instances": [TITANIC_ROW, {**TITANIC_ROW,
     "sex": "unknown"}]}, 400, "input 'sex', row 1: 'unknown' is not one of the values the model was trained on: "
     "'female', 'male'"),
    ("empty_category", "POST", "/v1/models/titanic_fc:predict", {"instances": [{**TITANIC_ROW, "sex": ""}]}, 400,
     "input 'sex', row 0: '' is not one of"),
    ("unseen_int_category", "POST", "/v1/models/titanic_fc:predict", {"instances": [{**TITANIC_ROW, "pclass": 4}]},
     400, "input 'pclass', row 0: 4 is not one of the values the model was trained on: 1, 2, 3"),
    ("infinite_number", "POST", "/v1/models/titanic_fc:predict",
     {"instances": [{**TITANIC_ROW, "fare": float("inf")}]}, 400, "input 'fare', row 0: inf is not allowed"),
    ("infinite_imputed_number", "POST", "/v1/models/titanic_fc:predict",
     {"instances": [{**TITANIC_ROW, "age": float("-inf")}]}, 400, "(NaN for a missing value)"),
    ("nan_without_imputation", "POST", "/v1/models/wifi_fc:predict", {"instances": [{**WIFI_ROW, "a_4": float("nan")}]},
     400, "input 'a_4', row 0: nan is not allowed; send finite numbers"),
    ("batch_mismatch", "POST", "/v1/models/wifi_fc:predict",
     {"inputs": {**{k: [v] for k, v in WIFI_ROW.items()}, "a_2": [1.0, 2.0]}}, 400, "batch size"),
    ("unknown_signature", "POST", "/v1/models/wifi_fc:predict", {"signature_name": "predict",
                                                                 "instances": [WIFI_ROW]}, 400, "'predict'"),
    ("unknown_model", "POST", "/v1/models/no_such_model:predict", {"instances": [WIFI_ROW]}, 404,
     "no_such_model"),
    ("unknown_model_status", "GET", "/v1/models/no_such_model", None, 404, "no_such_model"),
    ("unknown_version", "POST", "/v1/models/wifi_fc/versions/999:predict", {"instances": [WIFI_ROW]}, 404,
     "999"),
    ("unknown_version_metadata", "GET", "/v1/models/wifi_fc/versions/999/metadata", None, 404, "999"),
    ("version_not_integer", "GET", "/v1/models/wifi_fc/versions/latest", None, 400, "positive integer"),
    ("version_zero", "POST", "/v1/models/wifi_fc/versions/0:predict", {"instances": [WIFI_ROW]}, 400,
     "positive integer"),
    ("dotdot", "GET", "/v1/models/../../etc/passwd", None, 400, "invalid model name"),
    ("encoded_slashes", "POST", "/v1/models/..%2F..%2Fetc%2Fpasswd:predict", {"instances": [1]}, 400,
     "invalid model name"),
    ("encoded_dots", "GET", "/v1/models/%2E%2E/metadata", None, 400, "invalid model name"),
    ("backslash", "GET", "/v1/models/wifi_fc%5C..%5Cx", None, 400, "invalid model name"),
    ("absolute_path", "GET", "/v1/models//etc/passwd", None, 400, "invalid model name"),
    ("nul_byte", "GET", "/v1/models/wifi%00fc", None, 400, "invalid model name"),
    ("predict_with_get", "GET", "/v1/models/wifi_fc:predict", None, 405, "POST"),
    ("unsupported_verb", "POST", "/v1/models/wifi_fc:classify", {"examples": []}, 400, ":predict"),
    ("unknown_endpoint", "GET", "/v2/anything", None, 404, "unknown endpoint"),
    ("oversize_body", "POST", "/v1/models/wifi_fc:predict", BIG, 413, "limit"),
]


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=[c[0] for c in BAD_REQUESTS])
@pytest.mark.fault
def test_bad_input_gets_a_4xx_with_a_message_and_the_server_keeps_serving(server, case):
    _, method, path, body, status, fragment = case
    answer = server.request(method, path, body)
    assert answer.status == status, answer.body[:500]
    assert answer.headers["content-type"] == "application/json"
    message = answer.json["error"]
    assert fragment in message, message
    ok = server.post("/v1/models/wifi_fc:predict", {"instances": [WIFI_ROW]})
    assert ok.status == 200 and math.isclose(sum(ok.json["predictions"][0]), 1.0, rel_tol=1e-5)


@pytest.mark.fault
def test_oversize_chunked_body_without_length_is_refused(server):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.request("POST", "/v1/models/wifi_fc:predict", body=_chunks(BIG),
                           headers={"Content-Type": "application/json"}, encode_chunked=True)
        response = connection.getresponse()
        assert response.status == 413
        assert "limit" in json.loads(response.read())["error"]
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close the connection while the rest of the body is still being sent
    finally:
        connection.close()
    assert server.alive()


def test_a_symlink_out_of_the_export_folder_is_not_served(server, tmp_path):
    import shutil

    outside = tmp_path / "elsewhere"
    shutil.copytree(server.exports / "wifi_fc" / "1", outside / "1")
    link = server.exports / "smuggled"
    link.symlink_to(outside, target_is_directory=True)
    try:
        assert server.get("/v1/models/smuggled").status == 404
        assert server.post("/v1/models/smuggled:predict", {"instances": [WIFI_ROW]}).status == 404
        assert "smuggled" not in {m["name"] for m in server.get("/v1/models").json["models"]}
    finally:
        link.unlink()


def test_concurrent_requests_each_get_their_own_answer(server, exports_run):
    """16 clients at once (merged into shared model calls by the batcher) with 1-3 rows each, two models."""
    from concurrent.futures import ThreadPoolExecutor

    _, root, _, _ = exports_run
    wifi = raw_test_rows(root, "wifi_fc", n=96)
    titanic = raw_test_rows(root, "titanic_fc", n=96)
    expected = {"wifi_fc": served_in_process(server.exports, "wifi_fc", _current(server, "wifi_fc"), wifi),
                "titanic_fc": served_in_process(server.exports, "titanic_fc", _current(server, "titanic_fc"),
                                                 titanic)}
    jobs = []  # (model, first row, rows)
    start = 0
    for k in range(48):
        rows = 1 + k % 3
        jobs.append(("wifi_fc" if k % 2 else "titanic_fc", start, rows))
        start = (start + rows) % 90
    before = server.get("/v1/models").json["batching"]

    def send(job):
        model, first, rows = job
        columns = wifi if model == "wifi_fc" else titanic
        part = {name: values[first:first + rows] for name, values in columns.items()}
        return server.post(f"/v1/models/{model}:predict", {"instances": instances(part)})

    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(send, jobs))
    for (model, first, rows), answer in zip(jobs, answers):
        assert answer.status == 200, answer.body
        got = np.asarray(answer.json["predictions"], "float32")
        # a merged batch may round in the last float32 digit differently from a lone call
        np.testing.assert_allclose(got, expected[model][first:first + rows], rtol=1e-5, atol=1e-6)
    after = server.get("/v1/models").json["batching"]
    assert after["enabled"] is True
    assert after["requests"] - before["requests"] == len(jobs)
    assert 1 <= after["model_calls"] - before["model_calls"] <= len(jobs)
