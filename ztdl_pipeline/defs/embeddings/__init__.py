"""The embeddings domain (ch12: GloVe, analogies, TensorBoard projector, exercise 2 on Reuters; ch26
solutions): group `embeddings`, after group `text`.

Runs on the data mirror: features/movie_reviews_text_features + features/imdb_text_features -> models/word2vec_reviews_model
(vectors.py) -> features/{movie_reviews,imdb}_word2vec (matrices.py) -> reports/embeddings_word2vec_report
(reports.py). Needs configuration (not in the mirror; canonical URLs otherwise; raw.py says how):
raw/glove_6b_50d_raw -> models/glove_6b_50d_model -> features/*_glove -> reports/embeddings_glove_report; raw/reuters_raw ->
features/reuters_features, features/reuters_vocabulary_features -> models/reports/exports reuters_lstm_{random,word2vec,glove}
-> reports/reuters_embeddings_{word2vec,glove} (reuters.py). So
`group:embeddings and not key:"*glove*" and not key:"*reuters*"` is what the mirror alone can feed. Settings,
cards and the fast profile's overrides: ztdl_pipeline/catalog/embeddings.py."""
