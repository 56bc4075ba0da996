"""models/names_char_lstm_model and reports/names_char_lstm_report: the character-level LSTM of the baby names generates
names, it does not classify, so its card (catalog/text.NAMES_CARD) has a model and a report but no export."""

import dagster as dg

from ztdl_pipeline.assets.families.text import TEXT
from ztdl_pipeline.assets.models import model_asset
from ztdl_pipeline.assets.reports import report_asset
from ztdl_pipeline.catalog.text import NAMES_CARD

defs = dg.Definitions(assets=[model_asset(NAMES_CARD, "text", TEXT), report_asset(NAMES_CARD, "text", TEXT)])
