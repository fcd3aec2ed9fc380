"""Static certification: claims proved from the graph, without running the layer on data.

The module is traced with ``torch.fx`` (:mod:`._static_trace`), every node
gets an abstract value from the table of known operations
(:mod:`._static_ops`), and the claim is read off the value of the output:

- ``certified``: proved; the reasons say which layers make it so, in the
  user's own layer names ("equivariant on 4Z² only: stride 2 at
  `blocks.2.conv1`, …"; "invariant after `pool`");
- ``not certified``: every operation is known, and their composition does
  not give the claim; the reasons name the layer that limits it (a stride,
  zero padding, a dense layer over positions, an asymmetric kernel …) and,
  where one exists, the stronger claim that *is* certified;
- ``unknown``: an operation the table does not know, or a graph that may not
  describe a call (hooks, data-dependent control flow, in-place tricks,
  training-mode dropout …).  Never a guess.

Covered: circular translations (equivariant and invariant, with stride
and margin), zero-fill translation *invariance* (content that stays inside
is shifted circularly), rot90 (plain and regular channels) and flips.
Scale and continuous rotations are always ``unknown`` here (the search
covers them).  The module is analysed as a deep copy in eval mode, as the
audit checks it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import torch

from ._claims import validate_claim, validate_output
from ._errors import InvalidArgument, describe_value
from ._safety import copy_differs, rng_preserved
from ._static_ops import Interpreter, Unreadable, declined, is_known, patched_torch
from ._static_trace import shapes, trace
from ._static_values import Value
from ._vocabulary import Claim

STATIC_VERDICTS = ("certified", "not certified", "unknown")


@dataclass(frozen=True)
class StaticVerdict:
    """The static verdict on one claim, with its chain of reasons.

    >>> StaticVerdict("rot90-invariant", "unknown", reasons=("no table entry",)).to_dict()["verdict"]
    'unknown'
    """

    claim: str
    verdict: str
    subgroup: int | None = None
    margin: int | None = None
    reasons: tuple = ()
    culprits: tuple = ()
    size_rule: str | None = None
    certified_instead: str | None = None

    @property
    def certified(self) -> bool:
        return self.verdict == "certified"

    def to_dict(self) -> dict:
        return {"claim": self.claim, "verdict": self.verdict, "subgroup": self.subgroup, "margin": self.margin,
                "reasons": list(self.reasons), "culprits": list(self.culprits), "size_rule": self.size_rule,
                "certified_instead": self.certified_instead}

    def __str__(self) -> str:
        lines = [f"{self.claim}: {self.verdict}"]
        lines += [f"  - {reason}" for reason in self.reasons]
        if self.size_rule:
            lines.append(f"  sizes: {self.size_rule}")
        return "\n".join(lines)


@dataclass
class StaticReport:
    """Static verdicts for one module and input shape.

    >>> import torch
    >>> report = certify_static(torch.nn.Conv2d(1, 1, 3, padding=1, padding_mode="circular"), (1, 8, 8),
    ...                         ["translation-equivariant"])
    >>> report.verdicts[0].verdict
    'certified'
    """

    target: str
    input_shape: tuple
    verdicts: list = field(default_factory=list)
    size_table: dict = field(default_factory=dict)  # claim -> [(size, verdict, reason, limiting layer)]

    def to_dict(self) -> dict:
        data: dict = {"target": self.target, "input_shape": list(self.input_shape),
                "claims": [v.to_dict() for v in self.verdicts]}
        if self.size_table:
            data["sizes"] = {claim: [{"size": n, "verdict": verdict, "reason": reason, "layer": layer}
                                     for n, verdict, reason, layer in rows]
                             for claim, rows in self.size_table.items()}
        return data

    def text(self) -> str:
        lines = [f"{self.target}  input {tuple(self.input_shape)}  (static: from the graph, no data)"]
        for verdict in self.verdicts:
            lines.append(str(verdict))
            if verdict.certified_instead:
                lines.append(f"  certified instead: {verdict.certified_instead}")
            rows = self.size_table.get(verdict.claim)
            if rows:
                lines.append("  size  verdict        limited by")
                lines += [f"  {n:>4}  {v:<13}  " + (f"`{layer}`" if layer else why[:60] if v != "certified" else "")
                          for n, v, why, layer in rows]
        return "\n".join(lines)


class StaticAnalysis:
    """The traced graph of one module, analysed for any input shape and claim (the trace is done once).

    >>> import torch
    >>> analysis = StaticAnalysis(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3, stride=2, padding=1),
    ...                                               torch.nn.AdaptiveAvgPool2d(1)))
    >>> analysis.verdict((1, 8, 8), "translation-invariant").verdict
    'not certified'
    >>> analysis.verdict((1, 8, 8), "translation-invariant").certified_instead
    'translation-invariant[stride=2]'
    """

    def __init__(self, module: torch.nn.Module):
        if not isinstance(module, torch.nn.Module):
            raise InvalidArgument(f"module={describe_value(module)} must be a torch.nn.Module")
        patched = patched_torch()  # a global patch of torch changes what every table layer computes
        self.graph, self.why = (None, patched) if patched else trace(module, is_known, declined)
        self._values: dict = {}
        self._module = module
        self._faithful: dict = {}  # input shape -> why a copy (what is traced) computes otherwise, or ""

    def _unfaithful_copy(self, input_shape: tuple) -> str:
        """Why the traced copy does not compute what the module computes on inputs of ``input_shape`` (a
        forward keyed by the instance runs another path on any copy), or ""; checked once per shape."""
        if input_shape not in self._faithful:
            probe = torch.randint(-3, 4, (1,) + input_shape, generator=torch.Generator().manual_seed(0))
            dtypes = [t.dtype for t in list(self._module.parameters()) + list(self._module.buffers())
                      if t.is_floating_point()]
            probe = probe.to(dtypes[0] if dtypes else torch.float32)
            try:
                with rng_preserved():
                    twin = copy.deepcopy(self._module)
                self._faithful[input_shape] = copy_differs(self._module, twin, probe, thorough=False)
            except Exception:  # a module that cannot be copied was not traced either (trace says why)
                self._faithful[input_shape] = ""
        return self._faithful[input_shape]

    def output_value(self, input_shape: tuple, symmetry: str) -> tuple[Value, tuple | None]:
        """The abstract value of the output for ``symmetry``, and the output's per-sample shape."""
        key = (tuple(input_shape), symmetry)
        if key not in self._values:
            self._values[key] = self._analyse(tuple(input_shape), symmetry)
        return self._values[key]

    def _analyse(self, input_shape, symmetry):
        if self.graph is None:
            return Value("unknown", reason=self.why), None
        unfaithful = self._unfaithful_copy(input_shape)
        if unfaithful:
            return Value("unknown", reason=f"{unfaithful}: the traced copy is not the module"), None
        found, why = shapes(self.graph, input_shape)
        if found is None:
            return Value("unknown", reason=why), None
        output = next(n for n in self.graph.graph.nodes if n.op == "output")
        out_node = output.args[0]
        out_shape = found.get(out_node.name) if isinstance(out_node, torch.fx.Node) else None
        value = Interpreter(self.graph, found, symmetry, len(input_shape) - 1).run()
        return value, (tuple(out_shape[1:]) if out_shape is not None else None)

    def verdict(self, input_shape, claim) -> StaticVerdict:
        """The static verdict on ``claim`` for inputs of per-sample shape ``input_shape``."""
        claim = Claim.parse(claim)
        input_shape = tuple(int(n) for n in input_shape)
        validate_claim(claim, input_shape)
        name = str(claim)
        symmetry = claim.symmetry if claim.symmetry in ("rot90", "flip") else "translation"
        try:  # an operation the table's rules cannot read (an argument computed in the graph) is not known
            value, out_shape = self.output_value(input_shape, symmetry)
        except Unreadable as exc:
            return StaticVerdict(name, "unknown", reasons=(f"the certifier cannot read an operation: {exc}",))
        if out_shape is not None:  # what the audit refuses as usage is refused here too, never certified
            validate_output(claim, input_shape, out_shape)
        if claim.symmetry in ("scale", "rotation"):
            return StaticVerdict(name, "unknown", reasons=(
                f"the static certifier composes translations, rot90 and flips; {claim.symmetry} claims are left to "
                f"the search",))
        if claim.symmetry == "translation" and claim.boundary == "zero":
            return self._zero_fill(input_shape, claim)
        return _judge(claim, value, input_shape, out_shape, self)

    def _zero_fill(self, input_shape, claim):
        name = str(claim)
        if claim.relation == "equivariant":
            return StaticVerdict(name, "unknown", reasons=(
                "zero-fill equivariance is not composed statically (the output's own zero fill is not a circular "
                "shift); the search checks it",))
        circular = self.verdict(input_shape, Claim("translation", "invariant", stride=claim.stride))
        if circular.certified:
            return StaticVerdict(name, "certified", subgroup=circular.subgroup, reasons=(
                "content that stays inside is shifted circularly by a zero-fill shift, so circular invariance "
                "implies it",) + circular.reasons, culprits=circular.culprits)
        return StaticVerdict(name, "unknown", reasons=(
            "zero-fill invariance is proved statically only through circular invariance, which is "
            f"{circular.verdict} here",) + circular.reasons, culprits=circular.culprits)


