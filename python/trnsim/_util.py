"""Argument conversions shared by the API functions: Python values to the CLI's option text."""
from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, Optional, Sequence, Union

import numpy as np

from ._errors import InputError

PathLike = Union[str, "os.PathLike[str]"]


def _path(value: Any, what: str) -> str:
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    raise TypeError(f"{what}: expected a path or a name (str), not {type(value).__name__}")


def _sets(values: Union[None, Mapping[str, Any], Iterable[str]]) -> list[str]:
    """{"pe.rows": 64} or ["pe.rows=64"] -> ["pe.rows=64"] (the CLI's --set)."""
    if values is None:
        return []
    if isinstance(values, Mapping):
        out = []
        for k, v in values.items():
            if isinstance(v, bool):
                v = "true" if v else "false"
            out.append(f"{k}={v}")
        return out
    if isinstance(values, str):
        return [values]
    return [str(v) for v in values]


def _shapes(shapes: Optional[Mapping[str, Sequence[int]]]) -> list[str]:
    """{"x": (1, 3, 16, 16)} -> ["x=1x3x16x16"] (the CLI's --shape); () is a scalar."""
    if shapes is None:
        return []
    if not isinstance(shapes, Mapping):
        raise TypeError("shapes: expected a dict of input name -> dimensions")
    out = []
    for name, dims in shapes.items():
        if isinstance(dims, (int, np.integer)):
            dims = (dims,)
        try:
            dims = [int(d) if isinstance(d, (int, np.integer)) and not isinstance(d, bool) else None
                    for d in dims]
        except TypeError:
            raise InputError(f"shapes['{name}']: expected a sequence of integers") from None
        if any(d is None or d < 0 for d in dims):
            raise InputError(f"shapes['{name}']: expected integers >= 0, not {shapes[name]!r}")
        out.append(f"{name}=" + "x".join(str(d) for d in dims))
    return out
