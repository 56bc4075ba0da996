"""How an example's name becomes the name of a node in the asset graph, and back to its storage folder.

An asset key is `<layer>/<name>_<suffix>` (`raw/iris_raw`, `features/iris_features`, `models/iris_softmax_model`,
`reports/iris_softmax_report`, `exports/iris_softmax_export`). The web UI labels a graph node with the key's
last part only, so the suffix is what tells `raw/iris` from `features/iris` there; the layer prefix keeps
selections such as `key:"raw/*"`. Storage does not follow the suffix: files stay under `<layer>/<name>` and
exports under `exports/<name>/<version>` (the name TF Serving and every consumer use). See
docs/architecture.md, "Names in the graph".
"""

from __future__ import annotations

SUFFIXES = {"sources": "source", "raw": "raw", "features": "features", "models": "model", "reports": "report",
            "exports": "export", "predictions": "predictions"}
LAYERS = tuple(SUFFIXES)


def node_name(layer: str, name: str) -> str:
    """The last part of the asset key of `name` in `layer`: `name` plus the layer's suffix."""
    if layer not in SUFFIXES:
        raise ValueError(f"unknown layer {layer!r}: one of {', '.join(LAYERS)}")
    return f"{name}_{SUFFIXES[layer]}"


def key_parts(layer: str, name: str) -> list[str]:
    return [layer, node_name(layer, name)]


def user_key(layer: str, name: str) -> str:
    """The key as Dagster writes it and a selection names it: `raw/iris_raw`."""
    return "/".join(key_parts(layer, name))


def op_name(layer: str, name: str) -> str:
    """The op name Dagster derives from the key, under which run config is given (`ops: {<op_name>: ...}`)."""
    return "__".join(key_parts(layer, name))


def split_key(parts: list[str] | tuple[str, ...]) -> tuple[str, str]:
    """(layer, name) of a key's parts, the inverse of `key_parts`. Keys without a known layer or suffix (an
    older key, a key made outside the building blocks) keep their last part as the name."""
    if len(parts) != 2 or parts[0] not in SUFFIXES:
        return (parts[0] if len(parts) > 1 else "", parts[-1])
    layer, last = parts
    suffix = "_" + SUFFIXES[layer]
    return layer, last[: -len(suffix)] if last.endswith(suffix) and len(last) > len(suffix) else last


def storage_parts(parts: list[str] | tuple[str, ...]) -> list[str]:
    """The folder parts of a key's stored files: `<layer>/<name>` without the node suffix."""
    if len(parts) != 2 or parts[0] not in SUFFIXES:
        return list(parts)
    return list(split_key(parts))
