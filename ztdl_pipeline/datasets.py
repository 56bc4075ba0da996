"""The dataset catalog: every raw file the pipeline reads, where it comes from and what it must hold.

`filename` is the path inside the book's data/ folder (and so inside a mirror of it, `ZTDL_DATA_MIRROR`).
`url` is the canonical public copy, pinned to a commit so its bytes (and sha256) never change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from ztdl_pipeline.core.schema import Column

_VIDEO_REPO = ("https://raw.githubusercontent.com/Dataweekends/zero_to_deep_learning_video/"
               "efff3403504906c1e38c23f4d35fd3cb98af1950/data/")
_MASTERCLASS_REPO = ("https://raw.githubusercontent.com/zerotodeeplearning/ztdl-masterclasses/"
                     "66c931b021b09762f473ea7a3016af5a4c89bd0b/data/")


@dataclass(frozen=True)
class DatasetFile:
    name: str
    filename: str
    url: str
    sha256: str
    columns: tuple[Column, ...]
    description: str
    read_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _floats(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, "float") for n in names)


def _ints(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, "int") for n in names)


CATALOG: dict[str, DatasetFile] = {
    entry.name: entry
    for entry in [
        DatasetFile(
            name="weight_height", filename="weight-height.csv", url=_VIDEO_REPO + "weight-height.csv",
            sha256="4c8bc1d2dc04c763584cb7ad464aa89afe7f5f4073ba46624c5c1d3b86427df6",
            columns=(Column("Gender", "str"), *_floats("Height", "Weight")),
            description="10,000 people: gender, height (in), weight (lbs) — ch2/ch3"),
        DatasetFile(
            name="user_visit_duration", filename="user_visit_duration.csv",
            url=_VIDEO_REPO + "user_visit_duration.csv",
            sha256="897c8a80b40c9d9ade2f33fb0daeaf6709c3bff9b64cdd5095495e5bdbea8eff",
            columns=(Column("Time (min)", "float"), Column("Buy", "int")),
            description="100 website visits: minutes on site and whether the user bought — ch3"),
        DatasetFile(
            name="housing", filename="housing-data.csv", url=_VIDEO_REPO + "housing-data.csv",
            sha256="f49b19e9ad12d8a8a916c41434c2ab5e672dc5ef09a78d44699c6665447efa22",
            columns=_floats("sqft", "bdrms", "age", "price"),
            description="47 house sales: size, bedrooms, age, price — ch3 exercise 1"),
        DatasetFile(
            name="hr", filename="HR_comma_sep.csv", url=_VIDEO_REPO + "HR_comma_sep.csv",
            sha256="2510e274a90547f34c7b0db5a4ab70282c2710eb54252f14921bf980b81a928c",
            columns=(*_floats("satisfaction_level", "last_evaluation"),
                     *_ints("number_project", "average_montly_hours", "time_spend_company",
                            "Work_accident", "left", "promotion_last_5years"),
                     Column("sales", "str"), Column("salary", "str")),
            description="14,999 employees, whether they left (Kaggle HR analytics, CC BY-SA 4.0) — ch3 ex 2"),
        DatasetFile(
            name="titanic", filename="titanic-train.csv", url=_VIDEO_REPO + "titanic-train.csv",
            sha256="7d118fef8b6ccf7f81111877bc388536f7b1e498a655e3d649d19aaa010e9f6f",
            columns=(*_ints("PassengerId", "Survived", "Pclass"), Column("Name", "str"), Column("Sex", "str"),
                     Column("Age", "float", nullable=True), *_ints("SibSp", "Parch"),
                     Column("Ticket", "str"), Column("Fare", "float"), Column("Cabin", "str", nullable=True),
                     Column("Embarked", "str", nullable=True)),
            description="891 Titanic passengers (Kaggle train set) — ch2 and the DataCamp classifier"),
        DatasetFile(
            name="banknotes", filename="banknotes.csv", url=_MASTERCLASS_REPO + "banknotes.csv",
            sha256="8fa86cc2ef19844e8b707589d885448f139e5a70f76a4055302b465364d41d41",
            columns=(*_floats("variance", "skewness", "kurtosis", "entropy"), Column("class", "int")),
            description="1,372 banknote images as 4 wavelet statistics, forged or genuine (UCI) — ch5"),
        DatasetFile(
            name="iris", filename="iris.csv", url=_VIDEO_REPO + "iris.csv",
            sha256="9cc1c345c71bcc9b486b74cbf6063fa66f4bb5e0f603a4b3c3471ec2e5e8e355",
            columns=(*_floats("sepal_length", "sepal_width", "petal_length", "petal_width"),
                     Column("species", "str")),
            description="150 iris flowers, 3 species — ch4"),
        DatasetFile(
            name="wines", filename="wines.csv", url=_VIDEO_REPO + "wines.csv",
            sha256="e93557905d68b526cc0864c3cdb5da621da3aeed0d89b777e41ab15ff7b5239f",
            columns=(Column("Class", "int"),
                     *_floats("Alcohol", "Malic_acid", "Ash", "Alcalinity_of_ash", "Magnesium",
                              "Total_phenols", "Flavanoids", "Nonflavanoid_phenols", "Proanthocyanins",
                              "Color_intensity", "Hue", "OD280-OD315_of_diluted_wines", "Proline")),
            description="178 Italian wines, 13 chemical measurements, 3 cultivars (UCI) — ch5 exercises"),
        DatasetFile(
            name="diabetes", filename="diabetes.csv", url=_VIDEO_REPO + "diabetes.csv",
            sha256="698c203a14aa31941d2251175330c9199f3ccdb31597abbba2a3e35416257a72",
            columns=(*_ints("Pregnancies", "Glucose", "BloodPressure", "SkinThickness", "Insulin"),
                     *_floats("BMI", "DiabetesPedigreeFunction"), *_ints("Age", "Outcome")),
            description="768 Pima Indian women, diabetes diagnosis (UCI) — ch4 exercises"),
        DatasetFile(
            name="wifi_location", filename="wifi_location.csv", url=_MASTERCLASS_REPO + "wifi_location.csv",
            sha256="88e380ec6d12bb420e3c02c7e44f501e514b61f052e081481a7a27308f3951a1",
            columns=(*_ints("a_1", "a_2", "a_3", "a_4", "a_5", "a_6", "a_7"), Column("location", "int")),
            description="2,000 Wi-Fi signal strength readings from 7 routers, 4 rooms (UCI) — ch13"),
    ]
}


def get(name: str) -> DatasetFile:
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; the catalog has: {', '.join(sorted(CATALOG))}") from None
