"""core.schema: reading raw CSVs against an expected schema, and the file hash."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from ztdl_pipeline.core.errors import DataError
from ztdl_pipeline.core.schema import Column, coerce_columns, read_csv_checked, sha256_file

COLUMNS = (Column("height", "float"), Column("count", "int"), Column("label", "str"),
           Column("age", "float", nullable=True), Column("rank", "int", nullable=True))
HEADER = "height,count,label,age,rank,extra\n"


def _write(tmp_path, text: str, name: str = "table.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_read_csv_checked_returns_typed_columns(tmp_path):
    path = _write(tmp_path, HEADER + "1.5,3,a,20,1,x\n2.25,4,b,,,y\n-3,0,c,41.5,7,z\n")

    frame = read_csv_checked(path, COLUMNS)

    assert list(frame.columns) == ["height", "count", "label", "age", "rank", "extra"]  # extras kept
    assert frame["height"].dtype == np.float64
    assert frame["count"].dtype == np.int64
    assert str(frame["label"].dtype) == "string"
    assert frame["age"].dtype == np.float64
    assert str(frame["rank"].dtype) == "Int64"
    assert frame["height"].tolist() == [1.5, 2.25, -3.0]
    assert frame["count"].tolist() == [3, 4, 0]
    assert frame["label"].tolist() == ["a", "b", "c"]
    assert np.isnan(frame["age"].iloc[1]) and frame["age"].iloc[2] == 41.5
    assert frame["rank"].isna().tolist() == [False, True, False]
    assert frame["rank"].iloc[2] == 7


def test_read_csv_checked_passes_read_options(tmp_path):
    path = _write(tmp_path, "height;count;label;age;rank\n1.5;3;x;;\n")
    frame = read_csv_checked(path, COLUMNS, {"sep": ";"})
    assert frame["height"].iloc[0] == 1.5 and frame["count"].iloc[0] == 3
    with pytest.raises(DataError):  # without the options the same file does not fit the schema
        read_csv_checked(path, COLUMNS)


@pytest.mark.fault
def test_missing_column_is_named(tmp_path):
    path = _write(tmp_path, "height,label,age,rank\n1,a,2,3\n")
    with pytest.raises(DataError) as info:
        read_csv_checked(path, COLUMNS)
    message = str(info.value)
    assert str(path) in message
    assert "missing column(s) 'count'" in message
    assert "'height'" in message  # what was found is listed too
    assert info.value.fix  # and a fix is offered


@pytest.mark.fault
def test_non_numeric_value_names_column_row_and_value(tmp_path):
    path = _write(tmp_path, HEADER + "1,1,a,1,1,x\n2,2,b,2,2,x\nthree,3,c,3,3,x\n4,4,d,4,4,x\nfive,5,e,5,5,x\n")
    with pytest.raises(DataError) as info:
        read_csv_checked(path, COLUMNS)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "column 'height'" in message
    assert "data row 3" in message  # the first bad row, 1-based among data rows
    assert "'three'" in message
    assert "2 non-numeric value(s)" in message


@pytest.mark.fault
def test_non_integer_in_int_column(tmp_path):
    path = _write(tmp_path, HEADER + "1,1,a,1,1,x\n2,2.5,b,2,2,x\n")
    with pytest.raises(DataError) as info:
        read_csv_checked(path, COLUMNS)
    message = str(info.value)
    assert str(path) in message
    assert "column 'count', data row 2" in message
    assert "'2.5' is not an integer" in message


def test_integral_floats_are_accepted_in_int_column(tmp_path):
    path = _write(tmp_path, HEADER + "1,1.0,a,1,1,x\n2,2,b,2,2,x\n")
    assert read_csv_checked(path, COLUMNS)["count"].tolist() == [1, 2]


@pytest.mark.fault
def test_non_integer_in_nullable_int_column_with_missing_values(tmp_path):
    path = _write(tmp_path, HEADER + "1,1,a,1,,x\n2,2,b,2,2.5,x\n")
    with pytest.raises(DataError, match=r"column 'rank', data row 2: '2.5' is not an integer"):
        read_csv_checked(path, COLUMNS)


@pytest.mark.fault
def test_missing_value_in_non_nullable_column(tmp_path):
    path = _write(tmp_path, HEADER + "1,1,a,1,1,x\n2,2,b,2,2,x\n3,3,,3,3,x\n")
    with pytest.raises(DataError) as info:
        read_csv_checked(path, COLUMNS)
    message = str(info.value)
    assert str(path) in message
    assert "column 'label', data row 3: missing value" in message
    assert "none allowed" in message


@pytest.mark.fault
def test_missing_value_in_non_nullable_numeric_column(tmp_path):
    path = _write(tmp_path, HEADER + "1,1,a,1,1,x\n,2,b,2,2,x\n")
    with pytest.raises(DataError, match=r"column 'height', data row 2: missing value"):
        read_csv_checked(path, COLUMNS)


@pytest.mark.fault
def test_empty_file(tmp_path):
    path = _write(tmp_path, "")
    assert path.stat().st_size == 0
    with pytest.raises(DataError) as info:
        read_csv_checked(path, COLUMNS)
    assert str(path) in str(info.value)
    assert "empty (0 bytes)" in str(info.value)
    assert info.value.fix


@pytest.mark.fault
def test_blank_file_without_header(tmp_path):
    path = _write(tmp_path, "\n\n")
    with pytest.raises(DataError, match="no header and no data"):
        read_csv_checked(path, COLUMNS)


@pytest.mark.fault
def test_header_only_file(tmp_path):
    path = _write(tmp_path, HEADER)
    with pytest.raises(DataError) as info:
        read_csv_checked(path, COLUMNS)
    assert str(path) in str(info.value)
    assert "header but no data rows" in str(info.value)


@pytest.mark.fault
def test_file_not_found(tmp_path):
    with pytest.raises(DataError, match="file not found"):
        read_csv_checked(tmp_path / "nope.csv", COLUMNS)


def test_coerce_columns_reports_the_source_and_keeps_input_untouched():
    frame = pd.DataFrame({"x": ["1", "2", "oops"], "y": ["a", "b", "c"]})
    before = frame.copy()
    with pytest.raises(DataError) as info:
        coerce_columns(frame, [Column("x", "float"), Column("y", "str")], source="somewhere/raw.csv")
    assert str(info.value).startswith("somewhere/raw.csv: column 'x', data row 3: 'oops' is not a number")
    pd.testing.assert_frame_equal(frame, before)

    typed = coerce_columns(frame.iloc[:2], [Column("x", "int"), Column("y", "str")], source="s")
    assert typed["x"].dtype == np.int64 and typed["x"].tolist() == [1, 2]


def test_sha256_file_matches_hashlib_across_chunks(tmp_path):
    data = bytes(range(256)) * 1000 + b"tail"
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(path) == expected
    assert sha256_file(path, chunk_size=7) == expected  # chunking does not change the digest
    path.write_bytes(data[:-1] + b"X")
    assert sha256_file(path) != expected


def test_sha256_of_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert sha256_file(path) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.fault
def test_ragged_row_cannot_be_parsed(tmp_path):
    path = _write(tmp_path, HEADER + "1,1,a,1,1,x\n2,2,b,2,2,x,surplus,fields\n")
    with pytest.raises(DataError) as info:
        read_csv_checked(path, COLUMNS)
    assert str(path) in str(info.value)
    assert "cannot be parsed as CSV (ParserError" in str(info.value)


@pytest.mark.fault
def test_binary_file_cannot_be_parsed(tmp_path):
    path = tmp_path / "table.csv"
    path.write_bytes(HEADER.encode() + b"\xff\xfe\x00\x81,\x9c\n")
    with pytest.raises(DataError, match=r"cannot be parsed as CSV \(UnicodeDecodeError") as info:
        read_csv_checked(path, COLUMNS)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("value", ["inf", "-Infinity", "1e999"])
@pytest.mark.fault
def test_infinite_value_names_column_row_and_value(tmp_path, value):
    path = _write(tmp_path, HEADER + f"1,1,a,1,1,x\n2,2,b,{value},2,x\n")
    with pytest.raises(DataError) as info:
        read_csv_checked(path, COLUMNS)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "column 'age'" in message and "data row 2" in message
    assert repr(value) in message and "not a finite number" in message
