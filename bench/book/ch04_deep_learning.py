"""Chapter 4 and its solutions (ch18), as the book's cells do it: moons with logistic regression and two deep
networks, iris softmax, the diabetes network and its random forest / SVC / naive Bayes comparison."""

from book_cells import Examples, arguments

args = arguments(__doc__, "iris.csv", "diabetes.csv")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from keras.layers import Dense, Input  # noqa: E402
from keras.models import Sequential  # noqa: E402
from keras.optimizers import Adam  # noqa: E402
from keras.utils import to_categorical  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.metrics import accuracy_score, classification_report, confusion_matrix  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.naive_bayes import GaussianNB  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

examples = Examples(args.profile)
data = args.data

# moons_logreg (ch4.moons_logistic_regression)
X, y = make_moons(n_samples=1000, noise=0.1, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=42)
model = Sequential()
model.add(Input(shape=(2,)))
model.add(Dense(1, activation="sigmoid"))
model.compile(Adam(learning_rate=0.05), "binary_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=examples.epochs(200), verbose=0)
results = model.evaluate(X_test, y_test, verbose=0)
examples.done("moons_logreg", test_accuracy=results[1])


def moons_deep(activation: str) -> tuple[float, float]:
    """ch4.moons_deep_relu / moons_deep_tanh: 4 and 2 hidden units, 100 epochs; predict_classes is gone in Keras 3"""
    model = Sequential()
    model.add(Input(shape=(2,)))
    model.add(Dense(4, activation=activation))
    model.add(Dense(2, activation=activation))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(Adam(learning_rate=0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(X_train, y_train, epochs=examples.epochs(100), verbose=0)
    y_train_pred = model.predict(X_train, verbose=0) > 0.5
    y_test_pred = model.predict(X_test, verbose=0) > 0.5
    return accuracy_score(y_train, y_train_pred), accuracy_score(y_test, y_test_pred)


train_accuracy, test_accuracy = moons_deep("relu")
examples.done("moons_deep", train_accuracy=train_accuracy, test_accuracy=test_accuracy)
train_accuracy, test_accuracy = moons_deep("tanh")
examples.done("moons_deep_tanh", train_accuracy=train_accuracy, test_accuracy=test_accuracy)

# iris_softmax (ch4.iris_softmax)
df = pd.read_csv(data / "iris.csv")
X = df.drop("species", axis=1)
target_names = df["species"].unique()
target_dict = {n: i for i, n in enumerate(target_names)}
y = df["species"].map(target_dict)
y_cat = to_categorical(y)
X_train, X_test, y_train, y_test = train_test_split(X.values, y_cat, test_size=0.2, random_state=0, stratify=y)
model = Sequential()
model.add(Input(shape=(4,)))
model.add(Dense(3, activation="softmax"))
model.compile(Adam(learning_rate=0.1), loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, validation_split=0.1, epochs=examples.epochs(30), verbose=0)
y_pred = model.predict(X_test, verbose=0)
y_test_class = np.argmax(y_test, axis=1)
y_pred_class = np.argmax(y_pred, axis=1)
classification_report(y_test_class, y_pred_class, zero_division=0)
confusion_matrix(y_test_class, y_pred_class)
examples.done("iris_softmax", test_accuracy=accuracy_score(y_test_class, y_pred_class))

# diabetes_fc (sol.ch4.ex1/ex2): standardised on all rows, as the book does
df = pd.read_csv(data / "diabetes.csv")
sc = StandardScaler()
X = sc.fit_transform(df.drop("Outcome", axis=1))
y = df["Outcome"].values
y_cat = to_categorical(y)
X_train, X_test, y_train, y_test = train_test_split(X, y_cat, random_state=22, test_size=0.2)
model = Sequential()
model.add(Input(shape=(8,)))
model.add(Dense(32, activation="relu"))
model.add(Dense(32, activation="relu"))
model.add(Dense(2, activation="softmax"))
model.compile(Adam(learning_rate=0.05), loss="categorical_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, epochs=examples.epochs(20), verbose=0, validation_split=0.1)
y_pred = model.predict(X_test, verbose=0)
y_test_class = np.argmax(y_test, axis=1)
y_pred_class = np.argmax(y_pred, axis=1)
confusion_matrix(y_test_class, y_pred_class)
examples.done("diabetes_fc", test_accuracy=accuracy_score(y_test_class, y_pred_class))

# diabetes_classic_ml (sol.ch4.ex3): the same split, three scikit-learn models as written
numbers = {}
for name, mod in (("random_forest", RandomForestClassifier()), ("svc", SVC()), ("naive_bayes", GaussianNB())):
    mod.fit(X_train, y_train[:, 1])
    y_pred = mod.predict(X_test)
    confusion_matrix(y_test_class, y_pred)
    numbers[f"{name}_accuracy"] = accuracy_score(y_test_class, y_pred)
examples.done("diabetes_classic_ml", **numbers)
