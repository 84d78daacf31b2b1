"""Files written whole or not at all: a reader never sees half a summary, report or bitstream."""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import numpy as np


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to a temporary name beside `path`, then rename it into place."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # per process: parallel writers never share it
    if isinstance(data, str):
        tmp.write_text(data)
    else:
        tmp.write_bytes(data)
    os.replace(tmp, path)


def write_atomic_npz(path: Path, **arrays) -> None:
    """Arrays as a compressed .npz, atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomic(path, buffer.getvalue())


def write_json(path: Path, value) -> None:
    """`value` as indented, strict JSON, atomically: NaN and infinities are written as null (JSON has no
    such numbers; a strict parser refuses them), which every report check treats as a failure."""
    write_atomic(path, json.dumps(finite_or_null(value), indent=2, allow_nan=False) + "\n")


def finite_or_null(value):
    """`value` with every float that is not finite replaced by None, through dicts, lists and tuples."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite_or_null(v) for v in value]
    if isinstance(value, np.floating):
        return float(value) if np.isfinite(value) else None
    return value


def read_array(path: Path, option: str):
    """A user's .npy or .npz file given as `--option`; a one-line LapicqueError when it cannot be read."""
    from .errors import LapicqueError

    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.lib.npyio.NpzFile):
            with loaded:  # read every member now: a corrupt one fails here, not in the caller
                return {name: loaded[name] for name in loaded.files}
        return loaded
    except FileNotFoundError:
        raise LapicqueError(f"--{option} {path}: no such file") from None
    except IsADirectoryError:
        raise LapicqueError(f"--{option} {path}: a folder, not a file") from None
    except Exception as exc:  # np.load raises a zoo (ValueError, EOFError, BadZipFile, ...) for bad bytes
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise LapicqueError(f"--{option} {path}: not a NumPy .npy/.npz file ({reason})") from None


def write_npy(path: Path, array) -> None:
    """`array` as a .npy file, atomically."""
    buffer = io.BytesIO()
    np.save(buffer, array)
    write_atomic(path, buffer.getvalue())


def write_npz(path: Path, **arrays) -> None:
    """`arrays` as a compressed .npz file, atomically."""
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomic(path, buffer.getvalue())
