"""References by dotted path: the catalogue names builders, readers and generators as
`"package.module:function"` so that it stays plain data, and one test resolves every name it holds."""

from __future__ import annotations

import importlib
from typing import Any


def split(path: str) -> tuple[str, str]:
    module, sep, attribute = path.partition(":")
    if not sep or not module or not attribute:
        raise ValueError(f"{path!r} is not a reference: write it as 'package.module:name'")
    return module, attribute


def resolve(path: str) -> Any:
    """The object a reference names, with an error naming the reference when it is not there."""
    module_name, attribute = split(path)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise LookupError(f"reference {path!r}: no module {module_name!r}") from exc
    target = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise LookupError(f"reference {path!r}: {module_name} has no {attribute!r}")
        target = getattr(target, part)
    return target


def name_of(path: str) -> str:
    """The last part of a reference, e.g. the builder's function name for titles and logs."""
    return split(path)[1].rsplit(".", 1)[-1]
