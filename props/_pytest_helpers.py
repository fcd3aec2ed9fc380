"""``assert_claims``: the audit as one assertion inside any test."""

from __future__ import annotations

from ._audit import audit
from ._errors import EquivarianceViolation, InvalidArgument


class ClaimsViolated(EquivarianceViolation):
    """Some stated claims do not hold; the message is the audit report, ``.report`` the report itself (the
    evidence of every claim; ``.measurement``, the evidence of a single check, is None)."""

    def __init__(self, report):
        self.report = report
        self.measurement = None
        AssertionError.__init__(self)
        self._message = report.report()

    def __reduce__(self):
        return type(self), (self.report,)


def assert_claims(module, input_shape, claims, **options):
    """Raise with the audit report unless every claim holds; return the report.

    Takes the options of :func:`convnet_invariances.audit` (``examples``, ``seed``, ``dtype``, ``device``).

    >>> import torch
    >>> pool = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1, padding_mode="circular"),
    ...                            torch.nn.AdaptiveMaxPool2d(1))
    >>> assert_claims(pool, (1, 8, 8), ["translation-invariant"]).ok
    True
    """
    __tracebackhide__ = True
    if claims is None:  # audit() would infer a profile, and a profile asserts nothing
        raise InvalidArgument("claims=None: assert_claims needs the claims to assert, e.g. ['translation-invariant'] "
                              "(audit(module, input_shape) infers a profile instead)")
    report = audit(module, input_shape, claims, **options)
    if not report.ok:
        raise ClaimsViolated(report)
    return report