def _axes(values) -> str:
    values = tuple(values)
    return str(values[0]) if len(set(values)) == 1 else "×".join(str(v) for v in values)


def _lattice_words(lattice, d) -> str:
    step = _axes(lattice)
    return f"{step}Z{'²' if d == 2 else ''}" if len(set(lattice)) == 1 else f"({step})Z^{d}"


def _reasons(value: Value, d: int) -> list[str]:
    """The chain of reasons, from the events the value collected on its way through the graph."""
    by_kind: dict[str, list] = {}
    for event in value.events:
        by_kind.setdefault(event.kind, []).append(event)
    reasons = []
    strides = by_kind.get("stride", [])
    if strides:
        where = ", ".join(f"{e.text} at `{e.layer}`" for e in strides)
        reasons.append(f"equivariant on {_lattice_words(value.lattice, d)} only: {where}" if value.lattice
                       else f"subsampled by {where}")
    margins = by_kind.get("margin", [])
    if margins and (not value.margin or any(value.margin)):
        layers = list(dict.fromkeys(e.layer for e in margins))
        shown = ", ".join(f"`{layer}`" for layer in layers[:6]) + (f" and {len(layers) - 6} more" if len(layers) > 6
                                                                    else "")
        reach = f"at distance ≥ {max(value.margin)} from the output border" if value.margin else "away from the border"
        reasons.append(f"equivariant {reach} only: padding that is not circular at {shown}")
    weights = by_kind.get("weights", [])
    if weights:
        layers = list(dict.fromkeys(e.layer for e in weights))
        reasons.append(f"{weights[0].text.split(' (')[0]} at " + ", ".join(f"`{layer}`" for layer in layers[:6])
                       + (f" and {len(layers) - 6} more" if len(layers) > 6 else ""))
    for event in by_kind.get("condition", [])[:4]:
        reasons.append(f"`{event.layer}`: {event.text}")
    for event in by_kind.get("invariant", [])[:1]:
        reasons.append(f"invariant after `{event.layer}` ({event.text})")
    return reasons


