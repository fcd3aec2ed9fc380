"""The application: the ``invariances`` command, the registry audit, benchmarks, reports, plots, progress.

This sub-package alone may import both the library (``convnet_invariances``)
and the reference layers (``convnet_invariances.models``); it prints and
writes files where the user says.  ``python -m convnet_invariances`` and the
console script ``invariances`` both run :func:`main`.

>>> from convnet_invariances.app import main
>>> main(["--version"])  # doctest: +SKIP
invariances 0.2.0
"""

from ._bench import SmallCNN, bare_forward, format_table, naive_loop, run_cases
from ._cli import UsageError, main
from ._registry_check import (
    ProfileMismatch,
    check_line,
    refute,
    downsampling_comparison,
    has_polyphase_ties,
    smooth_input,
    tie_free_inputs,
    write_downsampling_plot,
)
from ._report import to_html, to_json, to_markdown, write_reports

__all__ = [
    "main", "UsageError",
    "check_line", "refute", "ProfileMismatch", "has_polyphase_ties", "tie_free_inputs", "smooth_input",
    "downsampling_comparison", "write_downsampling_plot",
    "to_json", "to_markdown", "to_html", "write_reports",
    "run_cases", "format_table", "naive_loop", "bare_forward", "SmallCNN",
]
