"""ch2's data exploration as reports: the profile a user wants of a data set before training. Summary statistics
(pandas' describe, as the book prints it), the book's counts and group statistics, and its plots (histograms, box
plots, a scatter matrix, the correlations as a heatmap). Each function takes a raw data set's DataFrame and
returns a core.chapter.Chapter; pandas and matplotlib are imported inside the functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ztdl_pipeline.core.chapter import Chapter, Run

# describe()'s rows, renamed where the name would not survive as a metrics.json key ("25%")
STATISTICS = {"count": "count", "mean": "mean", "std": "std", "min": "min", "25%": "q25", "50%": "median",
              "75%": "q75", "max": "max"}


def summary(frame) -> dict[str, dict[str, float]]:
    """{column: {statistic: value}} for every numeric column: pandas' describe(), as the book prints it."""
    described = frame.describe()
    return {str(column): {STATISTICS[row]: float(described.at[row, column]) for row in described.index}
            for column in described.columns}


def summary_table(stats: dict[str, dict[str, float]]) -> str:
    from ztdl_pipeline.core.report import markdown_table

    columns = list(stats)
    # six decimals, as pandas prints describe() in the book
    return markdown_table(["", *columns], [[row, *(f"{stats[c][key]:.6f}" for c in columns)]
                                           for row, key in STATISTICS.items()])


def _pyplot():
    """pyplot on the Agg backend (core/plots sets it), and core/plots' figure-to-PNG writer."""
    from ztdl_pipeline.core.plots import _png, plt

    return plt, _png


def histograms(groups: dict[str, Sequence[float]], bins: int, title: str, xlabel: str,
               value_range: Sequence[float] | None = None, mean_lines: bool = False, cumulative: bool = False) -> bytes:
    """Overlaid histograms of each group (alpha 0.3, as the book's ex3), optionally a line at each group's mean."""
    import numpy as np

    plt, _png = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, values in groups.items():
        values = np.asarray(values, dtype="float64")
        values = values[np.isfinite(values)]
        patches = ax.hist(values, bins=bins, range=tuple(value_range) if value_range else None, alpha=0.3,
                          label=name, cumulative=cumulative, density=cumulative)[2]
        if mean_lines:
            ax.axvline(values.mean(), color=patches[0].get_facecolor()[:3], linewidth=2)
    if cumulative:
        for level in (0.8, 0.5, 0.2):
            ax.axhline(level, color="grey", linewidth=0.8)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend()
    return _png(fig)


def box_plot(groups: dict[str, Sequence[float]], title: str, ylabel: str) -> bytes:
    import numpy as np

    plt, _png = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    values = [np.asarray(v, dtype="float64")[np.isfinite(np.asarray(v, dtype="float64"))] for v in groups.values()]
    ax.boxplot(values)
    ax.set_xticks(range(1, len(groups) + 1), list(groups))
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _png(fig)


def scatter_matrix(frame, title: str, colors: Sequence[Any] | None = None) -> bytes:
    """pandas.plotting.scatter_matrix of the numeric columns (the book's ch2 ex5)."""
    from pandas.plotting import scatter_matrix as pandas_scatter_matrix

    _, _png = _pyplot()
    size = max(6, 1.6 * frame.shape[1])
    fig = pandas_scatter_matrix(frame, figsize=(size, size), alpha=0.3, c=colors, diagonal="hist")[0, 0].get_figure()
    fig.suptitle(title)
    return _png(fig)


def correlation_heatmap(correlations, title: str) -> bytes:
    """The correlation matrix as a heatmap, each cell annotated with its value."""
    plt, _png = _pyplot()
    names = list(correlations.columns)
    fig, ax = plt.subplots(figsize=(1.0 * len(names) + 2, 0.8 * len(names) + 1.5))
    image = ax.imshow(correlations.to_numpy(), cmap="coolwarm", vmin=-1, vmax=1)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    for i in range(len(names)):
        for j in range(len(names)):
            ax.text(j, i, f"{correlations.iat[i, j]:.2f}", ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax)
    ax.set_title(title)
    return _png(fig)


def line_plot(x, y, title: str, ylabel: str) -> bytes:
    plt, _png = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.6))
    ax.plot(x, y)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return _png(fig)


