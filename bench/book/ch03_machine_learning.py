"""Chapter 3 and its solutions (ch17), as the book's cells do it: weight-height linear regression, user-visit
logistic regression with 3-fold cross-validation, the housing and HR-churn exercises."""

from book_cells import Examples, arguments, cross_val_score

args = arguments(__doc__, "weight-height.csv", "user_visit_duration.csv", "housing-data.csv", "HR_comma_sep.csv")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from keras.layers import Activation, Dense, Input  # noqa: E402
from keras.models import Sequential  # noqa: E402
from keras.optimizers import SGD, Adam  # noqa: E402
from sklearn.metrics import accuracy_score, confusion_matrix, precision_score, r2_score, recall_score  # noqa: E402
from sklearn.model_selection import KFold, train_test_split  # noqa: E402

examples = Examples(args.profile)
data = args.data

# weight_height_linreg (ch3.linear_regression_weight_height, _train_test_split): 40 epochs on all rows, then the
# same model 50 more on the train split
df = pd.read_csv(data / "weight-height.csv")
X = df[["Height"]].values
y_true = df["Weight"].values
model = Sequential()
model.add(Input(shape=(1,)))
model.add(Dense(1))
model.compile(Adam(learning_rate=0.8), "mean_squared_error")
model.fit(X, y_true, epochs=examples.epochs(40), verbose=0)
y_pred = model.predict(X, verbose=0)
X_train, X_test, y_train, y_test = train_test_split(X, y_true, test_size=0.2)
model.fit(X_train, y_train, epochs=examples.epochs(50), verbose=0)
y_train_pred = model.predict(X_train, verbose=0).ravel()
y_test_pred = model.predict(X_test, verbose=0).ravel()
examples.done("weight_height_linreg", train_r2=r2_score(y_train, y_train_pred), test_r2=r2_score(y_test, y_test_pred))

# visit_duration_logreg (ch3.logistic_regression_user_visit_duration, logreg_train_test_split,
# cross_validation_kfold, confusion_matrix_precision_recall)
df = pd.read_csv(data / "user_visit_duration.csv")
X = df[["Time (min)"]].values
y = df["Buy"].values


def build_logistic_regr():
    model = Sequential()
    model.add(Input(shape=(1,)))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(SGD(learning_rate=0.5), "binary_crossentropy", metrics=["accuracy"])
    return model


model = Sequential()
model.add(Input(shape=(1,)))
model.add(Dense(1))
model.add(Activation("sigmoid"))
model.compile(optimizer=SGD(learning_rate=0.5), loss="binary_crossentropy", metrics=["accuracy"])
model.fit(X, y, epochs=examples.epochs(25), verbose=0)
y_class_pred = model.predict(X, verbose=0) > 0.5
all_accuracy = accuracy_score(y, y_class_pred)
confusion_matrix(y, y_class_pred)
precision_score(y, y_class_pred)
recall_score(y, y_class_pred)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
params = model.get_weights()
model.set_weights([np.zeros(w.shape) for w in params])
model.fit(X_train, y_train, epochs=examples.epochs(25), verbose=0)
test_accuracy = accuracy_score(y_test, model.predict(X_test, verbose=0) > 0.5)
scores = cross_val_score(build_logistic_regr, X, y, cv=KFold(3, shuffle=True), epochs=examples.epochs(25))
examples.done("visit_duration_logreg", accuracy=all_accuracy, test_accuracy=test_accuracy, cv_mean=np.mean(scores))

# housing_linreg (sol.ch3.ex1): the raw features first, then rescaled (the run whose R² the book prints)
df = pd.read_csv(data / "housing-data.csv")
X = df[["sqft", "bdrms", "age"]].values
y = df["price"].values
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
model = Sequential()
model.add(Input(shape=(3,)))
model.add(Dense(1))
model.compile(Adam(learning_rate=0.8), "mean_squared_error")
model.fit(X_train, y_train, epochs=examples.epochs(20), verbose=0)
df["sqft1000"] = df["sqft"] / 1000.0
df["age10"] = df["age"] / 10.0
df["price100k"] = df["price"] / 1e5
X = df[["sqft1000", "bdrms", "age10"]].values
y = df["price100k"].values
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
model = Sequential()
model.add(Input(shape=(3,)))
model.add(Dense(1))
model.compile(Adam(learning_rate=0.1), "mean_squared_error")
model.fit(X_train, y_train, epochs=examples.epochs(20), verbose=0)
examples.done("housing_linreg", train_r2=r2_score(y_train, model.predict(X_train, verbose=0).ravel()),
              test_r2=r2_score(y_test, model.predict(X_test, verbose=0).ravel()))

# hr_churn (sol.ch3.ex2): hours / 100, dummies of department and salary, 1 epoch, then 5-fold CV of 10 epochs
df = pd.read_csv(data / "HR_comma_sep.csv")
df["average_montly_hours_100"] = df["average_montly_hours"] / 100.0
df_dummies = pd.get_dummies(df[["sales", "salary"]])
X = pd.concat([df[["satisfaction_level", "last_evaluation", "number_project", "time_spend_company", "Work_accident",
                   "promotion_last_5years", "average_montly_hours_100"]], df_dummies], axis=1).values.astype("float32")
y = df["left"].values
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)


def build_churn_regr():
    model = Sequential()
    model.add(Input(shape=(20,)))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(Adam(learning_rate=0.5), "binary_crossentropy", metrics=["accuracy"])
    return model


model = build_churn_regr()
model.fit(X_train, y_train, verbose=0)
y_test_pred = model.predict(X_test, verbose=0) > 0.5
confusion_matrix(y_test, y_test_pred)
scores = cross_val_score(build_churn_regr, X, y, cv=KFold(5, shuffle=True), epochs=examples.epochs(10))
examples.done("hr_churn", test_accuracy=accuracy_score(y_test, y_test_pred), cv_mean=np.mean(scores))
