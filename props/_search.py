"""The falsification search: look hard for an input on which a claim fails, and say what was searched.

A search draws input batches from the portfolio of domains (:mod:`._domains`)
— first one batch per domain and scale, then more chosen by Hypothesis, which
steers toward larger errors with ``target()`` — and evaluates every check of
the claim on each with the orbit engine.  Batch sizes vary (1, odd sizes,
several samples); large groups are evaluated whole on the first inputs and on
a sample of their elements (always with the shifts nearest the identity)
afterwards, within the budget the caller sets (inputs and/or seconds).  On the
first violation the search stops and Hypothesis shrinks the input's
description (domain, batch, seed, scale) while the violation persists.

Inside a running Hypothesis test (a user's ``@given`` calling the audit)
Hypothesis cannot be nested; the search then draws the same portfolio and
further inputs from a seeded generator, and says so.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

import torch
from hypothesis import HealthCheck, Phase, Verbosity, currently_in_test_context, example, given, settings, target
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from ._claims import Check, run_check
from ._domains import (
    BATCH_SIZES,
    BY_NAME,
    CONTRASTS,
    DOMAIN_NAMES,
    LARGEST_BATCH,
    MAGNITUDES,
    SIGNS,
    VALUES,
    InputCase,
    assumption_variants,
    portfolio,
)
from ._errors import LayerError, NotAFunction, OutputShapeMismatch
from ._measurement import OrbitResult
from ._vocabulary import Claim

#: a group this small is evaluated whole on every input
FULL_ORBIT_LIMIT = 64
#: a larger group is evaluated whole on the first inputs (up to WHOLE_ORBIT_MAX elements), and then on every
#: input while the whole orbits so far and the next one's expected cost stay within WHOLE_ORBIT_SECONDS (a
#: defect at one far shift, on one kind of input, is met only by a whole orbit on that input); otherwise it is
#: sampled: FULL_ORBIT_LIMIT elements, the nearest and the farthest from the identity and a random rest
FULL_ORBIT_INPUTS = 2
WHOLE_ORBIT_MAX = 1024
WHOLE_ORBIT_SECONDS = 6.0
#: the elements nearest the identity, and as many farthest from it, always take part in a sampled orbit
NEAREST = 16


@dataclass
class Searched:
    """What a search covered: the evidence behind ``holds``."""

    inputs: int = 0
    samples: int = 0
    comparisons: int = 0
    domains: set = field(default_factory=set)
    batch_sizes: set = field(default_factory=set)
    group_sizes: dict = field(default_factory=dict)  # check name -> elements in its group
    full_orbits: int = 0
    sampled_orbits: int = 0
    skipped: dict = field(default_factory=dict)  # domain -> why its inputs were skipped
    arbiters: set = field(default_factory=set)
    notes: set = field(default_factory=set)
    engine: str = "hypothesis"
    assumption_failed: int = 0  # input batches set aside because they break the stated assumption
    stopped_by_time: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        """One sentence: how many comparisons, over which elements and inputs."""
        groups = ", ".join(f"{n:,} {name}" for name, n in self.group_sizes.items())
        sizes = ", ".join(map(str, sorted(self.batch_sizes)))
        orbit = (f"whole orbits on {self.full_orbits} input(s), sampled orbits (the nearest and the farthest "
                 f"elements and a random rest) on {self.sampled_orbits}" if self.sampled_orbits else "whole orbits")
        text = (f"{self.comparisons:,} comparisons over {groups} × {self.samples} input sample(s) in {self.inputs} "
                f"batch(es) from {len(self.domains)} domain(s) ({', '.join(sorted(self.domains))}), batch sizes "
                f"{sizes}; {orbit}")
        if self.skipped:
            text += "; skipped: " + "; ".join(f"{d} ({why})" for d, why in self.skipped.items())
        if self.assumption_failed:
            text += f"; {self.assumption_failed} input batch(es) set aside by the stated assumption"
        if self.stopped_by_time:
            text += "; stopped at the time budget"
        return text

    def to_dict(self) -> dict:
        return {"inputs": self.inputs, "samples": self.samples, "comparisons": self.comparisons,
                "domains": sorted(self.domains), "batch_sizes": sorted(self.batch_sizes),
                "group_sizes": dict(self.group_sizes), "whole_orbits": self.full_orbits,
                "sampled_orbits": self.sampled_orbits, "skipped_domains": dict(self.skipped),
                "engine": self.engine, "seconds": round(self.seconds, 3), "stopped_by_time": self.stopped_by_time,
                "set_aside_by_assumption": self.assumption_failed}


@dataclass
class Violation:
    """A violation found by the search: the input's description, the check, the element, the evidence."""

    case: InputCase
    check: Check
    element: object
    x: torch.Tensor
    result: OrbitResult


