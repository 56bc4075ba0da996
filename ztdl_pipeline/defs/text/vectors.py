"""The text tables models read: sparse bag-of-words / TF-IDF counts, vocabulary tables of the train splits and
padded id sequences. Vectorizers and vocabularies are fitted on the train split only."""

import dagster as dg
import pandas as pd
import pyarrow as pa

from ztdl_pipeline.assets.config import values_config
from ztdl_pipeline.catalog import text as catalog
from ztdl_pipeline.core import text_features as F
from ztdl_pipeline.defs.text.text import features

# stop_words also takes null (no stop-word list)
SmsSpamBowConfig = values_config("sms_spam_bow", catalog.SMS_SPAM_BOW, nullable=("stop_words",))
MovieReviewsTfidfConfig = values_config("movie_reviews_tfidf", catalog.MOVIE_REVIEWS_TFIDF, nullable=("stop_words",))
MovieReviewsVocabularyConfig = values_config("movie_reviews_vocabulary", catalog.MOVIE_REVIEWS_VOCABULARY)
ImdbVocabularyConfig = values_config("imdb_vocabulary", catalog.IMDB_VOCABULARY)
MovieReviewsSequencesConfig = values_config("movie_reviews_sequences", catalog.MOVIE_REVIEWS_SEQUENCES)
ImdbSequencesConfig = values_config("imdb_sequences", catalog.IMDB_SEQUENCES)


def _output(result: tuple) -> dg.Output:
    value, metadata = result
    return dg.Output(value, metadata=metadata)


@features("sms_spam_bow", {"text": ("features", "sms_spam_text")},
          "ch8: CountVectorizer(max_features=3000, stop_words='english') counts, fitted on the train split, "
          "stored sparse (indices list<int32>, values list<float32>) with the vocabulary in the table metadata")
def sms_spam_bow(config: SmsSpamBowConfig, text: pd.DataFrame) -> dg.Output[pa.Table]:  # type: ignore[valid-type]
    return _output(F.vectorized_table(text, "count", config.max_features, config.stop_words, config.fit_on,
                                      classes=["ham", "spam"]))


@features("movie_reviews_tfidf", {"text": ("features", "movie_reviews_text")},
          "ch8: TfidfVectorizer(max_features=10000, stop_words='english') fitted on the train split, sparse "
          "indices/values columns; vocabulary and idf weights in the table metadata")
def movie_reviews_tfidf(config: MovieReviewsTfidfConfig, text: pd.DataFrame) -> dg.Output[pa.Table]:  # type: ignore[valid-type]
    return _output(F.vectorized_table(text, "tfidf", config.max_features, config.stop_words, config.fit_on))


@features("movie_reviews_vocabulary", {"text": ("features", "movie_reviews_text")},
          "Vocabulary table of the Rotten Tomatoes train split: id, token, count; 0 padding, 1 [UNK], then "
          "by count (TextVectorization order); 10,000 ids as the book's Tokenizer(num_words=10000)",
          kinds=("pandas", "parquet"))
def movie_reviews_vocabulary(config: MovieReviewsVocabularyConfig,  # type: ignore[valid-type]
                             text: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    return _output(F.train_vocabulary(text, config.max_tokens))


@features("imdb_vocabulary", {"text": ("features", "imdb_text"), "word_index": ("raw", "imdb_word_index")},
          "Vocabulary table of the IMDB train split (20,000 ids as the book's num_words=20000), with its "
          "overlap with Keras' imdb_word_index top words", kinds=("pandas", "parquet"))
def imdb_vocabulary(config: ImdbVocabularyConfig, text: pd.DataFrame,  # type: ignore[valid-type]
                    word_index: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    vocabulary, metadata = F.train_vocabulary(text, config.max_tokens)
    return dg.Output(vocabulary, metadata={**metadata, "share_in_keras_word_index_top": F.keras_overlap(
        vocabulary, word_index, config.max_tokens)})


@features("movie_reviews_sequences", {"text": ("features", "movie_reviews_text"),
                                      "vocabulary": ("features", "movie_reviews_vocabulary")},
          "Rotten Tomatoes reviews as padded id sequences (fixed_size_list<int32>[49], 'pre' padding and "
          "truncation as pad_sequences), [UNK] = 1 for words outside the 10,000-id vocabulary")
def movie_reviews_sequences(config: MovieReviewsSequencesConfig, text: pd.DataFrame,  # type: ignore[valid-type]
                            vocabulary: pd.DataFrame) -> dg.Output[pa.Table]:
    return _output(F.sequence_table(text, vocabulary, config.maxlen, config.padding, config.truncating))


@features("imdb_sequences", {"text": ("features", "imdb_text"), "vocabulary": ("features", "imdb_vocabulary")},
          "IMDB reviews as padded id sequences (fixed_size_list<int32>[80], 'pre' padding and truncation)")
def imdb_sequences(config: ImdbSequencesConfig, text: pd.DataFrame,  # type: ignore[valid-type]
                   vocabulary: pd.DataFrame) -> dg.Output[pa.Table]:
    return _output(F.sequence_table(text, vocabulary, config.maxlen, config.padding, config.truncating))


defs = dg.Definitions(assets=[sms_spam_bow, movie_reviews_tfidf, movie_reviews_vocabulary, imdb_vocabulary,
                              movie_reviews_sequences, imdb_sequences])