def _book_section(result: dict[str, Any], book: Sequence[Any]) -> tuple[str, str]:
    from ztdl_pipeline.core.report import comparison_rows, markdown_table
    from ztdl_pipeline.core.results import number_verdict

    rows = [[f"{row['split']}/{row['metric']}", repr(row["ours"]), repr(row["book"]), number_verdict(row["ours"], number),
             row["book_ref"]] for row, number in zip(comparison_rows(result, book), book)]
    return ("Ours vs the book", markdown_table(["number", "ours", "book", "verdict", "where"], rows)
            if rows else "The book prints no number here.")


def titanic_exploration(data, *, run: Run, bins: int, book: Sequence[Any] = ()) -> Chapter:
    """ch2 (L2145–2672) and ch2 ex5: the Titanic passengers' info, describe(), value counts, survival by class,
    age statistics by survival and the correlations with Survived once IsFemale is added."""
    from ztdl_pipeline.core.report import markdown_table

    frame = data.copy()
    stats = summary(frame)
    result: dict[str, Any] = {"profile": run.profile, "describe": stats,
                              "rows": {"total": float(len(frame)), "columns": float(frame.shape[1])},
                              "non_null": {str(c): float(frame[c].notna().sum()) for c in frame.columns}}
    result.update({column: dict(values) for column, values in stats.items()})  # describe's numbers, by column
    result["Survived"] |= {f"count_{k}": float(v) for k, v in frame["Survived"].value_counts().items()}
    result["Pclass"] |= {f"count_{k}": float(v) for k, v in frame["Pclass"].value_counts().items()}
    crosstab = frame.groupby(["Pclass", "Survived"]).size()
    result["Pclass_Survived"] = {f"class{c}_survived{s}": float(n) for (c, s), n in crosstab.items()}
    result["Age"] |= {**{f"mean_survived{s}": float(v) for s, v in frame.groupby("Survived")["Age"].mean().items()},
                     **{f"std_survived{s}": float(v) for s, v in frame.groupby("Survived")["Age"].std().items()}}
    frame["IsFemale"] = frame["Sex"] == "female"
    numeric = frame.select_dtypes(include=["number", "bool"]).astype("float64")
    correlations = numeric.corr()
    result["correlation_with_Survived"] = {str(c): float(v) for c, v in correlations["Survived"].items()
                                           if c != "Survived"}
    table = correlations["Survived"].drop("Survived").sort_values()
    sections = [
        _book_section(result, book),
        ("Summary statistics (describe)", summary_table(stats)),
        ("Non-null values (info)", markdown_table(["column", "non-null of " + str(len(frame))],
                                                  [[c, int(n)] for c, n in result["non_null"].items()])),
        ("Survival by class", markdown_table(["Pclass", "died (0)", "survived (1)"], [
            [c, int(crosstab.get((c, 0), 0)), int(crosstab.get((c, 1), 0))] for c in sorted(frame["Pclass"].unique())])),
        ("Correlation with Survived (IsFemale = Sex == 'female')", markdown_table(
            ["feature", "correlation"], [[c, float(v)] for c, v in table.items()])),
        ("Source", "book ch2.titanic_pandas_exploration (L2145–2672) and ch2 ex5 (scatter matrix, L20830–20860); "
                   "data: raw/titanic (titanic-train.csv)"),
    ]
    survived = {f"Survived = {s}": frame.loc[frame["Survived"] == s, "Age"] for s in (0, 1)}
    images = {
        "age_histogram": histograms(survived, bins, "Titanic: age by survival", "Age"),
        "age_box_plot": box_plot(survived, "Titanic: age by survival", "Age"),
        "scatter_matrix": scatter_matrix(numeric.drop(columns=["PassengerId", "IsFemale"]), "Titanic: scatter matrix"),
        "correlations": correlation_heatmap(correlations, "Titanic: correlation matrix"),
    }
    return Chapter("ch2: exploring the Titanic passengers", sections, images, result,
                   {"rows": len(frame), "survival_rate": stats["Survived"]["mean"],
                    "corr_IsFemale_Survived": result["correlation_with_Survived"]["IsFemale"]})