@dataclass
class SearchOutcome:
    searched: Searched
    violation: Violation | None = None
    largest: tuple | None = None  # (relative error, absolute error, element, check name) over everything searched
    results: list = field(default_factory=list)  # (check, result) per evaluated check, for error maps


class _Found(Exception):
    def __init__(self, violation):
        super().__init__("violation")
        self.violation = violation


def _elements_for(check: Check, index: int, case: InputCase, affordable: bool = False) -> tuple | None:
    """The elements evaluated on the ``index``-th input: all of a small group, all of a larger one on the first
    inputs or while ``affordable``, else a sample (the nearest, the farthest and a random rest)."""
    elements = check.elements
    if len(elements) <= FULL_ORBIT_LIMIT or affordable or (
            index < FULL_ORBIT_INPUTS and len(elements) <= WHOLE_ORBIT_MAX):
        return None
    size = WHOLE_ORBIT_MAX if index < FULL_ORBIT_INPUTS else FULL_ORBIT_LIMIT
    by_distance = _by_distance(elements, getattr(check.group, "shape", None))
    ends = max(NEAREST, size // 4)
    chosen = list(dict.fromkeys(by_distance[:ends] + by_distance[::-1][:NEAREST]))
    taken = set(chosen)
    rest = [g for g in elements if g not in taken]
    return tuple(chosen + random.Random(case.seed).sample(rest, max(0, size - len(chosen))))


def _by_distance(elements, shape):
    """The elements from the identity outward (shift length, on the torus for circular shifts)."""
    def size(g):
        shifts = getattr(g, "shifts", ())
        if shape is None:
            return sum(abs(t) for t in shifts)
        return sum(min(t % n, -t % n) for t, n in zip(shifts, shape))
    return sorted(elements, key=size)


class _Search:
    def __init__(self, f, claim, checks, *, dtype, device, mode, seed, examples, seconds, progress, label, assume,
                 approximate_below=None):
        self.f, self.claim, self.checks, self.assume = f, claim, checks, assume
        self.approximate_below = approximate_below
        self.small: Violation | None = None  # the worst violation below ``approximate_below`` so far
        self.small_relative = 0.0  # its relative error
        self.dtype, self.device, self.mode = dtype, device, mode
        self.seed, self.examples, self.seconds, self.progress, self.label = seed, examples, seconds, progress, label
        self.searched = Searched()
        self.start = time.perf_counter()
        self.found: Violation | None = None
        self.stop: LayerError | None = None  # a layer that is not a function of its input ends the search
        self.largest = None
        self.results: list = []
        self.index = 0
        self.whole_seconds = 0.0  # time spent on whole orbits of groups above FULL_ORBIT_LIMIT
        self.per_comparison: float | None = None  # seconds per (element, sample), measured

    def out_of_time(self):
        return self.seconds is not None and time.perf_counter() - self.start > self.seconds

    def evaluate(self, case: InputCase):
        """All checks on one input batch; raises _Found on a violation.  Returns the largest relative error."""
        if self.stop is not None:  # every later call fails the same way, so Hypothesis stops quickly
            raise self.stop
        if self.found is not None:  # shrinking: only the violating element, on the input Hypothesis proposes
            check, g = self.found.check, self.found.element
            x = case.tensor(check.sample_shape, self.dtype, self.device)
            if self.assume is not None and not self.assume(x):
                return 0.0
            try:
                result = run_check(self.f, x, check, self.claim, mode=self.mode, elements=(g,), label=self.label)
            except LayerError:
                return 0.0  # this input shows nothing at g (or cannot be evaluated): not a smaller counterexample
            if not result.holds:
                raise _Found(Violation(case, check, g, x, result))
            return 0.0
        if self.out_of_time():
            self.searched.stopped_by_time = True
            return 0.0
        index, self.index = self.index, self.index + 1
        worst = 0.0
        case = self._meeting_assumption(case)
        for check in self.checks:
            x = case.tensor(check.sample_shape, self.dtype, self.device)
            if self.assume is not None and not self.assume(x):
                self.searched.assumption_failed += 1
                continue
            whole_cost = None if self.per_comparison is None else \
                self.per_comparison * len(check.elements) * case.batch
            affordable = whole_cost is not None and self.whole_seconds + whole_cost <= WHOLE_ORBIT_SECONDS
            elements = _elements_for(check, index, case, affordable)
            started = time.perf_counter()
            try:
                result = run_check(self.f, x, check, self.claim, mode=self.mode, elements=elements, label=self.label)
            except (NotAFunction, OutputShapeMismatch) as exc:
                self.stop = exc
                raise
            except LayerError as exc:
                # the layer rejects this input itself (raises, or returns NaN/inf): skip the domain, say so
                self.searched.skipped.setdefault(case.domain, f"the layer rejects these inputs: {str(exc)[:160]}")
                continue
            spent = time.perf_counter() - started
            count = len(check.elements) if elements is None else len(elements)
            self.per_comparison = spent / (count * case.batch)
            if elements is None and len(check.elements) > FULL_ORBIT_LIMIT:
                self.whole_seconds += spent
            self._record(case, check, elements, result)
            worst = max(worst, self._relative(result))
            if not result.holds:
                g = result.elements[result.worst_index()]
                violation = Violation(case, check, g, x, result)
                relative = result.measurement(result.elements.index(g)).relative_error
                if self.approximate_below is not None and relative < self.approximate_below:
                    # a small violation of an approximate claim: the verdict needs the worst over the whole search
                    if self.small is None or relative > self.small_relative:
                        self.small, self.small_relative = violation, relative
                    continue
                self.found = violation
                raise _Found(self.found)
        if self.progress is not None:
            self.progress(min(self.index, self.examples), self.examples)
        return worst

    def _meeting_assumption(self, case: InputCase) -> InputCase:
        """``case``, or the first of its variants (other transforms, other kinds of input of the same size) that
        meets the stated assumption; every batch tried and set aside is counted."""
        if self.assume is None:
            return case
        shape = self.checks[0].sample_shape
        for candidate in [case] + assumption_variants(case):
            if self.assume(candidate.tensor(shape, self.dtype, self.device)):
                return candidate
            self.searched.assumption_failed += 1
        return case  # none meets it: the loop below sets it aside

    def _relative(self, result):
        i = result.largest_index()
        m = result.measurement(i)
        relative = m.relative_error
        if self.largest is None or relative > self.largest[0]:
            self.largest = (relative, m.max_error, result.elements[i], m)
        return relative

    def _record(self, case, check, elements, result):
        s = self.searched
        s.inputs += 1 if check is self.checks[0] else 0
        s.samples += case.batch if check is self.checks[0] else 0
        s.domains.add(case.domain)
        s.batch_sizes.add(case.batch)
        s.group_sizes[check.group.name] = len(check.elements)
        count = len(check.elements) if elements is None else len(elements)
        s.comparisons += count * case.batch
        if check is self.checks[0]:
            if elements is None:
                s.full_orbits += 1
            else:
                s.sampled_orbits += 1
        s.arbiters.add(result.arbiter)
        s.notes.update(result.notes)
        if elements is None:
            self.results.append((check, result))


def _cases(seed):
    """The strategy of generated inputs: any domain and scale, transforms of sign, value grid and magnitude, any
    batch size up to :data:`LARGEST_BATCH`, the other samples of a batch varied or not, any seed.  Each part
    shrinks toward the plain case (the first domain, no transform, one sample)."""
    def build(domain, scale_index, batch, case_seed, contrast, sign, values, magnitude, vary):
        scales = BY_NAME[domain].scales
        transforms = tuple(t for t in (contrast, sign, values, magnitude) if t)
        return InputCase(domain, case_seed, scales[scale_index % len(scales)], batch, transforms, vary)

    return st.builds(build, st.sampled_from(DOMAIN_NAMES), st.integers(0, 2),
                     st.one_of(st.sampled_from(sorted(set(BATCH_SIZES))), st.integers(1, LARGEST_BATCH)),
                     st.integers(0, 2**31 - 1), st.sampled_from(CONTRASTS), st.sampled_from(SIGNS),
                     st.sampled_from(VALUES),
                     st.sampled_from(MAGNITUDES), st.booleans())


def search(f, claim: Claim, checks: list[Check], *, dtype, device, mode="auto", seed=0, examples=24,
           seconds=None, progress=None, label="the layer", assume=None, approximate_below=None) -> SearchOutcome:
    """Search for a violation of ``claim`` (its ``checks``) on inputs from the portfolio; see the module docstring.

    ``examples`` input batches at most (the portfolio first, then generated ones), ``seconds`` at most;
    ``assume(x) -> bool`` sets aside inputs outside a stated precondition.  With ``approximate_below``, violations
    of a smaller relative error do not end the search (an approximate claim is judged by its worst error): the
    worst of them is the outcome's violation unless a larger one is found.
    Raises :class:`~convnet_invariances.LayerError` when the layer is not a function of its input.
    """
    state = _Search(f, claim, checks, dtype=dtype, device=device, mode=mode, seed=seed, examples=examples,
                    seconds=seconds, progress=progress, label=label, assume=assume,
                    approximate_below=approximate_below)
    explicit = portfolio(seed)[:examples]
    generated = max(0, examples - len(explicit))
    try:
        if currently_in_test_context():
            state.searched.engine = "seeded portfolio (inside a Hypothesis test, which cannot nest another)"
            _seeded(state, explicit, generated, seed)
        else:
            _hypothesis(state, explicit, generated, seed)
    except _Found as found:
        state.found = found.violation
    except LayerError:
        raise
    except Exception:  # Hypothesis' own complaints (a flaky failure): keep what the search found, if anything
        if state.stop is not None:
            raise state.stop from None
        if state.found is None:
            raise
    state.searched.seconds = time.perf_counter() - state.start
    return SearchOutcome(state.searched, state.found or state.small, state.largest, state.results)


def _seeded(state, explicit, generated, seed):
    rng = random.Random(seed)
    cases = list(explicit)
    for _ in range(generated):
        domain = rng.choice(DOMAIN_NAMES)
        transforms = tuple(t for t in (rng.choice(CONTRASTS), rng.choice(SIGNS), rng.choice(VALUES),
                                       rng.choice(MAGNITUDES)) if t)
        cases.append(InputCase(domain, rng.randrange(2**31), rng.choice(BY_NAME[domain].scales),
                               rng.randint(1, LARGEST_BATCH), transforms, rng.random() < 0.5))
    for case in cases:
        state.evaluate(case)


def _hypothesis(state, explicit, generated, seed):
    def probe(case):
        relative = state.evaluate(case)
        target(float(min(relative, 1e300)), label="relative error")

    test = given(_cases(seed))(probe)
    for case in reversed(explicit):  # explicit examples run first, in the order given
        test = example(case)(test)
    test = settings(max_examples=max(1, generated), database=None, deadline=None, derandomize=False,
                    phases=[Phase.explicit, Phase.generate, Phase.target, Phase.shrink] if generated else
                    [Phase.explicit], suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet,
                    report_multiple_bugs=False, print_blob=False)(test)
    test = hypothesis_seed(seed)(test)
    test()
