"""The text domain (ch8: SMS spam, Rotten Tomatoes, baby names; ch22: the vocabulary sweep, IMDB): group `text`.

raw/<file> (raw.py) -> features/<...>_text, the contract with group `embeddings` (text.py) -> vocabularies,
padded id sequences, sparse bag-of-words / TF-IDF tables (vectors.py), with their checks (checks.py) -> the
cards' models / reports / exports (examples/defs.yaml; names.py for the generative names model) and the
vocabulary sweep (sweep.py). Settings, cards and the fast profile's overrides: ztdl_pipeline/catalog/text.py."""
