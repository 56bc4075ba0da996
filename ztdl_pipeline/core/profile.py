"""Run profiles, interpreted in one place.

A profile says how a run differs from the book: `book` uses the card's values (the book's), `fast` applies
the card's fast overrides (few epochs, sub-sampled rows) for tests and smoke runs. `rules(profile)` is the
only function that gives a profile name meaning; everything else asks it (settings, gate threshold, storage
root). Explicit run-config values always win: a profile changes only values the user did not set, and every
change it makes is reported (`Settings.adjustments`, logged and recorded in metadata).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

PROFILES = ("book", "fast")


@dataclass(frozen=True)
class ProfileRules:
    name: str
    applies_fast_overrides: bool  # a card's `fast` values replace its book values (unless set explicitly)
    gate: str  # "book": book value − tolerance (or the card's threshold); "floor": the card's fast floor
    storage_subfolder: str  # "" for the storage root itself; profiles never share an output folder
    cron_groups: tuple[str, ...] = ()  # groups retrained on a schedule, not on every upstream change (hours)


def rules(profile: str) -> ProfileRules:
    """What a profile name means. The one place that interprets it."""
    if profile == "book":
        return ProfileRules("book", applies_fast_overrides=False, gate="book", storage_subfolder="",
                            cron_groups=("vision", "transfer", "embeddings", "tuned"))
    if profile == "fast":
        # searches (group tuned) run when asked or weekly, never on every upstream change
        return ProfileRules("fast", applies_fast_overrides=True, gate="floor", storage_subfolder="fast",
                            cron_groups=("tuned",))
    raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)} "
                     "(set ZTDL_PROFILE or the run config field resources.storage.config.profile)")


@dataclass(frozen=True)
class Settings:
    """The values a run uses, and where each came from."""

    profile: str
    values: dict[str, Any]
    sources: dict[str, str]  # field -> "card" | "<profile> profile" | "run config"
    adjustments: dict[str, dict[str, Any]] = field(default_factory=dict)  # field -> {"card": v, "used": v, "by": ...}

    def notes(self) -> list[str]:
        """One log line per value the profile changed, and one per explicit value it did not touch."""
        lines = [f"{name}: {change['used']!r} instead of the card's {change['card']!r} ({change['by']})"
                 for name, change in self.adjustments.items()]
        lines += [f"{name}: {self.values[name]!r} from run config (the {self.profile} profile leaves it as set)"
                  for name, source in self.sources.items() if source == "run config"]
        return lines


def resolve(profile: str, card: Mapping[str, Any], fast: Mapping[str, Any],
            explicit: Mapping[str, Any] | None = None) -> Settings:
    """The settings of one run: the card's values, the profile's overrides where the user set nothing, and
    the user's explicit run-config values, which are never overridden."""
    rule = rules(profile)
    explicit = dict(explicit or {})
    unknown = sorted(set(fast) - set(card))
    if unknown:
        raise ValueError(f"fast overrides {unknown} name no setting of the card ({sorted(card)})")
    values, sources, adjustments = {}, {}, {}
    for name, book_value in card.items():
        if name in explicit:
            values[name], sources[name] = explicit[name], "run config"
        elif rule.applies_fast_overrides and name in fast and fast[name] != book_value:
            values[name], sources[name] = fast[name], f"{rule.name} profile"
            adjustments[name] = {"card": book_value, "used": fast[name], "by": f"{rule.name} profile"}
        else:
            values[name], sources[name] = book_value, "card"
    return Settings(profile=rule.name, values=values, sources=sources, adjustments=adjustments)


def gate_threshold(profile: str, *, book_value: float | None, tolerance: float, threshold: float | None,
                   fast_floor: float, name: str = "") -> float:
    """The bar a model must clear to be exported under `profile`."""
    if rules(profile).gate == "floor":
        return fast_floor
    if threshold is not None:
        return threshold
    if book_value is None:
        raise ValueError(f"{name}: the book prints no value for the gate metric and the card sets no threshold")
    return book_value - tolerance


def gate_basis(profile: str, tolerance: float, threshold: float | None) -> str:
    """How the threshold was set, in words, for reports."""
    if rules(profile).gate == "floor":
        return "fast-profile floor"
    return "see Notes" if threshold is not None else f"book value − {tolerance}"


def resolve_config(config: Any, profile: str, fast: Mapping[str, Any], explicit_names: Iterable[str] = ()
                   ) -> Settings:
    """`resolve` for a pydantic model (a Dagster run config): its class defaults are the card's values and the
    fields the user set are explicit: `model_fields_set`, plus `explicit_names` (Dagster drops a value equal to
    its default before building the config, so the caller passes the names its run config holds)."""
    defaults = {name: info.get_default(call_default_factory=True)
                for name, info in type(config).model_fields.items()}
    names = set(config.model_fields_set) | (set(explicit_names) & set(defaults))
    explicit = {name: getattr(config, name) for name in names}
    return resolve(profile, defaults, fast, explicit)
