"""Fast packing and unpacking of wide words against Amaranth layouts, vectorised with numpy.

A testbench reads thousands of bits per transfer; shifting a Python int field by field is
quadratic in the word size, so words go through a bit array instead.
"""

from __future__ import annotations

import numpy as np
from amaranth.lib import data


def leaves(layout, base: int = 0, prefix: tuple = ()):
    """Every scalar field of a (nested) layout: (path, offset, width, signed)."""
    items = list(layout) if isinstance(layout, data.StructLayout) else [(k, layout[k]) for k in range(layout.length)]
    for key, fld in items:
        if isinstance(fld.shape, data.Layout):
            yield from leaves(fld.shape, base + fld.offset, prefix + (key,))
        else:
            yield prefix + (key,), base + fld.offset, fld.width, fld.shape.signed


def read_bits(handle) -> np.ndarray:
    """A cocotb signal's value as a bit array, bit 0 first.

    Reads the simulator's binary string directly: building a LogicArray and then an int costs
    ten times more for a signal thousands of bits wide, and this runs once per transfer.
    """
    raw = handle._handle.get_signal_val_binstr() if hasattr(handle, "_handle") else str(handle.value)
    bits = np.frombuffer(raw.encode("ascii"), dtype=np.uint8)[::-1] - ord("0")
    if bits.max(initial=0) > 1:
        unknown = np.flatnonzero(bits > 1)
        raise ValueError(f"{getattr(handle, '_name', handle)} holds X or Z in bits {unknown[0]}..{unknown[-1]} "
                         f"({unknown.size} bits)")
    return bits


class FieldPlan:
    """Extracts many same-width fields from a bit array with one gather and one product."""

    def __init__(self, offsets, width: int, signed: bool):
        self.index = np.asarray(offsets)[:, None] + np.arange(width)[None, :]
        self.weights = np.int64(1) << np.arange(width, dtype=np.int64)
        self.width, self.signed = width, signed

    def __call__(self, bits: np.ndarray) -> np.ndarray:
        """The fields of one bit array [bits] -> [fields], or of many at once [words, bits] -> [words, fields]."""
        values = bits[..., self.index].astype(np.int64) @ self.weights
        if self.signed:
            values = np.where(values >> (self.width - 1), values - (np.int64(1) << self.width), values)
        return values


def bits_to_word(bits: np.ndarray) -> int:
    return int.from_bytes(np.packbits(bits.astype(np.uint8), bitorder="little").tobytes(), "little")


def insert(bits: np.ndarray, offsets: np.ndarray, width: int, values: np.ndarray) -> None:
    """Write int values of one width at many offsets into a bit array (two's complement)."""
    idx = offsets[:, None] + np.arange(width)[None, :]
    bits[idx] = (np.asarray(values, dtype=np.int64)[:, None] >> np.arange(width)[None, :]) & 1