def weight_height_exploration(data, *, run: Run, bins: int, hist_range: Sequence[float],
                              book: Sequence[Any] = ()) -> Chapter:
    """ch2 exercises 2–4 (L20571–20828): describe(), Male/Female counts, the scatter coloured by gender, the
    height histograms with each gender's mean and the cumulative ones, the weight box plots by gender."""
    from ztdl_pipeline.core.report import markdown_table

    frame = data
    stats = summary(frame)
    genders = sorted(frame["Gender"].unique())
    result: dict[str, Any] = {"profile": run.profile, "describe": stats, "rows": {"total": float(len(frame))},
                              "Gender": {f"count_{g}": float((frame["Gender"] == g).sum()) for g in genders}}
    for column in ("Height", "Weight"):
        result[column] = {**{k: stats[column][k] for k in ("mean", "std", "min", "max")},
                          **{f"mean_{g}": float(frame.loc[frame["Gender"] == g, column].mean()) for g in genders}}
    correlations = frame[["Height", "Weight"]].corr()
    result["correlation"] = {"Height_Weight": float(correlations.at["Height", "Weight"])}
    heights = {g: frame.loc[frame["Gender"] == g, "Height"] for g in genders}
    weights = {g: frame.loc[frame["Gender"] == g, "Weight"] for g in genders}
    sections = [
        _book_section(result, book),
        ("Summary statistics (describe)", summary_table(stats)),
        ("By gender", markdown_table(["gender", "people", "mean height (in)", "mean weight (lbs)"], [
            [g, int(result["Gender"][f"count_{g}"]), result["Height"][f"mean_{g}"], result["Weight"][f"mean_{g}"]]
            for g in genders])),
        ("Correlation", f"Height and weight: {result['correlation']['Height_Weight']:.4f}."),
        ("Source", "book sol.ch2.ex2–ex4 (L20571–20828); data: raw/weight_height (weight-height.csv)"),
    ]
    colors = frame["Gender"].map({g: ["tab:blue", "tab:red", "tab:green"][i % 3] for i, g in enumerate(genders)})
    images = {
        "scatter_by_gender": scatter_matrix(frame[["Height", "Weight"]], "Weight-height by gender (blue/red)",
                                            colors=list(colors)),
        "height_histograms": histograms(heights, bins, "Height by gender, with each mean", "Height (in)",
                                        hist_range, mean_lines=True),
        "height_cumulative": histograms(heights, 200, "Height, cumulative", "Height (in)", hist_range,
                                        cumulative=True),
        "weight_box_plot": box_plot(weights, "Weight by gender", "Weight (lbs)"),
        "correlations": correlation_heatmap(correlations, "Weight-height: correlation matrix"),
    }
    return Chapter("ch2 exercises: exploring weight and height", sections, images, result,
                   {"rows": len(frame), "height_mean": stats["Height"]["mean"], "weight_mean": stats["Weight"]["mean"]})


def airline_exploration(data, *, run: Run, bins: int, book: Sequence[Any] = ()) -> Chapter:
    """ch2 exercise 1 (L20495–20569): the monthly passengers as a time series: info, head, describe and the plot."""
    from ztdl_pipeline.core.report import markdown_table

    frame = data
    time_column, value_column = frame.columns[0], "Thousand Passengers"
    stats = summary(frame[[value_column]])
    values = frame[value_column]
    result: dict[str, Any] = {"profile": run.profile, "describe": stats, "rows": {"total": float(len(frame))},
                              "head": {f"month{i + 1}": float(v) for i, v in enumerate(values.head(5))}}
    yearly = frame.groupby(frame[time_column].dt.year)[value_column].sum()
    sections = [
        _book_section(result, book),
        ("Summary statistics (describe)", summary_table(stats)),
        ("First months (head)", markdown_table(["month", value_column], [
            [t.strftime("%Y-%m"), int(v)] for t, v in zip(frame[time_column].head(5), values.head(5))])),
        ("Passengers per year (thousands)", markdown_table(["year", "total"], [[y, int(v)] for y, v in yearly.items()])),
        ("Source", "book sol.ch2.ex1_airline_passengers (L20495–20569); data: raw/airline_passengers"),
    ]
    by_year = {str(y): frame.loc[frame[time_column].dt.year == y, value_column] for y in yearly.index}
    images = {"passengers": line_plot(frame[time_column], values, "International airline passengers",
                                      "thousands"),
              "histogram": histograms({value_column: values}, bins, "Passengers per month", "thousands"),
              "box_plot_by_year": box_plot(by_year, "Passengers per month, by year", "thousands")}
    return Chapter("ch2 exercise 1: exploring the airline passengers", sections, images, result,
                   {"rows": len(frame), "mean": stats[value_column]["mean"]})