def _judge(claim: Claim, value: Value, input_shape, out_shape, analysis) -> StaticVerdict:
    name = str(claim)
    d = len(input_shape) - 1
    if value.kind == "unknown":
        return StaticVerdict(name, "unknown", reasons=(value.reason,), culprits=(value.layer,) if value.layer else ())
    history = _reasons(value, d)
    if value.kind == "broken":
        return StaticVerdict(name, "not certified", reasons=tuple(history) + (value.reason,),
                             culprits=(value.layer,))
    translation = claim.symmetry == "translation"
    subgroup = _uniform(value.lattice) if translation and value.lattice else None
    margin = max(value.margin) if translation and value.margin else None
    if value.kind not in ("equivariant", "invariant"):
        return StaticVerdict(name, "unknown", reasons=(f"the output is a {value.kind} value the certifier does not "
                                                       f"judge",))
    if claim.relation == "invariant":
        if value.kind != "invariant":
            return _not(name, history + ["the output moves with the input (no global pooling makes it invariant)"],
                        subgroup, margin, analysis, claim, input_shape)
        if translation and any(claim.stride % step for step in value.lattice):
            if value.beyond:
                return StaticVerdict(name, "unknown", subgroup=subgroup, reasons=tuple(history) + (value.beyond,))
            return _not(name, history + [f"invariant on {_lattice_words(value.lattice, d)} only, not on "
                                         + (f"the shifts in {claim.stride}Z^{d}" if claim.stride > 1
                                            else "every shift")], subgroup, margin, analysis, claim,
                        input_shape)
        return StaticVerdict(name, "certified", subgroup=subgroup, reasons=tuple(history))
    # equivariant
    if value.kind == "invariant" and out_shape is not None and len(out_shape) == len(input_shape) and \
            all(n == 1 for n in out_shape[1:]) and claim.channels != "regular" and \
            not (translation and any(claim.stride % step for step in value.lattice)):
        return StaticVerdict(name, "certified", subgroup=subgroup, reasons=tuple(history) + (
            "the output is 1×1 per channel, where every shift, rotation and flip acts as the identity",))
    if value.kind == "invariant" or out_shape is None or len(out_shape) != len(input_shape):
        return _not(name, history + ["the output is invariant or flat, so the claimed output action cannot hold"],
                    subgroup, margin, analysis, claim, input_shape)
    if not translation:
        wanted = "regular" if claim.channels == "regular" else "trivial"
        if value.rep != wanted:
            return _not(name, history + [f"the output's channels {'cycle' if value.rep == 'regular' else 'stay'} "
                                         f"under rot90, so the claim needs channels={value.rep or 'trivial'}"
                                         .replace("channels=trivial", "no channels qualifier")],
                        None, None, analysis, claim, input_shape)
        return StaticVerdict(name, "certified", reasons=tuple(history))
    spatial_in, spatial_out = input_shape[1:], out_shape[1:]
    strided = claim.stride > 1 and all(i == o * claim.stride for i, o in zip(spatial_in, spatial_out))
    if any(claim.stride % step for step in value.lattice):
        if value.beyond:
            return StaticVerdict(name, "unknown", subgroup=subgroup, margin=margin,
                                 reasons=tuple(history) + (value.beyond,))
        return _not(name, history + [f"not on every shift in {claim.stride}Z^{d}" if claim.stride > 1 else
                                     "not on every shift"], subgroup, margin, analysis, claim,
                    input_shape)
    for axis, (scale, n_out) in enumerate(zip(value.scale, spatial_out)):
        moved = claim.stride / scale  # the output shift for the input shift by claim.stride along this axis
        expected = 1 if strided else claim.stride
        if moved.denominator != 1 or (int(moved) - expected) % n_out:
            return _not(name, history + [f"a shift by {claim.stride} moves the output by {moved}, the claim's output "
                                         f"action by {expected} (on size {n_out})"], subgroup, margin, analysis,
                        claim, input_shape)
    if claim.margin < max(value.margin):
        return _not(name, history, subgroup, margin, analysis, claim, input_shape)
    return StaticVerdict(name, "certified", subgroup=subgroup, margin=margin, reasons=tuple(history))


