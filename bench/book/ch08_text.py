"""Chapter 8, as the book's cells do it: SMS spam with two features and a bag of words, Rotten Tomatoes with
TF-IDF and an embedding LSTM, the baby-names character LSTM. IMDB (sol.ch8.ex2) is not written here: its cells
load Keras' pre-tokenized imdb.npz, which is not on this machine. Keras 3 no longer ships the book's Tokenizer:
bench/text_tokenize.py's BookTokenizer re-implements it."""

import re
import sys
from pathlib import Path

from book_cells import Examples, arguments

args = arguments(__doc__, "sms_spam.csv", "movie_reviews.csv", "names.txt")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402  (after the arguments: a missing data file fails before the slow imports)
import pandas as pd  # noqa: E402
from keras.layers import LSTM, Dense, Embedding, Input  # noqa: E402
from keras.models import Model, Sequential  # noqa: E402
from keras.utils import pad_sequences, to_categorical  # noqa: E402
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import LabelEncoder  # noqa: E402
from text_tokenize import BookTokenizer as Tokenizer  # noqa: E402

examples = Examples(args.profile)


def split_fit_eval(X, y, model=None, epochs=10, random_state=0):
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=random_state)
    if not model:
        model = Sequential()
        model.add(Input(shape=(X.shape[1],)))
        model.add(Dense(1, activation="sigmoid"))
        model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    h = model.fit(X_train, y_train, epochs=examples.epochs(epochs), verbose=0)
    loss, acc = model.evaluate(X_test, y_test, verbose=0)
    return loss, acc, model, h


# sms_two_features (ch8.sms_spam_two_features)
df = pd.read_csv(args.data / "sms_spam.csv")
y = df["spam"].values
docs = df["message"].str.lower()
df["free"] = docs.apply(lambda x: x.split().count("free"))
df["num_digits"] = docs.apply(lambda x: len(re.findall("[0-9]", x)))
loss, acc, model, h = split_fit_eval(df[["free", "num_digits"]].values, y)
examples.done("sms_two_features", test_accuracy=acc)

# sms_bow (ch8.sms_spam_bow_countvectorizer)
vocab_size = 3000
vect = CountVectorizer(decode_error="ignore", stop_words="english", lowercase=True, max_features=vocab_size)
X = vect.fit_transform(df["message"])
Xd = np.asarray(X.todense())
loss, acc, model, h = split_fit_eval(Xd, y)
weights = pd.Series(model.get_weights()[0].ravel(), index=vect.get_feature_names_out()).sort_values(ascending=False)
examples.done("sms_bow", test_accuracy=acc)

# rt_tfidf (ch8.rotten_tomatoes_tfidf): the dense matrix, as the book's .todense()
df = pd.read_csv(args.data / "movie_reviews.csv")
df = df[df["vote"] != "none"]
y = LabelEncoder().fit_transform(df["vote"])
vect = TfidfVectorizer(decode_error="ignore", stop_words="english", max_features=10000)
X = vect.fit_transform(df["review"])
Xd = np.asarray(X.todense())
loss, acc, model, h = split_fit_eval(Xd, y, epochs=30)
examples.done("rt_tfidf", test_accuracy=acc)
del X, Xd

# rt_lstm (ch8.rotten_tomatoes_embedding_lstm)
vocab_size = 10000
tokenizer = Tokenizer(num_words=vocab_size)
tokenizer.fit_on_texts(df["review"])
sequences = tokenizer.texts_to_sequences(df["review"])
maxlen = max(len(seq) for seq in sequences)
X = pad_sequences(sequences, maxlen=maxlen)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
model = Sequential()
model.add(Input(shape=(maxlen,)))
model.add(Embedding(input_dim=vocab_size, output_dim=16))
model.add(LSTM(32))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(X_train, y_train, batch_size=128, epochs=examples.epochs(8), validation_split=0.2, verbose=0)
loss, acc = model.evaluate(X_test, y_test, batch_size=32, verbose=0)
examples.done("rt_lstm", test_accuracy=acc)

# names_char_lstm (ch8.baby_names_char_lstm): windows of 3 characters -> the next one, then sampled names
names = [line.lower() + "\n" for line in (args.data / "names.txt").read_text().splitlines() if line]
chars = set("".join(names))
vocab_size = len(chars)
char_to_idx = {c: i for i, c in enumerate(chars)}
inds_to_char = {i: c for c, i in char_to_idx.items()}
int_names = [[char_to_idx[c] for c in name] for name in names]
maxlen = 3
name_parts, next_chars = [], []
for name in int_names:
    for i in range(0, len(name) - maxlen):
        name_parts.append(name[i: i + maxlen])
        next_chars.append(name[i + maxlen])
X = pad_sequences(name_parts, maxlen=maxlen)
y = to_categorical(next_chars, vocab_size)
inputs = Input(shape=(maxlen,))
x = Embedding(input_dim=vocab_size, output_dim=5)(inputs)
x = LSTM(8)(x)
outputs = Dense(vocab_size, activation="softmax")(x)
model = Model(inputs=inputs, outputs=outputs)
model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
h = model.fit(X, y, epochs=examples.epochs(20), verbose=0)


def sample(p, diversity=1.0):
    p1 = np.asarray(p).astype("float64")
    p1 = np.log(p1) / diversity
    e_p1 = np.exp(p1)
    s = np.sum(e_p1)
    p1 = e_p1 / s
    return np.argmax(np.random.multinomial(1, p1 / p1.sum(), 1))


def complete_name(name, diversity=1, max_name_len=15):
    name = name.lower()
    while not name.endswith("\n") and len(name) < max_name_len:
        x = pad_sequences([[char_to_idx[c] for c in name[-maxlen:]]], maxlen=maxlen)
        name += inds_to_char[sample(model.predict(x, verbose=0)[0], diversity)]
    return name


generated = [complete_name("jen") for _ in range(10)]
examples.done("names_char_lstm", train_accuracy=h.history["accuracy"][-1])
