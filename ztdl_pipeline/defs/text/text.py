"""features/<corpus>_text (cleaned text, tokens, label, split: the contract with group `embeddings`), the two
engineered SMS features and the names' character windows."""

import json

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.assets.base import asset_in, explicit_config, key, settings_metadata, versioned_asset
from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import text as catalog
from ztdl_pipeline.core import text_features as F
from ztdl_pipeline.resources.storage import Storage

SmsSpamTextConfig = values_config("sms_spam_text", catalog.SMS_SPAM_TEXT, "rows kept (stratified on the label; 0: all)")
MovieReviewsTextConfig = values_config("movie_reviews_text", catalog.MOVIE_REVIEWS_TEXT,
                                       "rows kept (stratified on the label; 0: all)")
NamesWindowsConfig = values_config("names_windows", catalog.NAMES_WINDOWS,
                                   "window length; names used, spread over the list (0: all)")


def features(name: str, ins: dict[str, tuple[str, str]], description: str, *parts, kinds=("pyarrow", "parquet")):
    """versioned_asset for features/<name> of group `text` (`ins`: argument -> (layer, name))."""
    return versioned_asset(*parts, key=key("features", name), ins={k: asset_in(*v) for k, v in ins.items()},
                           group_name="text", io_manager_key="parquet_io", kinds=set(kinds), description=description)


def resolved(context: dg.AssetExecutionContext, config: dg.Config, storage: Storage, fast: dict):
    """The config's values under the run's profile (`fast`: the catalogue's overrides; run config wins), each
    change logged; and the metadata recording the changes (group `embeddings` resolves its settings here too)."""
    from ztdl_pipeline.core.profile import resolve_config

    settings = resolve_config(config, storage.run_profile(), fast, explicit_config(context))
    return settings.values, {**settings_metadata(context, settings), "profile": settings.profile}


@features("sms_spam_text", {"raw": ("raw", "sms_spam")},
          "SMS messages: text, tokens (the book's Keras Tokenizer rules), label spam, the book's split "
          "(train_test_split random_state 0, 25 % test; fast profile: 1,200 messages)", catalog.SMS_SPAM_TEXT_FAST,
          kinds=("pandas", "parquet"))
def sms_spam_text(context: dg.AssetExecutionContext, config: SmsSpamTextConfig,  # type: ignore[valid-type]
                  storage: Storage, raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    values, adjusted = resolved(context, config, storage, catalog.SMS_SPAM_TEXT_FAST)
    out = F.sms_text(raw, values["rows"], values["seed"])
    return dg.Output(out, metadata={**F.frame_summary(out), **adjusted})


@features("movie_reviews_text", {"raw": ("raw", "movie_reviews")},
          "Rotten Tomatoes reviews without vote 'none' (14,049): text, tokens, label (LabelEncoder: fresh 0, "
          "rotten 1), the book's split (random_state 0, 25 % test; fast profile: 1,500 reviews)",
          catalog.MOVIE_REVIEWS_TEXT_FAST, kinds=("pandas", "parquet"))
def movie_reviews_text(context: dg.AssetExecutionContext, config: MovieReviewsTextConfig,  # type: ignore[valid-type]
                       storage: Storage, raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    values, adjusted = resolved(context, config, storage, catalog.MOVIE_REVIEWS_TEXT_FAST)
    out = F.movie_reviews_text(raw, values["rows"], values["seed"])
    return dg.Output(out, metadata={**F.frame_summary(out), **adjusted, "classes": json.dumps(out.attrs["classes"])})


@features("imdb_text", {"raw": ("raw", "imdb")},
          "IMDB reviews: text, tokens, label (1 = positive), the official train/test split, each split shuffled "
          "with seed 113 as Keras' imdb.load_data (fast profile: the raw asset keeps 200 reviews per split and "
          "label)", kinds=("pandas", "parquet"))
def imdb_text(raw: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    out = F.imdb_text(raw)
    return dg.Output(out, metadata=F.frame_summary(out))


@features("sms_spam_two_features", {"text": ("features", "sms_spam_text")},
          "ch8: the two engineered SMS features, count of the word 'free' and count of digits (float32 [2])")
def sms_spam_two_features(text: pd.DataFrame) -> dg.Output[pa.Table]:
    table, metadata = F.two_features_table(text)
    return dg.Output(table, metadata=metadata)


@features("names_windows", {"raw": ("raw", "names")},
          "ch8: 3-character windows of the lower-cased names (+ '\\n') and the next character as label; "
          "28 characters, ids in sorted order ('\\n' 0, '-' 1, 'a' 2 …): 32,016 windows", catalog.NAMES_WINDOWS_FAST)
def names_windows(context: dg.AssetExecutionContext, config: NamesWindowsConfig,  # type: ignore[valid-type]
                  storage: Storage, raw: pd.DataFrame) -> dg.Output[pa.Table]:
    values, adjusted = resolved(context, config, storage, catalog.NAMES_WINDOWS_FAST)
    table, metadata = F.names_table(raw["name"].tolist(), values["maxlen"], values["names"])
    return dg.Output(table, metadata={**metadata, **adjusted})


defs = dg.Definitions(assets=[sms_spam_text, movie_reviews_text, imdb_text, sms_spam_two_features, names_windows])
