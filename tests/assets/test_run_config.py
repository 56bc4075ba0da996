"""Run config generated from the cards: the launchpad's defaults are the book's values, the fast profile changes
only what the user did not set, and every change is logged and recorded with both values."""

from __future__ import annotations

import dagster as dg

from ztdl_pipeline.catalog import card

MODEL = dg.AssetKey(["models", "banknotes_logreg_model"])


def _train(instance, run_config=None) -> tuple[dict, str]:
    """The model's materialization metadata and the run's log text."""
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    result = dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                            selection=dg.AssetSelection.assets(MODEL), run_config=run_config or {})
    assert result.success
    log = "\n".join(entry.user_message for entry in instance.all_logs(result.run_id))
    return result.asset_materializations_for_node("models__banknotes_logreg_model")[0].metadata, log


def test_fast_profile_changes_are_recorded_and_an_explicit_value_wins_even_at_its_default(data_env):
    from ztdl_pipeline.definitions import ALL_ASSETS, ALL_CHECKS, resources

    book = card("banknotes_logreg")
    assert book.fast["epochs"] != book.hyper["epochs"]  # the case this test is about
    instance = dg.DagsterInstance.ephemeral()
    assert dg.materialize([*ALL_ASSETS, *ALL_CHECKS], resources=resources(), instance=instance,
                          selection=dg.AssetSelection.assets(MODEL).upstream() - dg.AssetSelection.assets(MODEL)).success

    smoke, log = _train(instance)
    assert smoke["epochs"].value == book.fast["epochs"]
    assert smoke["profile_adjustments"].value == {  # JSON metadata
        "epochs": {"card": book.hyper["epochs"], "used": book.fast["epochs"], "by": "fast profile"}}
    assert f"epochs: {book.fast['epochs']} instead of the card's {book.hyper['epochs']} (fast profile)" in log

    # the book's own value, asked for explicitly: Dagster drops it as a default, the asset still honours it
    asked, log = _train(instance, {"ops": {"models__banknotes_logreg_model": {"config": {"epochs": book.hyper["epochs"]}}}})
    assert asked["epochs"].value == book.hyper["epochs"]
    assert asked["settings_sources"].value["epochs"] == "run config"
    assert asked["profile_adjustments"].value == {}
    assert f"epochs: {book.hyper['epochs']} from run config" in log


def test_the_launchpad_shows_the_books_values_as_typed_defaults():
    from ztdl_pipeline.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    schema = job.run_config_schema.config_type.fields["ops"].config_type.fields["models__banknotes_logreg_model"]
    fields = schema.config_type.fields["config"].config_type.fields
    book = card("banknotes_logreg")
    for name, value in book.hyper.items():
        assert fields[name].default_value == value, name
    def type_name(field) -> str:  # Dagster wraps a field with a default in Noneable
        return getattr(field.config_type, "inner_type", field.config_type).key

    assert (type_name(fields["epochs"]), type_name(fields["optimizer"])) == ("IntSourceType", "StringSourceType")
    assert type_name(fields["learning_rate"]) == "Float"
    assert "fast profile: 5" in fields["epochs"].description


def test_optional_strings_are_typed_and_unset_by_default():
    """values_config types a None value as an optional string (a source's other copy) and a `nullable` field as its
    value's type or null; the launchpad shows them as strings with their defaults and descriptions."""
    import pydantic
    import pytest

    from ztdl_pipeline.assets.base import key
    from ztdl_pipeline.assets.config import values_config
    from ztdl_pipeline.definitions import defs

    ops = defs.resolve_implicit_global_asset_job_def().run_config_schema.config_type.fields["ops"].config_type.fields

    def fields(layer: str, name: str) -> dict:
        return ops["__".join(key(layer, name).path)].config_type.fields["config"].config_type.fields

    glove, bow = fields("raw", "glove_6b_50d"), fields("features", "sms_spam_bow")
    for field in (*(glove[name] for name in ("path", "url", "sha256")), *fields("raw", "mnist").values()):
        assert field.config_type.inner_type.key == "StringSourceType" and field.default_value is None
        assert field.description and not field.description.startswith("book:")
    assert (glove["member"].default_value, bow["stop_words"].default_value) == ("glove.6B.50d.txt", "english")

    config = values_config("source", {"url": None, "member": "a.txt", "stop_words": "english"},
                           nullable=("stop_words",))
    assert config().model_dump() == {"url": None, "member": "a.txt", "stop_words": "english"}
    assert config(url="file:///copy.zip", stop_words=None).model_dump()["stop_words"] is None
    for wrong in ({"url": 3}, {"member": None}):
        with pytest.raises(pydantic.ValidationError):
            config(**wrong)
