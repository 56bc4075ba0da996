"""Chapter 10's small digits network (ch10.digits_small_fc), as the book's cells do it. The male/female
exercise (sol.ch10.ex1) is not written here: its cells read a picture folder through Keras' removed
ImageDataGenerator."""

from book_cells import Examples, arguments

args = arguments(__doc__)
from keras.layers import Dense, Input  # noqa: E402  (after the arguments: bad arguments fail before the slow imports)
from keras.models import Sequential  # noqa: E402
from keras.utils import to_categorical  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

examples = Examples(args.profile)

# digits_small_fc
digits = load_digits()
X, y = digits.data, digits.target
X_sc = X / 16.0
y_cat = to_categorical(y, 10)
X_train, X_test, y_train, y_test = train_test_split(X_sc, y_cat, test_size=0.3, random_state=0, stratify=y)
model = Sequential()
model.add(Input(shape=(64,)))
model.add(Dense(16, activation="relu"))
model.add(Dense(10, activation="softmax"))
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=examples.epochs(100), verbose=0)
train_accuracy = model.evaluate(X_train, y_train, verbose=0)[1]
test_accuracy = model.evaluate(X_test, y_test, verbose=0)[1]
examples.done("digits_small_fc", train_accuracy=train_accuracy, test_accuracy=test_accuracy)
