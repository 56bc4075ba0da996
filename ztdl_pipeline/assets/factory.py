"""The names the domains not yet written as cards use (vision, text, timeseries, embeddings, transfer).

The building blocks live in assets/{base,raw,features,config,family,models,reports,exports,chain}.py; this
module re-exports them and keeps the hand-written run-config classes (with `fast_epochs`) working until those
domains move into the catalogue. Tabular and serving no longer use it.
"""

from __future__ import annotations

import pydantic

from ztdl_pipeline.assets import config as _config
from ztdl_pipeline.assets.base import data_versions, versioned_asset  # noqa: F401
from ztdl_pipeline.assets.chain import card_assets
from ztdl_pipeline.assets.exports import export_asset, export_reload_check, publish_gated_export  # noqa: F401
from ztdl_pipeline.assets.family import TABULAR, Family, raw_name  # noqa: F401
from ztdl_pipeline.assets.features import table_features_checks  # noqa: F401
from ztdl_pipeline.assets.models import model_asset as _model_asset
from ztdl_pipeline.assets.models import model_data_version  # noqa: F401
from ztdl_pipeline.assets.raw import raw_file_asset  # noqa: F401
from ztdl_pipeline.assets.reports import FAMILIES, export_gate_check, report_asset  # noqa: F401
from ztdl_pipeline.resources.compute import TensorFlowCompute  # noqa: F401
from ztdl_pipeline.resources.storage import Storage  # noqa: F401

_raw_name = raw_name


class TrainingConfig(_config.TrainingConfig):
    """A hand-written run config: the book's values as defaults and `fast_epochs` for the fast profile."""

    fast_epochs: int = 5  # epochs under the fast profile

    @pydantic.model_validator(mode="after")
    def _valid_fast(self):
        from ztdl_pipeline.core.specs import setting_problems

        problems = setting_problems({"fast_epochs": self.fast_epochs})
        if problems:
            raise ValueError("invalid training settings: " + "; ".join(problems))
        return self

    def resolve(self, profile: str):
        """The hyper-parameters of a run under `profile`, through core/profile.py: the fast profile caps epochs
        at `fast_epochs` and folds at 2, unless the run config set them."""
        from ztdl_pipeline.core.profile import resolve
        from ztdl_pipeline.core.specs import Hyper

        card = {name: getattr(self, name) for name in _config.TrainingConfig.model_fields}
        fast = {"epochs": min(self.epochs, self.fast_epochs),
                "cv_folds": min(self.cv_folds, 2) if self.cv_folds else 0,
                "cv_epochs": min(self.cv_epochs or self.epochs, self.fast_epochs)}
        explicit = {name: getattr(self, name) for name in self.model_fields_set if name in card}
        values = resolve(profile, card, fast, explicit).values
        return Hyper(**values, profile=profile)


def _legacy_resolve(config, card, profile, explicit):
    return config.resolve(profile), None


def model_asset(example, group: str, config_cls: type[TrainingConfig], family: Family = TABULAR):
    return _model_asset(example, group, family, config_cls=config_cls, resolve=_legacy_resolve)


def example_assets(example, group: str, config_cls: type[TrainingConfig], family: Family = TABULAR):
    """models/<x>, reports/<x>, exports/<x> and their checks for one example with a hand-written config."""
    return card_assets(example, group, family, model=model_asset(example, group, config_cls, family))
