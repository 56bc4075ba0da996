"""Typed run config for training assets, generated from the cards (one class per card, no hand-written ones).

The launchpad shows each card's book values as the defaults; the fast profile's changes are resolved in
core/profile.py and never override a value the user set.
"""


import dataclasses
from typing import Any

import dagster as dg
import pydantic

from ztdl_pipeline.core.specs import Hyper


class TrainingConfig(dg.Config):
    """Hyper-parameters of a training asset; a card's generated subclass sets the book's values as defaults."""

    epochs: int = 10
    batch_size: int = 32
    optimizer: str = "adam"
    learning_rate: float = 0.001
    momentum: float = 0.0
    validation_split: float = 0.0
    cv_folds: int = 0
    cv_epochs: int = 0  # 0: same as epochs
    seed: int = 42
    restarts: int = 1  # >1: train from several seeds, keep the lowest final training loss

    @pydantic.model_validator(mode="after")
    def _valid(self):
        """Refuse bad settings before anything trains, naming each field."""
        from ztdl_pipeline.core.specs import setting_problems

        problems = setting_problems(self.model_dump())
        if problems:
            raise ValueError("invalid training settings: " + "; ".join(problems))
        return self


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def training_config(card, base: type[TrainingConfig] = TrainingConfig) -> type[TrainingConfig]:
    """The run-config class of one card: `base`'s fields with the card's book values as defaults (fields the
    card adds are typed from their values), each described with what the fast profile uses instead."""
    fields: dict[str, Any] = {}
    for name, value in card.hyper.items():
        existing = base.model_fields.get(name)
        annotation = existing.annotation if existing else type(value)
        note = f"book: {value!r}" + (f"; fast profile: {card.fast[name]!r}" if name in card.fast else "")
        fields[name] = (annotation, pydantic.Field(default=value, description=note))
    return pydantic.create_model(f"{_camel(card.name)}Config", __base__=base,
                                 __doc__=f"Training settings of {card.name} ({card.source})", **fields)


def resolve_training(config: TrainingConfig, card, profile: str, hyper_type: type = Hyper, explicit=()):
    """(hyper-parameters of this run, core.profile.Settings saying where each value came from); `explicit`:
    the fields the run config sets (assets.base.explicit_config)."""
    from ztdl_pipeline.core.profile import resolve_config

    settings = resolve_config(config, profile, card.fast, explicit)
    names = {f.name for f in dataclasses.fields(hyper_type)} - {"profile"}
    return hyper_type(**{k: v for k, v in settings.values.items() if k in names}, profile=settings.profile), settings


def values_config(name: str, values: dict[str, Any], doc: str = "", notes: dict[str, str] | None = None,
                  nullable: tuple[str, ...] = ()) -> type[dg.Config]:
    """A run-config class whose fields are `values`' keys, typed from and defaulting to the values (a chapter
    experiment's or a generator's book settings). A value of None makes an optional string (`str | None`, unset
    by default: e.g. the URL of another copy of a source file); a field named in `nullable` also takes null
    besides its value's type (e.g. stop_words: 'english' or none). `notes` describe fields (default: the book's
    value; an optional string: "unset by default")."""

    def annotation(field: str, value: Any) -> Any:
        if value is None:
            return str | None
        kind = list[type(value[0])] if isinstance(value, list) and value else type(value)
        return kind | None if field in nullable else kind

    def note(field: str, value: Any) -> str:
        return (notes or {}).get(field) or ("unset by default" if value is None else f"book: {value!r}")

    fields = {field: (annotation(field, value), pydantic.Field(default=value, description=note(field, value)))
              for field, value in values.items()}
    return pydantic.create_model(f"{_camel(name)}Config", __base__=dg.Config, __doc__=doc or None, **fields)