def _uniform(values):
    return values[0] if len(set(values)) == 1 else max(values)


def _not(name, reasons, subgroup, margin, analysis, claim, input_shape) -> StaticVerdict:
    """``not certified``, with the strongest translation claim that is certified, if there is one."""
    instead = None
    if claim.symmetry == "translation" and subgroup is not None:
        candidate = Claim("translation", claim.relation, stride=max(subgroup, claim.stride) if subgroup > 1 else
                          claim.stride, margin=margin or 0 if claim.relation == "equivariant" else 0)
        if candidate != claim:
            try:
                if analysis.verdict(input_shape, candidate).certified:
                    instead = str(candidate)
            except InvalidArgument:
                pass
    return StaticVerdict(name, "not certified", subgroup=subgroup, margin=margin, reasons=tuple(reasons),
                         certified_instead=instead)


def default_claims(input_shape, output_shape) -> list[Claim]:
    """What :func:`certify_static` judges when no claims are given: each symmetry the input carries, equivariant
    (for a spatial output) and invariant."""
    spatial = tuple(input_shape[1:])
    relations = ["invariant"] if output_shape is not None and len(output_shape) < len(input_shape) else \
        ["equivariant", "invariant"]
    claims = [Claim("translation", r) for r in relations]
    if len(spatial) == 2 and spatial[0] == spatial[1]:
        claims += [Claim("rot90", r) for r in relations]
    claims += [Claim("flip", r) for r in relations]
    return claims


