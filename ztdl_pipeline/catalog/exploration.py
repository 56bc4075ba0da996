"""ch2's data exploration: one report per data set ch2 explores (reports/<dataset>_exploration_report, made by
assets/chapters.experiment_asset from the raw asset, no new download), and every number the book prints about
it. catalog/tabular_chapters adds EXPLORATIONS to its EXPERIMENTS (tabular group) and catalog/timeseries
SERIES_EXPLORATIONS to its own (timeseries group), so the numbers reach the results table through their
REPORT_NUMBERS. Pure computation (pandas' describe, counts, correlations): ours must
equal the book's printed digits."""

from __future__ import annotations

from ztdl_pipeline.core.image_specs import Experiment
from ztdl_pipeline.core.report import BookNumber as B

AT = "ztdl_pipeline.core.exploration:"

TITANIC_BOOK = (
    B("rows", "total", 891, "L2211 'RangeIndex: 891 entries'"),
    B("non_null", "Age", 714, "L2211–2227 df.info()"), B("non_null", "Cabin", 204, "L2211–2227 df.info()"),
    B("non_null", "Embarked", 889, "L2211–2227 df.info()"),
    B("Survived", "mean", 0.383838, "L2236–2244 describe()"),
    B("Age", "mean", 29.69911764705882, "L2491"), B("Fare", "mean", 32.204208, "L2236–2244 describe()"),
    B("Fare", "max", 512.3292, "L2236–2244 describe()"),
    B("Survived", "count_0", 549, "L2430"), B("Survived", "count_1", 342, "L2431"),
    B("Pclass", "count_3", 491, "L2442"), B("Pclass", "count_1", 216, "L2443"), B("Pclass", "count_2", 184, "L2444"),
    *(B("Pclass_Survived", f"class{c}_survived{s}", n, "L2455–2460")
      for (c, s), n in {(1, 0): 80, (1, 1): 136, (2, 0): 97, (2, 1): 87, (3, 0): 372, (3, 1): 119}.items()),
    B("Age", "min", 0.42, "L2471"), B("Age", "max", 80.0, "L2481"), B("Age", "median", 28.0, "L2501"),
    B("Age", "mean_survived0", 30.626179, "L2517"), B("Age", "mean_survived1", 28.343690, "L2518"),
    B("Age", "std_survived0", 14.172110, "L2531"), B("Age", "std_survived1", 14.950952, "L2532"),
    *(B("correlation_with_Survived", name, value, "L2629–2636")
      for name, value in {"Pclass": -0.338481, "Age": -0.077221, "SibSp": -0.035322, "PassengerId": -0.005007,
                          "Parch": 0.081629, "Fare": 0.257307, "IsFemale": 0.543351}.items()),
)

WEIGHT_HEIGHT_BOOK = (
    B("rows", "total", 10000, "L20601 'RangeIndex: 10000 entries'"),
    *(B(column, stat, value, "L20615–20623 describe()") for column, values in {
        "Height": {"mean": 66.367560, "std": 3.847528, "min": 54.263133, "max": 78.998742},
        "Weight": {"mean": 161.440357, "std": 32.108439, "min": 64.700127, "max": 269.989699}}.items()
      for stat, value in values.items()),
    B("Gender", "count_Female", 5000, "L20816"), B("Gender", "count_Male", 5000, "L20817"),
)

AIRLINE_BOOK = (
    B("rows", "total", 144, "L20517 'RangeIndex: 144 entries'"),
    *(B("head", f"month{i + 1}", v, "L20530–20535 head()") for i, v in enumerate((112, 118, 132, 129, 121))),
)

EXPLORATIONS = (
    Experiment("titanic_exploration", ("raw", "titanic"), AT + "titanic_exploration", {"bins": 50},
               "ch2: the Titanic passengers profiled before training: describe(), counts, survival by class, "
               "age by survival, correlations with Survived; histogram, box plot, scatter matrix, heatmap",
               pool=None, book=TITANIC_BOOK),
    Experiment("weight_height_exploration", ("raw", "weight_height"), AT + "weight_height_exploration",
               {"bins": 50, "hist_range": [50.0, 80.0]},
               "ch2 exercises 2–4: weight and height profiled: describe(), counts by gender, scatter by gender, "
               "height histograms with means and cumulative, weight box plots, correlation",
               pool=None, book=WEIGHT_HEIGHT_BOOK),
)

# in the timeseries group, beside its raw asset (a group materialized alone must hold its report's upstream)
SERIES_EXPLORATIONS = (
    Experiment("airline_passengers_exploration", ("raw", "airline_passengers"), AT + "airline_exploration",
               {"bins": 20},
               "ch2 exercise 1: the monthly airline passengers profiled: head, describe(), the series plot, "
               "a histogram and box plots by year", pool=None, book=AIRLINE_BOOK),
)
