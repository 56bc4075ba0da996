"""What a run prints: INFO and above by default, with each run's start and end and any failed check, and every
Dagster event at `ZTDL_LOG_LEVEL=debug` (`python -m ztdl_pipeline.run --log-level debug`, `make run
LOG_LEVEL=debug`). The level is the default of the console logger's `log_level` config, so the launchpad can
still change it per run; the event log in the UI keeps every event whatever the console shows.

`setup(level)` runs where the code location loads, before anything warns: it silences the notices below
(exactly these messages of exactly these categories; every other warning stays) and TensorFlow's known
start-up noise (core/quiet_tensorflow.py).
"""

from __future__ import annotations

import logging
import warnings

import dagster as dg
from dagster._utils.log import create_console_logger

from ztdl_pipeline.core import quiet_tensorflow

# Dagster's notices about parts of its API this project uses on purpose: observable sources and their data
# versions (docs/lineage.md), and the group selections Dagster itself builds from `group:<name>`
KNOWN_WARNINGS = (
    (dg.BetaWarning, r"Function `observable_source_asset` is currently in beta"),
    (dg.BetaWarning, r"Parameter `execution_type` of function `AssetsDefinition.__init__` is currently in beta"),
    (dg.BetaWarning, r"Parameter `include_sources` of function `AssetSelection.groups` is currently in beta"),
    (dg.BetaWarning, r"Parameter `data_version` of initializer `Output.__init__` is currently in beta"),
)
# DEBUG-level Dagster events shown at every level: a run's start and end
MILESTONES = frozenset({dg.DagsterEventType.RUN_START, dg.DagsterEventType.RUN_SUCCESS,
                        dg.DagsterEventType.RUN_FAILURE, dg.DagsterEventType.RUN_CANCELED})


def setup(level: str) -> None:
    """Silence the known notices in this process (idempotent: warnings.filterwarnings drops duplicates)."""
    for category, message in KNOWN_WARNINGS:
        warnings.filterwarnings("ignore", message=message, category=category)
    quiet_tensorflow.install(level)


class _ThresholdOrMilestone(logging.Filter):
    def __init__(self, threshold: int):
        super().__init__()
        self.threshold = threshold

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= self.threshold:
            return True
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if event is None:
            return False
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            shown = not event.event_specific_data.passed
        else:
            shown = event.event_type in MILESTONES
        if shown:  # printed at the threshold it passed: a run's start is news, not a debug detail
            record.levelno, record.levelname = self.threshold, logging.getLevelName(self.threshold)
        return shown


def console_logger(level: str) -> dg.LoggerDefinition:
    """Dagster's colored console logger with `level` as its default threshold, run milestones always shown."""

    @dg.logger(config_schema={
        "log_level": dg.Field(str, default_value=level.upper(),
                              description="DEBUG shows every Dagster event; INFO (default) the steps' own messages, "
                                          "the run's start and end and failed checks"),
        "name": dg.Field(str, default_value="dagster")},
        description="The console: INFO by default ($ZTDL_LOG_LEVEL), run start and end and failed checks always")
    def _console(init_context: dg.InitLoggerContext) -> logging.Logger:
        threshold = logging.getLevelName(init_context.logger_config["log_level"].upper())
        if not isinstance(threshold, int):
            raise ValueError(f"console logger: unknown log_level {init_context.logger_config['log_level']!r}")
        logger = create_console_logger(init_context.logger_config["name"], logging.DEBUG)
        logger.addFilter(_ThresholdOrMilestone(threshold))
        return logger

    return _console
