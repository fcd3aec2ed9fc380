"""JSON that every parser reads: non-finite floats are written as the strings "inf", "-inf" and "nan".

``json.dumps`` writes ``Infinity`` and ``NaN`` by default, which are not JSON (``jq``, JavaScript's
``JSON.parse`` and most other readers reject them), and an audit can meet them: a culprit whose output
went non-finite, a tolerance in a precision that overflowed.  The strings read back with Python's
``float()``.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["dumps"]


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """``json.dumps(value, **options)`` with non-finite floats as strings; never writes invalid JSON.

    >>> dumps({"max_error": float("inf"), "errors": [1.5, float("nan")]})
    '{"max_error": "inf", "errors": [1.5, "nan"]}'
    """
    return json.dumps(_finite(value), allow_nan=False, **options)