def certify_static(module, input_shape, claims=None, *, sizes=None, name=None) -> StaticReport:
    """Static verdicts (``certified`` / ``not certified`` / ``unknown``) on ``claims`` for ``module`` on inputs of
    per-sample shape ``input_shape`` — from the traced graph, without running the layer on data.

    ``sizes`` (a range of side lengths) adds, per claim, the verdict at every square size in it and the rule
    those verdicts follow (``size_rule``).

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, stride=2, padding=1, padding_mode="circular"),
    ...                           torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten())
    >>> report = certify_static(net, (1, 8, 8), ["translation-invariant[stride=2]", "translation-invariant"])
    >>> [v.verdict for v in report.verdicts]
    ['certified', 'not certified']
    >>> report.verdicts[0].reasons[0]
    'equivariant on 2Z² only: stride 2 at `0`'
    """
    analysis = StaticAnalysis(module)
    input_shape = tuple(int(n) for n in input_shape)
    if claims is None:
        try:
            _, out_shape = analysis.output_value(input_shape, "translation")
        except Unreadable:  # the output's rank is unknown: judge both relations, each verdict says why
            out_shape = None
        parsed = default_claims(input_shape, out_shape)
    else:
        parsed = [Claim.parse(c) for c in claims]
    report = StaticReport(name or type(module).__name__, input_shape)
    for claim in parsed:
        verdict = analysis.verdict(input_shape, claim)
        if sizes is not None:
            rule, rows = size_rule(analysis, input_shape, claim, sizes)
            verdict = StaticVerdict(**{**verdict.__dict__, "size_rule": rule})
            report.size_table[str(claim)] = rows
        report.verdicts.append(verdict)
    return report


def size_rule(analysis: StaticAnalysis, input_shape, claim, sizes) -> tuple[str, list]:
    """The rule (``"H = W ≡ 3 mod 4"``) and the rows ``(size, verdict, reason, layer)`` of ``claim`` over square sizes
    ``sizes`` (every spatial axis the same size)."""
    claim = Claim.parse(claim)
    rows = []
    for n in sizes:
        shape = (input_shape[0],) + (n,) * (len(input_shape) - 1)
        try:
            verdict = analysis.verdict(shape, claim)
        except InvalidArgument as exc:
            rows.append((n, "inapplicable", str(exc).split(": ", 1)[-1], ""))
            continue
        reason = verdict.reasons[-1] if verdict.reasons and not verdict.certified else ""
        rows.append((n, verdict.verdict, reason, verdict.culprits[0] if verdict.culprits else ""))
    return _rule(rows, len(input_shape) - 1), rows


def _rule(rows, d) -> str:
    """The rule the certified sizes follow.  Every size it covers must be certified: a size where the model
    does not run, or whose verdict is unknown, counts against a rule (stated "from n" when the rule holds only
    above it)."""
    axes = "H = W" if d == 2 else "L"
    certified = [n for n, v, *_ in rows if v == "certified"]
    if not any(v in ("certified", "not certified") for _, v, *_ in rows):
        return "unknown on every size tried"
    if not certified:
        return "certified on no size tried"
    for first in range(len(rows) // 2 + 1):  # the rule may start above the smallest sizes
        tail = [(n, v == "certified") for n, v, *_ in rows[first:]]
        since = f" from {tail[0][0]}" if first else ""
        if all(ok for _, ok in tail):
            return f"certified on every size tried{since} ({tail[0][0]}..{tail[-1][0]})"
        for modulus in range(2, max(3, len(tail) // 2 + 1)):  # a rule is seen over two periods at least
            residues = {n % modulus for n, ok in tail if ok}
            if residues and all((n % modulus in residues) == ok for n, ok in tail):
                shown = " or ".join(str(r) for r in sorted(residues))
                return f"{axes} ≡ {shown} mod {modulus}{since}"
    return f"certified on sizes {', '.join(map(str, certified))} (no periodic rule over this range)"
