"""Mapbox Vector Tiles of points, encoded by hand (the format is a small protocol buffer:
https://github.com/mapbox/vector-tile-spec/tree/master/2.1): the snapshot's tiles
(app.geo.snapshot_tiles) are written here without a round trip to PostGIS's `ST_AsMVT`.

Only what the asset layer needs: one layer of points, each with an optional id and string,
integer, float or boolean attributes (None leaves the attribute out, as `ST_AsMVT` leaves out
a NULL)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping
from typing import Any

_VERSION = 2  # of the vector tile specification
_SMALL = [bytes([n]) for n in range(0x80)]

Point = tuple[int | None, int, int, Mapping[str, Any]]  # id, tile x, tile y (down), attributes


def _varint(n: int) -> bytes:
    if n < 0x80:
        return _SMALL[n]
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _zigzag(n: int) -> int:
    return (n << 1) ^ (n >> 63)


def _field(key: int, payload: bytes) -> bytes:
    """A length-delimited field (`key` is its tag byte: field number << 3 | 2)."""
    return bytes([key]) + _varint(len(payload)) + payload


def _value(value: Any) -> bytes:
    """A Value message: string (1), double (3), uint (5), sint (6) or bool (7)."""
    if isinstance(value, bool):
        return b"\x38" + _SMALL[int(value)]
    if isinstance(value, int):
        return b"\x28" + _varint(value) if value >= 0 else b"\x30" + _varint(_zigzag(value))
    if isinstance(value, float):
        return b"\x19" + struct.pack("<d", value)
    return _field(0x0A, str(value).encode())


def point_layer(name: str, points: Iterable[Point], extent: int = 4096) -> bytes:
    """A tile of one layer of points (an empty tile when there are none, as `ST_AsMVT`)."""
    keys: dict[str, int] = {}
    values: dict[tuple[type, Any], int] = {}  # by type too: True is not 1
    features = []
    for feature_id, x, y, attributes in points:
        tags = bytearray()
        for key, value in attributes.items():
            if value is None:
                continue
            k = keys.setdefault(key, len(keys))
            v = values.setdefault((type(value), value), len(values))
            tags += _varint(k) + _varint(v)
        geometry = b"\x09" + _varint(_zigzag(x)) + _varint(_zigzag(y))  # MoveTo(1) x y
        body = (b"\x08" + _varint(feature_id) if feature_id is not None else b"") + (
            _field(0x12, bytes(tags)) + b"\x18\x01" + _field(0x22, geometry)
        )  # tags, type POINT, geometry
        features.append(_field(0x12, body))
    if not features:
        return b""
    layer = b"".join(
        [
            b"\x78" + _varint(_VERSION),
            _field(0x0A, name.encode()),
            *features,
            *(_field(0x1A, key.encode()) for key in keys),
            *(_field(0x22, _value(value)) for _, value in values),
            b"\x28" + _varint(extent),
        ]
    )
    return _field(0x1A, layer)
