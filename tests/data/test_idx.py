"""The IDX reader: MNIST-format files the test writes, good ones and broken ones."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from dlpipeline.data.idx import IDXFormatError, read_idx, read_idx_pair

UBYTE, INT32, FLOAT64 = 0x08, 0x0C, 0x0E


def idx_bytes(values: np.ndarray, type_code: int = UBYTE) -> bytes:
    """An IDX file as MNIST ships it: magic number, big-endian sizes, big-endian values."""
    big_endian = {UBYTE: ">u1", INT32: ">i4", FLOAT64: ">f8"}[type_code]
    header = bytes([0, 0, type_code, values.ndim]) + struct.pack(f">{values.ndim}I", *values.shape)
    return header + values.astype(big_endian).tobytes()


def write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


IMAGES = np.arange(5 * 4 * 3, dtype=np.uint8).reshape(5, 4, 3)  # five 4x3 images, distinct pixels
LABELS = np.array([3, 1, 4, 1, 5], dtype=np.uint8)


def test_images_and_labels_are_read_back_exactly(tmp_path: Path):
    images_file = write(tmp_path / "images-idx3-ubyte", idx_bytes(IMAGES))
    labels_file = write(tmp_path / "labels-idx1-ubyte", idx_bytes(LABELS))
    read_images, read_labels = read_idx_pair(images_file, labels_file)
    np.testing.assert_array_equal(read_images, IMAGES)
    np.testing.assert_array_equal(read_labels, LABELS)
    assert read_images.dtype == np.uint8


def test_gzip_files_are_read_whatever_their_name(tmp_path: Path):
    compressed = gzip.compress(GOOD)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "images.gz", compressed)), IMAGES)
    np.testing.assert_array_equal(read_idx(write(tmp_path / "images-idx3-ubyte", compressed)), IMAGES)


@pytest.mark.parametrize(("type_code", "dtype"), [(INT32, np.int32), (FLOAT64, np.float64)])
def test_wider_types_are_big_endian_on_disk_and_native_in_memory(tmp_path: Path, type_code, dtype):
    values = np.array([[-2, 70000], [3, 1]], dtype=dtype)
    array = read_idx(write(tmp_path / "values.idx", idx_bytes(values, type_code)))
    np.testing.assert_array_equal(array, values)
    assert array.dtype == np.dtype(dtype)


GOOD = idx_bytes(IMAGES)
BROKEN_FILES = {  # name: (file content, words the error must contain)
    "empty": (b"", "too short for an IDX header"),
    "png": (b"\x89PNG\r\n\x1a\n" + GOOD, "not an IDX file: magic number 89504e47"),
    "unknown-type": (bytes([0, 0, 0x42, 3]) + GOOD[4:], "not an IDX file: magic number 00004203"),
    "zero-dimensions": (bytes([0, 0, UBYTE, 0]) + GOOD[4:], "not an IDX file: magic number 00000800"),
    "truncated-header": (GOOD[:9], "truncated header"),
    "truncated-data": (GOOD[:-7], "truncated: the header promises"),
    "trailing-bytes": (GOOD + b"\0\0", "trailing bytes"),
    "truncated-gzip": (gzip.compress(GOOD)[:-12], "damaged or truncated gzip"),
}


@pytest.mark.parametrize("name", list(BROKEN_FILES))
def test_a_broken_file_is_a_clear_error_naming_the_file(tmp_path: Path, name):
    content, words = BROKEN_FILES[name]
    path = write(tmp_path / f"{name}-idx3-ubyte", content)
    with pytest.raises(IDXFormatError) as error:
        read_idx(path)
    assert str(error.value).startswith(f"{path}: ")
    assert words in str(error.value)


def test_the_truncation_message_says_what_the_header_promised(tmp_path: Path):
    path = write(tmp_path / "short-idx3-ubyte", GOOD[:-7])
    with pytest.raises(IDXFormatError) as error:
        read_idx(path)
    assert "shape (5, 4, 3)" in str(error.value)
    assert "76 bytes in all" in str(error.value)
    assert "holds 69 bytes" in str(error.value)


def test_images_and_labels_must_pair_up(tmp_path: Path):
    images_file = write(tmp_path / "images-idx3-ubyte", GOOD)
    short_labels = write(tmp_path / "labels-idx1-ubyte", idx_bytes(LABELS[:4]))
    with pytest.raises(IDXFormatError, match=r"holds 5 images but .* holds 4 labels"):
        read_idx_pair(images_file, short_labels)


def test_labels_in_place_of_images_are_refused(tmp_path: Path):
    labels_file = write(tmp_path / "labels-idx1-ubyte", idx_bytes(LABELS))
    images_file = write(tmp_path / "images-idx3-ubyte", GOOD)
    with pytest.raises(IDXFormatError, match=r"labels-idx1-ubyte: expected images of shape \(n, rows"):
        read_idx_pair(labels_file, images_file)


def test_a_missing_file_is_named(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"IDX file not found: .*nowhere-idx3-ubyte"):
        read_idx(tmp_path / "nowhere-idx3-ubyte")
