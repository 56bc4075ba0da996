"""TF Serving's REST predict format <-> numpy arrays (no web framework, no TensorFlow here).

Request (https://www.tensorflow.org/tfx/serving/api_rest):

    {"signature_name": "serving_default",        optional
     "instances": [...]}                          row form: one entry per example
    {"inputs": {...} | [...]}                     column form: one entry per named input

Row form: with several named inputs every instance is an object holding each input; with a single
input an instance may be the bare value. Column form: an object {input: batch of values}, or the
bare batch when there is one input. Binary (string) values may be sent as {"b64": "<base64>"}.
Answers: {"predictions": [...]} for the row form (one value per instance, or one object per instance
when the signature has several outputs) and {"outputs": ...} for the column form.

Every problem with a request raises `BadRequest` with a message naming the input, the instance and
what was expected; the server turns it into HTTP 400 {"error": "..."}.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

DEFAULT_SIGNATURE = "serving_default"
_INT_RANGES = {"int8": (-2**7, 2**7 - 1), "int16": (-2**15, 2**15 - 1), "int32": (-2**31, 2**31 - 1),
               "int64": (-2**63, 2**63 - 1), "uint8": (0, 2**8 - 1), "uint16": (0, 2**16 - 1),
               "uint32": (0, 2**32 - 1), "uint64": (0, 2**64 - 1)}
_FLOATS = {"float16", "bfloat16", "float32", "float64", "half", "float", "double"}


class BadRequest(ValueError):
    """A request the server cannot run: HTTP 400 with this message."""


@dataclass(frozen=True)
class TensorSpec:
    """One named input or output of a signature: dtype name ('float32', 'int64', 'string', ...) and shape
    (None for a dimension of any size; the first is the batch)."""

    name: str
    dtype: str
    shape: tuple[int | None, ...] | None  # None: unknown rank


def parse_json(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object (NaN and Infinity accepted, as TF Serving does)."""
    if not body.strip():
        raise BadRequest("JSON Parse error: the request body is empty; send a JSON object such as "
                         '{"instances": [...]}')
    try:
        payload = json.loads(body)
    except RecursionError:
        raise BadRequest("JSON Parse error: nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, bad UTF-8, too-long integers
        raise BadRequest(f"JSON Parse error: {exc}") from None
    if not isinstance(payload, dict):
        raise BadRequest(f"the request body must be a JSON object with \"instances\" or \"inputs\", "
                         f"got a JSON {_json_type(payload)}")
    return payload


def signature_name(payload: Mapping[str, Any]) -> str:
    name = payload.get("signature_name", DEFAULT_SIGNATURE)
    if name is None or name == "":
        return DEFAULT_SIGNATURE
    if not isinstance(name, str):
        raise BadRequest(f"\"signature_name\" must be a string, got a JSON {_json_type(name)}")
    return name


def request_form(payload: Mapping[str, Any]) -> str:
    """'row' (instances) or 'column' (inputs)."""
    has_rows, has_columns = "instances" in payload, "inputs" in payload
    if has_rows and has_columns:
        raise BadRequest("the request has both \"instances\" (row form) and \"inputs\" (column form); send one")
    if not has_rows and not has_columns:
        raise BadRequest("the request has neither \"instances\" (row form) nor \"inputs\" (column form); keys "
                         f"given: {sorted(payload)[:10]}")
    return "row" if has_rows else "column"


def to_arrays(payload: Mapping[str, Any], inputs: Mapping[str, TensorSpec]) -> tuple[str, dict[str, np.ndarray]]:
    """Decode the request into one numpy array per signature input, checked against dtype and shape."""
    form = request_form(payload)
    names = list(inputs)
    if form == "row":
        instances = payload["instances"]
        if not isinstance(instances, list):
            raise BadRequest(f"\"instances\" must be a list (one entry per example), got a JSON "
                             f"{_json_type(instances)}")
        if not instances:
            raise BadRequest("\"instances\" is empty: send at least one example")
        columns: dict[str, list[Any]] = {name: [] for name in names}
        for index, instance in enumerate(instances):
            if isinstance(instance, dict) and not _is_b64(instance):
                _check_keys(instance, names, f"instances[{index}]")
                for name in names:
                    columns[name].append(instance[name])
            elif len(names) == 1:
                columns[names[0]].append(instance)
            else:
                raise BadRequest(f"instances[{index}] must be an object with the named inputs "
                                 f"{_list(names)} (the signature takes {len(names)} inputs), got a JSON "
                                 f"{_json_type(instance)}")
        arrays = {name: _array(columns[name], inputs[name], f"input {name!r}") for name in names}
    else:
        given = payload["inputs"]
        if isinstance(given, dict) and not _is_b64(given):
            _check_keys(given, names, "\"inputs\"")
            arrays = {name: _array(given[name], inputs[name], f"input {name!r}") for name in names}
        elif len(names) == 1:
            arrays = {names[0]: _array(given, inputs[names[0]], f"input {names[0]!r}")}
        else:
            raise BadRequest(f"\"inputs\" must be an object with the named inputs {_list(names)}, got a JSON "
                             f"{_json_type(given)}")
    _check_batch(arrays)
    return form, arrays


def check_values(arrays: Mapping[str, np.ndarray], rules: Mapping[str, Any]) -> None:
    """Refuse values the model never saw, with the input, the row and what is allowed: a category outside the
    training vocabulary (unless the export maps unknowns to all zeros), a number that is not finite (NaN
    only where the export imputes missing values). Without these checks such rows get confident nonsense."""
    for name, array in arrays.items():
        rule = rules.get(name) or {}
        values = np.asarray(array).reshape(-1)
        if rule.get("finite") and values.dtype.kind == "f":
            bad = ~np.isfinite(values) if not rule.get("missing") else np.isinf(values)
            if bad.any():
                row = int(np.flatnonzero(bad)[0])
                allowed = "finite numbers" + (" (NaN for a missing value)" if rule.get("missing") else "")
                raise BadRequest(f"input {name!r}, row {row}: {values.tolist()[row]!r} is not allowed; send {allowed}")
        vocabulary = rule.get("vocabulary")
        if vocabulary is not None and rule.get("unknown") == "reject":
            known = {v.encode() if isinstance(v, str) and values.dtype == object else v for v in vocabulary}
            unknown = [i for i, v in enumerate(values.tolist()) if v not in known]
            if unknown:
                row = unknown[0]
                value = values.tolist()[row]
                value = value.decode(errors="replace") if isinstance(value, bytes) else value
                raise BadRequest(f"input {name!r}, row {row}: {value!r} is not one of the values the model was "
                                 f"trained on: {_list(vocabulary)}")


def response(form: str, outputs: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """{"predictions": ...} (row form) or {"outputs": ...} (column form), as TF Serving answers."""
    values = {name: _jsonable(name, np.asarray(value)) for name, value in outputs.items()}
    if form == "row":
        if len(values) == 1:
            return {"predictions": next(iter(values.values()))}
        batch = len(next(iter(values.values())))
        return {"predictions": [{name: value[i] for name, value in values.items()} for i in range(batch)]}
    if len(values) == 1:
        return {"outputs": next(iter(values.values()))}
    return {"outputs": values}


def dumps(obj: Any) -> bytes:
    """Strict JSON: a NaN or infinity (which plain json.dumps writes as bare NaN) raises ValueError."""
    return json.dumps(obj, separators=(",", ":"), allow_nan=False).encode()


# ---------------------------------------------------------------- helpers


def _check_keys(obj: Mapping[str, Any], names: list[str], where: str) -> None:
    missing = [n for n in names if n not in obj]
    unknown = [k for k in obj if k not in names]
    if missing:
        raise BadRequest(f"{where} does not have the named input(s) {_list(missing)}; the signature takes "
                         f"{_list(names)}")
    if unknown:
        raise BadRequest(f"{where} has unknown input(s) {_list(unknown[:10])}; the signature takes {_list(names)}")


def _check_batch(arrays: Mapping[str, np.ndarray]) -> None:
    sizes = {name: (a.shape[0] if a.ndim else None) for name, a in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise BadRequest("inputs differ in batch size (first dimension): "
                         + ", ".join(f"{n}: {s}" for n, s in sizes.items()))


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and "b64" in value


def _list(names) -> str:
    return ", ".join(repr(n) for n in names)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object (b64)" if _is_b64(value) else "object"
    return type(value).__name__


def _flatten(value: Any, where: str, depth: int = 0, max_depth: int = 8) -> tuple[tuple[int, ...], list[Any]]:
    """Shape and leaves of a rectangular nested list; {"b64": ...} counts as a leaf."""
    if not isinstance(value, list):
        return (), [value]
    if depth >= max_depth:
        raise BadRequest(f"{where}: nested lists deeper than the signature's {max_depth - 1} dimension(s)")
    if not value:
        return (0,), []
    if not any(isinstance(v, list) for v in value):  # the common case: a flat list of scalars
        return (len(value),), list(value)
    leaves: list[Any] = []
    inner: tuple[int, ...] | None = None
    for index, item in enumerate(value):
        shape, flat = _flatten(item, where, depth + 1, max_depth)
        if inner is None:
            inner = shape
        elif shape != inner:
            raise BadRequest(f"{where}: ragged nested lists (element {index} has shape {list(shape)}, "
                             f"element 0 has {list(inner)}); every example must have the same shape")
        leaves.extend(flat)
    return (len(value), *(inner or ())), leaves


def _array(value: Any, spec: TensorSpec, where: str) -> np.ndarray:
    shape, leaves = _flatten(value, where, max_depth=(len(spec.shape) if spec.shape is not None else 31) + 1)
    mismatch = spec.shape is not None and (
        len(shape) != len(spec.shape) or any(want is not None and want != got for want, got in zip(spec.shape, shape)))
    if mismatch:
        expected = "[" + ", ".join("-1" if d is None else str(d) for d in spec.shape) + "]"
        per_example = spec.shape[1:]
        hint = ("one scalar per example" if per_example == () else
                f"per example a value of shape {[d if d is not None else -1 for d in per_example]}")
        raise BadRequest(f"{where}: wrong shape {list(shape)}, the signature expects {expected} "
                         f"({hint}; {spec.dtype})")
    dtype = spec.dtype
    if dtype == "string":
        data = [_string_leaf(v, where) for v in leaves]
        array = np.empty(len(data), dtype=object)
        array[:] = data
        return array.reshape(shape)
    if dtype == "bool":
        if not all(type(v) is bool for v in leaves):
            raise BadRequest(f"{where}: expected booleans (true/false), got {_first_bad(leaves, (bool,))}")
        return np.array(leaves, dtype=bool).reshape(shape)
    if dtype in _FLOATS:
        if not all(type(v) in (int, float) for v in leaves):
            raise BadRequest(f"{where}: expected numbers ({dtype}), got {_first_bad(leaves, (int, float))}")
        try:
            floats = [float(v) for v in leaves]
        except OverflowError:
            raise BadRequest(f"{where}: a number is too large for {dtype}") from None
        return np.array(floats, dtype="float64").astype(_np_float(dtype)).reshape(shape)
    if dtype in _INT_RANGES:
        low, high = _INT_RANGES[dtype]
        if not all(type(v) is int for v in leaves):
            bad = next(v for v in leaves if type(v) is not int)
            if isinstance(bad, float) and math.isfinite(bad) and bad.is_integer():
                raise BadRequest(f"{where}: expected integers ({dtype}), got {bad!r}; send it as {int(bad)}")
            raise BadRequest(f"{where}: expected integers ({dtype}), got {_first_bad(leaves, (int,))}")
        if leaves and (min(leaves) < low or max(leaves) > high):
            raise BadRequest(f"{where}: integer out of range for {dtype} [{low}, {high}]")
        return np.array(leaves, dtype=dtype).reshape(shape)
    raise BadRequest(f"{where}: inputs of dtype {dtype} are not supported by this server")


def _np_float(dtype: str) -> str:
    return {"half": "float16", "float": "float32", "double": "float64", "bfloat16": "float32"}.get(dtype, dtype)


def _first_bad(leaves: list[Any], allowed: tuple[type, ...]) -> str:
    bad = next(v for v in leaves if type(v) not in allowed)
    return f"a JSON {_json_type(bad)} ({_short(bad)})"


def _short(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, float) or math.isfinite(value) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _string_leaf(value: Any, where: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8", errors="surrogatepass")
    if _is_b64(value):
        encoded = value["b64"]
        if not isinstance(encoded, str):
            raise BadRequest(f"{where}: \"b64\" must hold a base64 string, got a JSON {_json_type(encoded)}")
        try:
            return base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BadRequest(f"{where}: invalid base64 in \"b64\": {exc}") from None
    raise BadRequest(f"{where}: expected strings (or {{\"b64\": ...}} for binary data), got a JSON "
                     f"{_json_type(value)} ({_short(value)})")


def _jsonable(name: str, value: np.ndarray) -> Any:
    if value.dtype == object or value.dtype.kind in "SU":
        def encode(item: Any) -> Any:
            if isinstance(item, list):
                return [encode(i) for i in item]
            raw = item if isinstance(item, bytes) else str(item).encode()
            if name.endswith("_bytes"):
                return {"b64": base64.b64encode(raw).decode()}
            try:
                return raw.decode("utf-8")
            except UnicodeDecodeError:
                return {"b64": base64.b64encode(raw).decode()}
        return encode(value.tolist())
    return value.tolist()
