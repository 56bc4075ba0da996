"""Chapter 1, the book's first model (ch1.first_model_make_circles, L1634–2039), as the book's cells do it."""

from book_cells import Examples, arguments

args = arguments(__doc__)
import keras  # noqa: E402  (after the arguments: a missing data file fails before the slow imports)
from keras.layers import Dense  # noqa: E402
from keras.models import Sequential  # noqa: E402
from keras.optimizers import SGD  # noqa: E402
from sklearn.datasets import make_circles  # noqa: E402

examples = Examples(args.profile)

# circles_shallow
X, y = make_circles(n_samples=1000, noise=0.1, factor=0.2, random_state=0)
model = Sequential()
model.add(keras.Input(shape=(2,)))
model.add(Dense(4, activation="tanh"))
model.add(Dense(1, activation="sigmoid"))
model.compile(optimizer=SGD(learning_rate=0.5), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X, y, epochs=examples.epochs(20), verbose=0)
loss, accuracy = model.evaluate(X, y, verbose=0)
examples.done("circles_shallow", train_accuracy=accuracy)
