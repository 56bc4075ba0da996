"""A small client for TF Serving's REST API: works against `ztdl-serve` and a real TF Serving alike.

    from ztdl_pipeline.serving.client import predict
    rows = [{"a_1": -62, "a_2": -58, "a_3": -59, "a_4": -59, "a_5": -67, "a_6": -80, "a_7": -77}]
    predict("http://127.0.0.1:8501", "wifi_fc", rows)          # [[0.997, 1e-05, 0.0017, 0.0007]]

Standard library only (urllib), so a consumer needs neither this package's dependencies nor TensorFlow
to copy it.
"""

from __future__ import annotations

import base64
import json
import math
import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["ServingError", "metadata", "predict", "status"]


class ServingError(RuntimeError):
    """The server answered with an error: `status` is the HTTP status, `message` its {"error": ...} text."""

    def __init__(self, status: int, message: str, url: str):
        super().__init__(f"HTTP {status} from {url}: {message}")
        self.status, self.message, self.url = status, message, url


def input_name(column: str) -> str:
    """The signature input name of a raw column (the exports' rule: 'Time (min)' -> 'time_min')."""
    name = re.sub(r"[^0-9a-zA-Z]+", "_", column).strip("_").lower()
    return name if name and not name[0].isdigit() else f"x_{name}"


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and not isinstance(value, (bytes, str)):  # numpy scalars
        value = value.item()
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float("nan")  # a missing number: the exports impute it (e.g. titanic's Age)
    return value


def _rows(rows: Any) -> list[dict[str, Any]]:
    if hasattr(rows, "to_dict") and hasattr(rows, "columns"):  # a pandas DataFrame of raw columns
        rows = rows.to_dict(orient="records")
    if isinstance(rows, Mapping) or not isinstance(rows, Iterable):
        raise TypeError("rows must be a list of {column: value} mappings or a pandas DataFrame")
    return [{input_name(str(k)): _plain(v) for k, v in row.items()} for row in rows]


def _url(base: str, model: str, version: int | None, suffix: str = "") -> str:
    path = f"{base.rstrip('/')}/v1/models/{urllib.request.quote(model, safe='')}"
    if version is not None:
        path += f"/versions/{int(version)}"
    return path + suffix


def _call(url: str, body: dict | None = None, timeout: float = 30.0) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")
        try:
            message = json.loads(text).get("error", text)
        except (ValueError, AttributeError):
            message = text
        raise ServingError(exc.code, message, url) from None


def predict(url: str, model: str, rows: Any, version: int | None = None, *,
            signature_name: str | None = None, timeout: float = 30.0) -> list[Any]:
    """Send raw feature rows to `POST <url>/v1/models/<model>[/versions/<version>]:predict` and return
    the predictions, one per row (for a classifier, its class probabilities).

    `rows`: a pandas DataFrame of raw columns or a list of {column: value} mappings. Column names are
    mapped to the signature's input names ('Time (min)' -> 'time_min'); NaN/None stands for a missing
    number; bytes are sent as {"b64": ...}. Raises ServingError (with the server's message) on a 4xx/5xx.
    """
    body: dict[str, Any] = {"instances": _rows(rows)}
    if signature_name:
        body["signature_name"] = signature_name
    return _call(_url(url, model, version, ":predict"), body, timeout)["predictions"]


def status(url: str, model: str, version: int | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """`GET /v1/models/<model>[/versions/<v>]`: {"model_version_status": [...]}."""
    return _call(_url(url, model, version), timeout=timeout)


def metadata(url: str, model: str, version: int | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """`GET /v1/models/<model>[/versions/<v>]/metadata`: the signatures (input names, dtypes, shapes)."""
    return _call(_url(url, model, version, "/metadata"), timeout=timeout)
