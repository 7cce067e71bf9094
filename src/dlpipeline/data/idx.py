"""MNIST-format IDX files (MNIST, Fashion-MNIST, EMNIST, ...), plain or gzip-compressed.

The format: a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian 32-bit size per dimension, then the values, big-endian and
row-major. Images are ``00000803`` (unsigned bytes, 3 dimensions), labels ``00000801``.
Any fault (too short, wrong magic number, truncated data, trailing bytes, images and
labels that do not pair up) raises :class:`IDXFormatError` naming the file.
"""

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code → the numpy type of its values."""

GZIP_MAGIC = b"\x1f\x8b"
HEADER_BYTES = 4


class IDXFormatError(ValueError):
    """An IDX file that cannot be read; the message names the file and what is wrong."""


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (gzip-compressed or not, whatever its name) into a native-endian array."""
    return parse_idx(_read_bytes(Path(path)), source=str(path))


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, decompressed when they start with the gzip magic number."""
    if not path.is_file():
        raise FileNotFoundError(f"IDX file not found: {path}")
    raw = path.read_bytes()
    if not raw.startswith(GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as error:
        raise IDXFormatError(f"{path}: damaged or truncated gzip data ({error})") from error


def parse_idx(raw: bytes, source: str) -> np.ndarray:
    """Decode the bytes of an IDX file; ``source`` names the file in error messages."""
    if len(raw) < HEADER_BYTES:
        raise IDXFormatError(f"{source}: too short for an IDX header ({len(raw)} bytes)")
    type_code, n_dims = raw[2], raw[3]
    if raw[:2] != b"\0\0" or type_code not in IDX_TYPES or n_dims == 0:
        raise IDXFormatError(
            f"{source}: not an IDX file: magic number {raw[:4].hex()}, expected 0000 then a type code "
            f"({', '.join(f'{code:02x}' for code in IDX_TYPES)}) and the number of dimensions, "
            "e.g. 00000803 for images or 00000801 for labels"
        )
    data_start = HEADER_BYTES + 4 * n_dims
    if len(raw) < data_start:
        raise IDXFormatError(f"{source}: truncated header: {n_dims} dimensions need {data_start} bytes")
    shape = struct.unpack(f">{n_dims}I", raw[HEADER_BYTES:data_start])
    dtype = IDX_TYPES[type_code]
    expected = data_start + math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        fault = "truncated" if len(raw) < expected else "trailing bytes"
        raise IDXFormatError(
            f"{source}: {fault}: the header promises {dtype.name} values of shape {shape} "
            f"({expected} bytes in all) but the file holds {len(raw)} bytes"
        )
    return np.frombuffer(raw, dtype, offset=data_start).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx_pair(images_path: str | Path, labels_path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read an images file ``(n, rows, cols)`` and its labels file ``(n,)``, checking that they pair up."""
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise IDXFormatError(f"{images_path}: expected images of shape (n, rows, cols), got {images.shape}")
    if labels.ndim != 1:
        raise IDXFormatError(f"{labels_path}: expected labels of shape (n,), got {labels.shape}")
    if len(images) != len(labels):
        raise IDXFormatError(
            f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
        )
    return images, labels
