"""The dataset catalog: every raw file the pipeline reads, where it comes from and what it must hold.

`filename` is the path inside the book's data/ folder (and so inside a mirror of it, `ZTDL_DATA_MIRROR`).
`url` is the canonical public copy, pinned to a commit so its bytes (and sha256) never change.
`sha256=None` means the hash is not known yet (no copy was at hand to hash): the file is used and its
hash recorded as the raw asset's data version, but it cannot be verified — set the hash once known.
`reader` names, by reference ("package.module:function"), the function that reads a file that is not a plain CSV.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ztdl_pipeline.core.schema import Column

_VIDEO_REPO = ("https://raw.githubusercontent.com/Dataweekends/zero_to_deep_learning_video/"
               "efff3403504906c1e38c23f4d35fd3cb98af1950/data/")
_MASTERCLASS_REPO = ("https://raw.githubusercontent.com/zerotodeeplearning/ztdl-masterclasses/"
                     "66c931b021b09762f473ea7a3016af5a4c89bd0b/data/")
# a public copy of the book repository's data/ folder (the ch7 files the video course does not ship)
_BOOK_DATA_COPY = "https://raw.githubusercontent.com/wuebbelt/DL/0f718008479cac408a78e284cbda06cfcb87cf05/data/"


@dataclass(frozen=True)
class DatasetFile:
    name: str
    filename: str
    url: str
    sha256: str | None  # None: unknown, recorded but not verified (see the module docstring)
    columns: tuple[Column, ...]
    description: str
    read_options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    reader: str | None = None  # None: a CSV read with read_csv_checked
    alt_sha256: tuple[str, ...] = ()  # other accepted copies: the same content in different bytes

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def accepted_sha256(self) -> tuple[str, ...]:
        return (self.sha256, *self.alt_sha256)


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
        # ---------------------------------------------------------- ch7 time series
        DatasetFile(
            name="ontario_demand", filename="ZonalDemands_2003-2016.csv.bz2",
            url=_BOOK_DATA_COPY + "ZonalDemands_2003-2016.csv.bz2",
            sha256="9e2028024e7eef547403826b38e8db82b2381efdeb47b134ae1308d088429cbf",
            columns=(Column("Date", "str"), Column("Hour", "int"),
                     *_floats("Total Ontario", "Northwest", "Northeast", "Ottawa", "East", "Toronto", "Essa",
                              "Bruce", "Southwest", "Niagara", "West", "Tot Zones"), Column("diff", "str")),
            description="Ontario hourly electricity demand (MW) by zone, May 2003 – Dec 2016 (IESO) — ch7",
            reader="ztdl_pipeline.core.timeseries:read_ontario_demand"),
        DatasetFile(
            name="ontario_energy_demand", filename="Ontario_energy_demand_2003-2016.csv.gz",
            url=_MASTERCLASS_REPO + "Ontario_energy_demand_2003-2016.csv.gz",
            sha256="b0446e95d1c32d7b714f4cd1ce72efafc3063255ff9b152a34a06b7c2ad969da",
            columns=(Column("Datetime", "str"), Column("Total Ontario", "float")),
            description="the same hourly Ontario total as ZonalDemands, as the masterclass ships it",
            reader="ztdl_pipeline.core.timeseries:read_ontario_energy"),
        DatasetFile(
            name="retail_sales", filename="cansim-0800020-eng-6674700030567901031.csv",
            url=_VIDEO_REPO + "cansim-0800020-eng-6674700030567901031.csv",
            sha256="a8dea18b3d67bb6173783c8a7070dc2a44f3d000ecd75af4d3c7f5ed9f6d4859",
            columns=(Column("Adjustments", "str"), *_floats("Unadjusted", "Seasonally adjusted")),
            description="Canadian monthly retail sales (k$), Jan 1991 – Jan 2017, CANSIM table 080-0020 "
                        "(notes above and below the data) — the video course's ch7 exercise",
            reader="ztdl_pipeline.core.timeseries:read_cansim"),
        DatasetFile(
            name="airline_passengers", filename="international-airline-passengers.csv",
            url=_VIDEO_REPO + "international-airline-passengers.csv",
            sha256="845fc80c0a9ac37b8daa5c307ee6a5752b9d176aceb2d718c69b28820baa5b0f",
            columns=(Column("Month", "str"), Column("Thousand Passengers", "float")),
            description="international airline passengers (thousands) per month, 1949–1960 — ch2 ex 1, ch7",
            reader="ztdl_pipeline.core.timeseries:read_monthly_csv"),
        DatasetFile(
            name="bitcoin", filename="poloniex_usdt_btc.json.gz", url=_BOOK_DATA_COPY + "poloniex_usdt_btc.json.gz",
            sha256="8540caf4b251bae903ae01660d9c1b3ad3551d37b5fc61710a53271f224262e2",
            columns=(Column("date", "int"),
                     *_floats("high", "low", "open", "close", "volume", "quoteVolume", "weightedAverage")),
            description="Poloniex USDT/BTC 30-minute candles, Feb 2015 – Feb 2018 — ch7 exercise 4",
            reader="ztdl_pipeline.core.timeseries:read_poloniex"),
        DatasetFile(
            name="sequence_classification", filename="sequence_classification.csv.bz2",
            url=_BOOK_DATA_COPY + "sequence_classification.csv.bz2",
            sha256=None,  # not in the mirror and not downloadable here: hash unknown, recorded at first fetch
            columns=(Column("anomaly", "str"), *_floats(*(f"t_{i}" for i in range(200)))),
            description="4,000 synthetic curves of 200 steps, half with anomalies — ch7 sequence classification",
            reader="ztdl_pipeline.core.timeseries:read_sequences"),
    ]
}


# ---------------------------------------------------------------- vision (ch6, ch9, ch10): files and folders

_KERAS_DATASETS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def _sklearn_data_url(filename: str) -> str:
    """The copy of a data file that scikit-learn ships (found without importing scikit-learn)."""
    spec = importlib.util.find_spec("sklearn")
    root = Path(spec.origin).parent if spec and spec.origin else Path("sklearn")
    return (root / "datasets" / "data" / filename).resolve().as_uri()


CATALOG.update({entry.name: entry for entry in [
    DatasetFile(
        name="mnist", filename="keras_datasets/mnist.npz", url=_KERAS_DATASETS + "mnist.npz",
        sha256="731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",  # Keras' own file
        alt_sha256=("06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64",),  # mirror's repack
        columns=(), description="MNIST handwritten digits, Keras' mnist.npz: 60,000 train + 10,000 test "
                                "28×28 grey images — ch6, DataCamp"),
    DatasetFile(
        name="cifar10", filename="keras_datasets/cifar-10-python.tar.gz",
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        sha256="6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
        columns=(), description="CIFAR-10, the python batches Keras downloads: 50,000 train + 10,000 test "
                                "32×32 colour images, 10 classes — ch6 ex2, ch9"),
    DatasetFile(
        name="digits", filename="sklearn/digits.csv.gz", url=_sklearn_data_url("digits.csv.gz"),
        sha256="09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22",
        columns=(), description="scikit-learn's load_digits (UCI optical digits): 1,797 8×8 images, values "
                                "0–16, shipped with scikit-learn — ch10"),
]})


@dataclass(frozen=True)
class DatasetFolder:
    """A folder of files (the book's image folders), pinned by a per-file sha256 manifest.

    `manifest` names a file in ztdl_pipeline/manifests/ with one "sha256  relative/path" line per file;
    `sha256` pins that manifest, so it is the folder's identity (and data version). A folder comes from
    a mirror (same folder name), from `base_url` + relative path file by file, or from an archive
    (`archive_url`, verified by `archive_sha256`, then unpacked).
    """

    name: str
    folder: str
    manifest: str
    sha256: str
    description: str
    base_url: str | None = None
    archive_url: str | None = None
    archive_sha256: str | None = None

    @property
    def url(self) -> str:
        return self.archive_url or self.base_url or ""

    def files(self) -> dict[str, str]:
        """{relative path: sha256} from the manifest, after checking the manifest against `sha256`."""
        data = importlib.resources.files("ztdl_pipeline.manifests").joinpath(self.manifest).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != self.sha256:
            raise ValueError(f"ztdl_pipeline/manifests/{self.manifest}: sha256 {digest} does not match the "
                             f"catalog's {self.sha256} for {self.name}; restore the manifest or update "
                             "ztdl_pipeline/catalog/datasets.py")
        files = {}
        for line in data.decode("utf-8").splitlines():
            if line.strip():
                digest, relative = line.split("  ", 1)
                files[relative] = digest
        return files


FOLDERS: dict[str, DatasetFolder] = {
    entry.name: entry
    for entry in [
        DatasetFolder(
            name="male_female", folder="male_female", manifest="male_female.sha256",
            sha256="5e02d95734f5110f9f40e16e748e48cf94e048c35cc33050624a1c6b90852e65",
            archive_url="https://www.zerotodeeplearning.com/media/z2dl/45bzty/male_female.tgz",
            description="Face pictures (Crowdflower) in train|test/0_female|1_male/; the mirror holds a "
                        "900-image subset (350 + 350 train, 100 + 100 test), the book's archive 11,663 + 2,920 "
                        "— ch10 ex"),
        DatasetFolder(
            name="generator", folder="generator", manifest="generator.sha256",
            sha256="994c894b2ee55acff1f419ffd6b618784fb2ecdff5f79b2442b7e09614eb71a5",
            base_url=_BOOK_DATA_COPY + "generator/",
            description="One squirrel photo in generator/class_0/ for the augmentation demo — ch10"),
    ]
}


def get(name: str) -> DatasetFile | DatasetFolder:
    try:
        return CATALOG[name] if name in CATALOG else FOLDERS[name]
    except KeyError:
        known = ", ".join(sorted([*CATALOG, *FOLDERS]))
        raise KeyError(f"unknown dataset {name!r}; the catalog has: {known}") from None


# ---------------------------------------------------------------- embeddings (ch12, ch26): canonical-only files
# Not in the data mirror. raw/glove_6b_50d_raw also takes a local glove.6B.zip or glove.6B.50d.txt (run config
# `path`); raw/reuters_raw takes another copy by url + sha256 (see ztdl_pipeline/defs/embeddings/raw.py).

CATALOG.update({entry.name: entry for entry in [
    DatasetFile(
        name="glove_6b_50d", filename="embeddings/glove.6B.zip", url="http://nlp.stanford.edu/data/glove.6B.zip",
        sha256=None,  # no copy at hand to hash: recorded at first fetch as the data version, not verified
        columns=(), description="Stanford GloVe 6B (Wikipedia 2014 + Gigaword 5), 400,000 words; the 50-d "
                                "vectors glove.6B.50d.txt inside — ch12, ch26"),
    DatasetFile(
        name="reuters", filename="keras_datasets/reuters.npz", url=_KERAS_DATASETS + "reuters.npz",
        sha256="d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916",  # Keras' file_hash
        columns=(), description="Keras' Reuters newswires: 11,228 word-rank sequences, 46 topics — ch12 ex2"),
    DatasetFile(
        name="reuters_word_index", filename="keras_datasets/reuters_word_index.json",
        url=_KERAS_DATASETS + "reuters_word_index.json",
        sha256=None,  # Keras pins only its md5 (4d44cc38712099c9e383dc6e5f11a921)
        columns=(), description="Keras' Reuters word index {word: rank} — ch12 ex2"),
]})


# ---------------------------------------------------------------- transfer learning (ch11): files

_BOOTCAMP_REPO = ("https://raw.githubusercontent.com/zerotodeeplearning/ztdl-5-day-bootcamp/"
                  "3edf00f136ad8c7104a8940afb26ad7769cf72d3/data/")
_SPORTS_COLUMNS = (Column("image_url", "str"), Column("class", "str"), Column("label:confidence", "float"))

CATALOG.update({entry.name: entry for entry in [
    DatasetFile(
        name="sports", filename="sports.csv", url=_BOOK_DATA_COPY + "sports.csv",
        sha256="54a873e5af805d9525861f672b420b323756abab00ae0c008912820a42a10cfe", columns=_SPORTS_COLUMNS,
        description="3,006 sports image URLs (multimedia-commons) of 3 classes with label confidence — ch11"),
    DatasetFile(
        name="sports_train", filename="sports/sports_train.csv", url=_BOOTCAMP_REPO + "sports/sports_train.csv",
        sha256="cefc27df751f0d76c340146f6278b9b6133738362371755d3b314b7a00e5df9d", columns=_SPORTS_COLUMNS,
        description="the book repository's train split of sports.csv (2,104 URLs) — ch11"),
    DatasetFile(
        name="sports_test", filename="sports/sports_test.csv", url=_BOOTCAMP_REPO + "sports/sports_test.csv",
        sha256="3d32429dfbc6cec1afb5483b077427da267af1f63e1102593ecb2ddd0076753e", columns=_SPORTS_COLUMNS,
        description="the book repository's test split of sports.csv (902 URLs) — ch11"),
    DatasetFile(
        name="imagenet_class_index", filename="keras_models/imagenet_class_index.json",
        url="https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json",
        sha256="a1e7a966a1f601d39e4b43e119b3e7dd4a2ad3ea08cf69847cbaf021013767bc", columns=(),
        description="Keras' ImageNet class index (1000 classes: wnid, name), as decode_predictions reads it "
                    "— ch11"),
    DatasetFile(
        name="elephant_photo", filename="creative_commons_elephant.jpg",
        url=_BOOK_DATA_COPY + "creative_commons_elephant.jpg",
        sha256="13ab8546cfe05fd01d2218452fb7c85d2b0291b6315c2b90bd6570ad707be261", columns=(),
        description="a Creative Commons photo of an elephant (899×600) — zero-shot demo"),
    DatasetFile(
        name="iss_photo", filename="iss.jpg", url=_VIDEO_REPO + "iss.jpg",
        sha256="e086da4b0fb49efa99e404663f4a7ec136eb07cc5c206de037b79ead000149cb", columns=(),
        description="the International Space Station photo of ch2 (640×435) — zero-shot demo"),
]})


# ---------------------------------------------------------------- files no public copy holds

CATALOG.update({entry.name: entry for entry in [
    DatasetFile(
        # the tutorial reads it by position (`train.ix[:, 0:2]`, `train.ix[:, 2]`) and shows no header: these
        # names are ours. Not in the data mirror and no seed names a public copy: url "" means only
        # $ZTDL_SOURCE_INTRO_TO_ANN (or a mirror that gains the file) can provide it
        name="intro_to_ann", filename="intro_to_ann.csv", url="", sha256=None,
        columns=(*_floats("Feature1", "Feature2"), Column("Target", "int")),
        description="500 points, two features and a 0/1 label — the intro-to-neural-networks tutorial (seed 003); "
                    "set ZTDL_SOURCE_INTRO_TO_ANN to your copy"),
]})


# ---------------------------------------------------------------- text (ch8, ch22): the text group's files

CATALOG.update({entry.name: entry for entry in [
    DatasetFile(
        name="sms_spam", filename="sms_spam.csv", url=_BOOK_DATA_COPY + "sms_spam.csv",
        sha256="5f02e94ec9d687a2f1050faa4fbb68d1b56c8a701178da52633f643bfd92b2ed",
        columns=(Column("message", "str"), Column("spam", "int")),
        description="5,572 SMS messages (UCI SMS Spam Collection), spam 0/1: 4,825 ham, 747 spam — ch8"),
    DatasetFile(
        name="sms_zip", filename="sms.zip", url=_BOOK_DATA_COPY + "sms.zip",
        sha256="055585c5adc7710a491f9987bfabf482e6b09aea986702c041e3f4da14d4790c", columns=(),
        description="the same 5,572 messages as files ham/*.txt, spam/*.txt (the book builds sms_spam.csv "
                    "from it) — ch8"),
    DatasetFile(
        name="movie_reviews", filename="movie_reviews.csv", url=_BOOK_DATA_COPY + "movie_reviews.csv",
        sha256="f567d632578c4aa1c7ecb55d1d22869d66cce43aaa82fc465c7e2698d5e489ba",
        columns=(Column("title", "str"), Column("review", "str"), Column("vote", "str")),
        description="14,072 Rotten Tomatoes critic quotes with vote fresh / rotten / none — ch8"),
    DatasetFile(
        name="names", filename="names.txt", url=_BOOK_DATA_COPY + "names.txt",
        sha256="aefa0ad6e17c6f0eaa3975af51597b478e42ed73a0e572234dcc5e1be123759c", columns=(),
        description="7,939 first names, one per line — ch8 character-level LSTM"),
    DatasetFile(
        name="imdb", filename="extra/aclImdb_labeled.tar.gz",
        url="http://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        sha256=None,  # Stanford's aclImdb_v1.tar.gz: no copy at hand to hash; recorded at first fetch
        alt_sha256=("18e7a4c90bd41d9ce07da2f009f480b9a7b1db2a955b6fea6441f1f655350ae8",),  # mirror's repack
        columns=(), description="IMDB movie reviews (Maas et al. 2011): 25,000 train + 25,000 test, pos/neg, "
                                "read straight from the tar.gz — ch8 ex2 (the book loads Keras' imdb.npz)"),
    DatasetFile(
        name="imdb_word_index", filename="keras_datasets/imdb_word_index.json",
        url=_KERAS_DATASETS + "imdb_word_index.json",
        sha256="027313fe9a320280f3bf0fac5baf58c4a683cf39a7ed9c3d3d3912bde4284cf6",
        columns=(), description="Keras' IMDB word index {word: frequency rank}, 88,584 words — ch8 ex2 bonus"),
]})
