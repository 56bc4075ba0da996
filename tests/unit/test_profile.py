"""The profile is interpreted in one place: what each profile changes, and that explicit values win."""

from __future__ import annotations

import pytest

from ztdl_pipeline.core import profile, refs

CARD = {"epochs": 20, "batch_size": 16, "learning_rate": 0.01}
FAST = {"epochs": 5}


def test_book_profile_uses_the_card_values():
    settings = profile.resolve("book", CARD, FAST)
    assert settings.values == CARD
    assert settings.adjustments == {}
    assert set(settings.sources.values()) == {"card"}


def test_fast_profile_applies_its_overrides_and_reports_both_values():
    settings = profile.resolve("fast", CARD, FAST)
    assert settings.values["epochs"] == 5 and settings.values["batch_size"] == 16
    assert settings.adjustments == {"epochs": {"card": 20, "used": 5, "by": "fast profile"}}
    assert any("instead of the card's 20" in line for line in settings.notes())


def test_an_explicit_value_is_never_overridden_by_a_profile():
    settings = profile.resolve("fast", CARD, FAST, explicit={"epochs": 50})
    assert settings.values["epochs"] == 50
    assert settings.sources["epochs"] == "run config"
    assert "epochs" not in settings.adjustments
    assert any("epochs: 50 from run config" in line for line in settings.notes())


def test_an_override_that_names_no_setting_is_refused():
    with pytest.raises(ValueError, match="fast overrides \\['epoch'\\]"):
        profile.resolve("fast", CARD, {"epoch": 5})


def test_unknown_profile_names_the_choices():
    with pytest.raises(ValueError, match="choose one of book, fast"):
        profile.rules("quick")


def test_gate_threshold_per_profile():
    kwargs = {"book_value": 0.9, "tolerance": 0.05, "threshold": None, "fast_floor": 0.5}
    assert profile.gate_threshold("book", **kwargs) == pytest.approx(0.85)
    assert profile.gate_threshold("fast", **kwargs) == 0.5
    assert profile.gate_threshold("book", **{**kwargs, "threshold": 0.7}) == 0.7
    with pytest.raises(ValueError, match="prints no value"):
        profile.gate_threshold("book", **{**kwargs, "book_value": None})


def test_references_resolve_or_name_what_is_missing():
    assert refs.resolve("ztdl_pipeline.core.profile:rules") is profile.rules
    assert refs.name_of("ztdl_pipeline.core.profile:rules") == "rules"
    with pytest.raises(LookupError, match="has no 'nope'"):
        refs.resolve("ztdl_pipeline.core.profile:nope")
    with pytest.raises(LookupError, match="no module"):
        refs.resolve("ztdl_pipeline.core.nope:x")
    with pytest.raises(ValueError, match="package.module:name"):
        refs.resolve("ztdl_pipeline.core.profile.rules")


def test_resolve_config_reads_defaults_and_the_fields_a_user_set():
    import pydantic

    class Sweep(pydantic.BaseModel):
        epochs: int = 10
        rows: int = 1000

    assert profile.resolve_config(Sweep(), "fast", {"epochs": 2, "rows": 100}).values == {"epochs": 2, "rows": 100}
    settings = profile.resolve_config(Sweep(rows=300), "fast", {"epochs": 2, "rows": 100})
    assert settings.values == {"epochs": 2, "rows": 300} and settings.sources["rows"] == "run config"
    assert profile.resolve_config(Sweep(), "book", {"epochs": 2}).values == {"epochs": 10, "rows": 1000}


def test_a_run_config_value_equal_to_the_default_still_counts_as_explicit():
    """Dagster drops a run-config value equal to its default before building the config, so the asset passes
    the names its run config holds: asking for the book's 10 epochs under the fast profile gets 10."""
    import pydantic

    class Sweep(pydantic.BaseModel):
        epochs: int = 10

    assert profile.resolve_config(Sweep(), "fast", {"epochs": 2}).values["epochs"] == 2
    settings = profile.resolve_config(Sweep(), "fast", {"epochs": 2}, explicit_names={"epochs", "unknown"})
    assert settings.values["epochs"] == 10 and settings.sources["epochs"] == "run config"
