"""Chapter 5 and its solutions (ch19), as the book's cells do it: banknotes with a random forest and an SGD
logistic regression, its learning-rate and batch-size sweeps, and the wines exercises."""

from book_cells import Examples, arguments

args = arguments(__doc__, "banknotes.csv", "wines.csv")
import pandas as pd  # noqa: E402
from keras import backend as K  # noqa: E402
from keras.layers import Dense, Input  # noqa: E402
from keras.models import Model, Sequential  # noqa: E402
from keras.optimizers import SGD, RMSprop  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.model_selection import cross_val_score, train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

examples = Examples(args.profile)
data = args.data

# banknotes_random_forest (ch5.banknotes_random_forest): cross_val_score's default was 3 folds in the book's 0.19
df = pd.read_csv(data / "banknotes.csv")
X = df.drop("class", axis=1).values
y = df["class"].values
model = RandomForestClassifier()
cv_scores = cross_val_score(model, X, y, cv=3)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=42)
model.fit(X_train, y_train)
examples.done("banknotes_random_forest", cv_mean=cv_scores.mean(), test_accuracy=model.score(X_test, y_test))

# banknotes_logreg (ch5.banknotes_keras_logreg_sgd)
model = Sequential()
model.add(Input(shape=(4,)))
model.add(Dense(1, kernel_initializer="ones", activation="sigmoid"))
model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X_train, y_train, batch_size=16, epochs=examples.epochs(20), verbose=0)
result = model.evaluate(X_test, y_test, verbose=0)
examples.done("banknotes_logreg", test_accuracy=result[1])

# banknotes_sweeps (ch5.banknotes_learning_rate_sweep, banknotes_batch_size_sweep)
dflist = []
for lr in [0.01, 0.05, 0.1, 0.5]:
    K.clear_session()
    model = Sequential()
    model.add(Input(shape=(4,)))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=SGD(learning_rate=lr), metrics=["accuracy"])
    h = model.fit(X_train, y_train, batch_size=16, epochs=examples.epochs(10), verbose=0)
    dflist.append(pd.DataFrame(h.history, index=h.epoch))
lr_final = dflist[-1]["accuracy"].iloc[-1]
dflist = []
for batch_size in [1, 4, 16, 32, 64, 128]:
    K.clear_session()
    model = Sequential()
    model.add(Input(shape=(4,)))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])
    h = model.fit(X_train, y_train, batch_size=batch_size, epochs=examples.epochs(20), verbose=0)
    dflist.append(pd.DataFrame(h.history, index=h.epoch))
examples.done("banknotes_sweeps", lr_0_5_final_accuracy=lr_final,
              batch_1_final_accuracy=dflist[0]["accuracy"].iloc[-1])

# wines_deep (sol.ch5.ex1): dummies, standardised on all rows, validation_split 0.2
df = pd.read_csv(data / "wines.csv")
y = df["Class"]
y_cat = pd.get_dummies(y)
X = df.drop("Class", axis=1)
sc = StandardScaler()
Xsc = sc.fit_transform(X)
K.clear_session()
model = Sequential()
model.add(Input(shape=(13,)))
model.add(Dense(5, kernel_initializer="he_normal", activation="relu"))
model.add(Dense(3, activation="softmax"))
model.compile(RMSprop(learning_rate=0.1), "categorical_crossentropy", metrics=["accuracy"])
h = model.fit(Xsc, y_cat.values.astype("float32"), batch_size=8, epochs=examples.epochs(10), verbose=0,
              validation_split=0.2)
examples.done("wines_deep", val_accuracy=h.history["val_accuracy"][-1])

# wines_2d (sol.ch5.ex2): 8-5-2-3, then the 2-node layer's output for every wine (K.function in the book)
K.clear_session()
model = Sequential()
model.add(Input(shape=(13,)))
model.add(Dense(8, kernel_initializer="he_normal", activation="tanh"))
model.add(Dense(5, kernel_initializer="he_normal", activation="tanh"))
model.add(Dense(2, kernel_initializer="he_normal", activation="tanh"))
model.add(Dense(3, activation="softmax"))
model.compile(RMSprop(learning_rate=0.05), "categorical_crossentropy", metrics=["accuracy"])
h = model.fit(Xsc, y_cat.values.astype("float32"), batch_size=16, epochs=examples.epochs(20), verbose=0)
features = Model(model.inputs, model.layers[2].output).predict(Xsc, verbose=0)
examples.done("wines_2d", train_accuracy=h.history["accuracy"][-1], features=features.shape[1])

# wines_2d_functional (sol.ch5.ex3): the same network with the functional API
K.clear_session()
inputs = Input(shape=(13,))
x = Dense(8, kernel_initializer="he_normal", activation="tanh")(inputs)
x = Dense(5, kernel_initializer="he_normal", activation="tanh")(x)
second_to_last = Dense(2, kernel_initializer="he_normal", activation="tanh")(x)
outputs = Dense(3, activation="softmax")(second_to_last)
model = Model(inputs=inputs, outputs=outputs)
model.compile(RMSprop(learning_rate=0.05), "categorical_crossentropy", metrics=["accuracy"])
h = model.fit(Xsc, y_cat.values.astype("float32"), batch_size=16, epochs=examples.epochs(20), verbose=0)
features = Model(inputs, second_to_last).predict(Xsc, verbose=0)
examples.done("wines_2d_functional", train_accuracy=h.history["accuracy"][-1], features=features.shape[1])
