"""Run one red-team case against the engine and judge its answer; shared by the tests and ``report.py``.

The truth comes from ``oracle.py`` (never from the engine).  The engine is
called the way a user calls it — ``ci.audit``, ``ci.assert_claims``,
``ci.certify_translation_equivariance``, the CLI, the registry's ``refute`` —
and its answer is compared with what the truth demands.  The module handed to
the engine must come back unchanged: parameters, every buffer (persistent or
not), training flags, ``requires_grad``, attributes, the RNG states, and it
must still deep-copy.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

import convnet_invariances as ci
from convnet_invariances import app

CLI_MODULE = "convnet_invariances"  # `python -m CLI_MODULE audit ...`
REPO = Path(__file__).resolve().parents[3]

from red_team import oracle  # noqa: E402  (after the engine imports on purpose: one place to rename them)

HOLDS_LIKE = ("holds", "certified")


# ----------------------------------------------------------------------------- the truth


def _oracle_options(case):
    """Round 2: the domains, batch sizes and precondition a case asks the oracle for."""
    return dict(layout=case.layout, domains=oracle.DOMAINS + tuple(case.domains),
                batch_sizes=tuple(case.batches) or oracle.BATCH_SIZES, assume=case.assume,
                memory_format=getattr(case, "memory_format", None), grad_enabled=getattr(case, "grad_enabled", False),
                angles=getattr(case, "angles", ()), input_requires_grad=getattr(case, "input_requires_grad", False),
                deterministic=getattr(case, "deterministic", False))


@lru_cache(maxsize=None)
def truth_of(case):
    """The oracle's finding for every claim of the case (cached: each case is judged once per session)."""
    return tuple(oracle.judge(case.make, case.input_shape, claim, case.judge, **_oracle_options(case))
                 for claim in case.claims)


def secondary_truth(case):
    """The other judge's finding, for the report only (the float64 copy when the case trusts its own dtype)."""
    other = "own" if case.judge == "float64" else "float64"
    try:
        return oracle.judge(case.make, case.input_shape, case.claims[0], other, **_oracle_options(case))
    except Exception as exc:  # e.g. a lazy module cannot be copied to float64 before it is materialised
        return oracle.Finding("unavailable", worst=f"{type(exc).__name__}: {exc}"[:120], judge=other)


# ----------------------------------------------------------------------------- the module must come back unchanged


def _freeze(value, depth=0):
    """A comparable picture of an attribute value (tensors by content, containers recursively)."""
    if depth > 4:
        return type(value).__name__
    if isinstance(value, torch.nn.parameter.UninitializedParameter | torch.nn.parameter.UninitializedBuffer):
        return ("uninitialized", type(value).__name__)
    if isinstance(value, torch.Tensor):
        return ("tensor", str(value.dtype), tuple(value.shape), value.detach().cpu().clone(), value.requires_grad)
    if isinstance(value, dict):
        return ("dict", tuple((repr(k), _freeze(v, depth + 1)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(_freeze(v, depth + 1) for v in value))
    if isinstance(value, (set, frozenset)):
        return ("set", tuple(sorted(repr(v) for v in value)))
    if value is None or isinstance(value, (bool, int, float, str, torch.dtype, torch.device)):
        return value
    return ("object", type(value).__name__)


def _same(a, b):
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.dtype == b.dtype \
            and a.shape == b.shape and bool(torch.equal(torch.nan_to_num(a), torch.nan_to_num(b)))
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks", "_state_dict_hooks",
          "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks", "_state_dict_pre_hooks",
          "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs", "_forward_hooks_always_called")


def snapshot(module):
    """Everything the audit must leave as it was."""
    state = {"rng": (torch.get_rng_state(), random.getstate())}
    for name, m in module.named_modules(remove_duplicate=False):
        state[f"module {name or '<root>'}: type"] = type(m).__name__
        state[f"module {name or '<root>'}: training"] = m.training
        for key, value in vars(m).items():
            if key in ("_parameters", "_buffers", "_modules"):
                state[f"module {name or '<root>'}: {key} names"] = tuple(getattr(m, key).keys())
            elif key in _HOOKS:
                state[f"module {name or '<root>'}: {key}"] = len(value)
            elif key != "training":
                state[f"module {name or '<root>'}: attribute {key}"] = _freeze(value)
    for name, p in module.named_parameters(remove_duplicate=False):
        state[f"parameter {name}"] = _freeze(p)
        state[f"parameter {name}: requires_grad"] = p.requires_grad
    for name, b in module.named_buffers(remove_duplicate=False):
        state[f"buffer {name}"] = _freeze(b)
    return state


def changes(before, after):
    problems = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            problems.append(f"{key}: added by the audit")
        elif key not in after:
            problems.append(f"{key}: removed by the audit")
        elif key == "rng":
            if not torch.equal(before[key][0], after[key][0]):
                problems.append("torch RNG state changed")
            if before[key][1] != after[key][1]:
                problems.append("Python RNG state changed")
        elif not _same(before[key], after[key]):
            problems.append(f"{key}: changed")
    return problems


def _deep_copies(module):
    try:
        copy.deepcopy(module)
        return ""
    except Exception as exc:  # what deepcopy raises is the module's business
        return f"{type(exc).__name__}: {str(exc)[:100]}"


# ----------------------------------------------------------------------------- outcomes


@dataclass
class Outcome:
    case: object
    truth: str
    answer: str
    right: bool
    category: str  # ok, false holds, false alarm, traceback, wrong error, not rejected, state, wrong
    problems: list = field(default_factory=list)
    state_problems: list = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0

    def explain(self):
        lines = [f"{self.case.id}: truth {self.truth}, the engine answered {self.answer!r} "
                 f"(expected one of {self.case.expected}{' or InvalidArgument naming one of ' + repr(self.case.usage_ok) if self.case.usage_ok else ''})"]
        lines += [f"  - {p}" for p in self.problems + self.state_problems]
        if self.message:
            lines.append("  engine said: " + " ".join(self.message.split())[:600])
        return "\n".join(lines)


def _categorise(case, truth, answer, right, traceback):
    if right:
        return "ok"
    if traceback:
        return "traceback"
    holdsish = answer in HOLDS_LIKE or answer in ("returned", "no refutation")
    if truth in ("violated", "random", "stateful", "shape") and holdsish:
        return "false holds"
    if truth == "holds" and (answer in ("violated", "error", "refuted") or answer.startswith("raised")
                             or answer.startswith("exit 1")):
        return "false alarm"
    if truth == "violated" and answer == "error":
        return "wrong error"
    if truth == "usage":
        return "not rejected"
    return "wrong"


def _accepts_invalid_argument(case, message):
    names = list(case.usage_ok) + (["shape"] if case.truth == "shape" else [])
    return any(n.lower() in message.lower() for n in names)


@contextlib.contextmanager
def _quiet():
    """Warnings as a user sees them (the project's pytest config turns some into errors), and one thread:
    two threads on tiny tensors run ten times slower on a shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.set_num_threads(threads)


def run_case(case):
    start = time.perf_counter()
    findings = truth_of(case) if case.truth != "usage" else ()
    truth = findings[0].truth if findings else "usage"
    runner = {"audit": _run_audit, "certificate": _run_audit, "assert_claims": _run_assert_claims, "cli": _run_cli,
              "cli-subprocess": _run_cli, "refute": _run_refute, "registry-cli": _run_registry_cli,
              "given-audit": _run_given_audit, "given-assert": _run_given_assert,
              "reproduce": _run_reproduce, "measure": _run_measure}[case.kind]
    with _quiet():
        outcome = runner(case, truth)
    outcome.seconds = time.perf_counter() - start
    return outcome


def _engine_call(case, call):
    """Run ``call(layer)`` on a fresh layer; return (answer, message, traceback?, state problems)."""
    layer = case.make()
    copies_before = _deep_copies(layer)
    before = snapshot(layer)
    traceback = False
    try:
        answer, message = call(layer)
    except ci.InvalidArgument as exc:
        answer, message = "raised InvalidArgument", str(exc)
    except AssertionError as exc:
        answer, message = "raised AssertionError", str(exc)
    except Exception as exc:  # anything else reaching the user is a traceback
        answer, message, traceback = f"traceback {type(exc).__name__}", f"{type(exc).__name__}: {exc}", True
    state = changes(before, snapshot(layer))
    if getattr(case, "check", None) is not None:  # round 2: what the snapshot cannot see
        state += case.check(layer)
    copies_after = _deep_copies(layer)
    if not copies_before and copies_after:
        state.append(f"the module no longer deep-copies ({copies_after})")
    return answer, message, traceback, state


def _verdict_ok(case, answer, message):
    if answer == "raised InvalidArgument":
        return _accepts_invalid_argument(case, message)
    if case.truth == "shape" and answer == "error":
        return "shape" in message.lower() or "0-d" in message.lower()
    return answer in case.expected


def _audit_options(case):
    """Round 2: the layout and precondition a case gives the engine (none for round-1 cases)."""
    options = {}
    if getattr(case, "engine_layout", ""):
        options["layout"] = case.engine_layout
    if getattr(case, "assume", None) is not None:
        options["assume"] = case.assume
    return options


def _run_audit(case, truth):
    def call(layer):
        result = ci.audit(layer, case.input_shape, [case.claim], **_audit_options(case)).results[0]
        return result.verdict, result.message

    answer, message, traceback, state = _engine_call(case, call)
    right = _verdict_ok(case, answer, message)
    problems = [] if right else [f"verdict {answer!r} for a claim whose truth is {truth!r}"]
    category = _categorise(case, truth, answer, right, traceback)
    if case.kind == "certificate" and not traceback:
        try:
            certificate = ci.certify_translation_equivariance(case.make(), case.input_shape)
        except Exception as exc:  # the certificate raising is a traceback for the user
            problems.append(f"the linear certificate raised {type(exc).__name__}: {exc}")
            right, category = False, "traceback"
        else:
            if certificate.certified and truth != "holds":
                problems.append(f"the linear certificate certified a {truth} claim: {certificate}")
                answer += "; certificate: certified"
                right, category = False, "false holds"
    if right and state:
        category = "state"
    return Outcome(case, truth, answer, right and not state, category, problems, state, message)


def _run_assert_claims(case, truth):
    def call(layer):
        ci.assert_claims(layer, case.input_shape, list(case.claims))
        return "returned", ""

    answer, message, traceback, state = _engine_call(case, call)
    if truth == "holds":
        right = answer == "returned"
    else:
        right = answer == "raised AssertionError"
    problems = [] if right else [f"assert_claims {answer} for claims whose truth is {truth!r}"]
    category = "state" if right and state else _categorise(case, truth, answer, right, traceback)
    return Outcome(case, truth, answer, right and not state, category, problems, state, message)


def _run_cli(case, truth):
    with tempfile.TemporaryDirectory() as scratch:
        # round 2: "{dir}" in a case's arguments is an existing directory inside a scratch folder (reports and
        # their figures written beside it stay out of the repository)
        existing = Path(scratch) / "existing-directory"
        existing.mkdir()
        return _run_cli_in(case, truth, ["audit", *(a.replace("{dir}", str(existing)) for a in case.cli)])


def _run_cli_in(case, truth, args):
    if case.kind == "cli-subprocess":
        done = subprocess.run([sys.executable, "-m", CLI_MODULE, *args], cwd=REPO, capture_output=True, text=True,
                              timeout=300)
        code, out = done.returncode, done.stdout + done.stderr
        traceback = "Traceback (most recent call last)" in out
    else:
        buffer = io.StringIO()
        cwd = os.getcwd()
        try:
            os.chdir(REPO)
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                code = app.main(args)
            traceback = False
        except SystemExit as exc:
            code, traceback = exc.code, False
        except Exception as exc:  # an exception out of main() is a traceback for the user
            code, traceback = None, True
            buffer.write(f"\nTraceback (most recent call last): {type(exc).__name__}: {exc}")
        finally:
            os.chdir(cwd)
        out = buffer.getvalue()
        traceback = traceback or "Traceback (most recent call last)" in out
    answer = "traceback" if traceback else f"exit {code}"
    right = not traceback and code in case.exit_ok
    if right and code == 2 and "error" not in out.lower():
        right = False
    problems = [] if right else [f"the CLI gave {answer} (accepted: exit {case.exit_ok}, no traceback)"]
    return Outcome(case, truth, answer, right, _categorise(case, truth, answer, right, traceback), problems,
                   message=out[-800:])


class FakeEntry:
    """A duck-typed registry entry for the application's ``refute``."""

    def __init__(self, case):
        self.name = case.id
        self.input_shape = case.input_shape
        self.exact_dtype = None
        self.tags = ()
        self._make = case.make

    def build(self, **overrides):
        return self._make()


def _run_refute(case, truth):
    traceback = False
    try:
        result = app.refute(FakeEntry(case), case.claim)
        answer, message = ("refuted" if result.verdict == "violated" else f"returned {result.verdict}"), result.message
    except app.ProfileMismatch as exc:
        answer, message = "no refutation", str(exc)
    except ci.InvarianceError as exc:
        answer, message = f"raised {type(exc).__name__}", str(exc)
    except Exception as exc:  # a raw exception out of refute() is a traceback
        answer, message, traceback = f"traceback {type(exc).__name__}", str(exc), True
    if truth in ("holds", "random"):  # no counterexample exists: refute must not claim one
        right = answer in ("no refutation", "raised LayerError")
    else:
        right = answer == "refuted"
    problems = [] if right else [f"refute() answered {answer!r} for a claim whose truth is {truth!r}"]
    category = "ok" if right else "traceback" if traceback else "false holds" if truth == "violated" else \
        "wrong" if truth == "random" else "false alarm"
    return Outcome(case, truth, answer, right, category, problems, message=str(message)[-800:])


def _run_registry_cli(case, truth):
    from convnet_invariances import models
    from convnet_invariances.models import ASPECTS, Entry, Line

    profile = tuple(Line(s, "equivariant", "none", boundary=b) for s, b in ASPECTS)
    entry = Entry(case.id, lambda **overrides: case.make(), case.input_shape, profile,
                  "red team: every line says none", exact_dtype=None)
    saved = models.REGISTRY
    buffer = io.StringIO()
    traceback = False
    with tempfile.TemporaryDirectory() as out:
        models.REGISTRY = {entry.name: entry}
        try:
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                code = app.main(["audit", "--out", out])
        except Exception as exc:  # an exception out of main() is a traceback for the user
            code, traceback = None, True
            buffer.write(f"\n{type(exc).__name__}: {exc}")
        finally:
            models.REGISTRY = saved
    answer = "traceback" if traceback else f"exit {code}"
    right = not traceback and code in case.exit_ok
    problems = [] if right else [f"the registry audit gave {answer}: the 'none' line for {case.claim} is false "
                                 f"(the claim holds), so it must report a mismatch (exit 1)"]
    category = "ok" if right else "traceback" if traceback else "false alarm"
    return Outcome(case, truth, answer, right, category, problems, message=buffer.getvalue()[-800:])


# ----------------------------------------------------------------------------- round 2: inside a user's @given


def _inside_given(body):
    """Run ``body()`` inside a user's own Hypothesis test (two examples, no deadline, no database), as a user
    who calls the audit from a property test would; returns what the last call of ``body`` returned."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    seen = []

    @settings(max_examples=2, deadline=None, database=None, derandomize=True)
    @given(st.integers(0, 3))
    def users_test(k):
        seen.append(body())

    users_test()
    return seen[-1] if seen else None


def _run_given_audit(case, truth):
    """``audit`` inside a user's @given: its verdict must be the truth's, with no Hypothesis complaint."""
    def call(layer):
        result = _inside_given(lambda: ci.audit(layer, case.input_shape, [case.claim],
                                                **_audit_options(case)).results[0])
        return result.verdict, result.message

    answer, message, traceback, state = _engine_call(case, call)
    right = _verdict_ok(case, answer, message)
    problems = [] if right else [f"inside @given the audit answered {answer!r} for a claim whose truth is {truth!r}"]
    category = "state" if right and state else _categorise(case, truth, answer, right, traceback)
    return Outcome(case, truth, answer, right and not state, category, problems, state, message)


def _run_given_assert(case, truth):
    """``assert_claims`` inside a user's @given: returns for true claims, raises AssertionError for false ones."""
    def call(layer):
        _inside_given(lambda: ci.assert_claims(layer, case.input_shape, list(case.claims), **_audit_options(case)))
        return "returned", ""

    answer, message, traceback, state = _engine_call(case, call)
    right = answer == ("returned" if truth == "holds" else "raised AssertionError")
    problems = [] if right else [f"inside @given assert_claims {answer} for claims whose truth is {truth!r}"]
    category = "state" if right and state else _categorise(case, truth, answer, right, traceback)
    return Outcome(case, truth, answer, right and not state, category, problems, state, message)


# ----------------------------------------------------------------------------- round 2: the printed reproduction


def _run_reproduction(code, layer):
    """Run a reproduction as printed, in a namespace of its own; where it says to put the layer in (a layer the
    snippet cannot rebuild), the case's layer goes there.  Returns the violation's measurement, or None when the
    snippet ran through without raising."""
    from convnet_invariances._reproduction import PLACEHOLDER

    namespace = {"__name__": "__reproduction__", "__case_layer__": layer}
    lines = ["layer = __case_layer__" if PLACEHOLDER in line else line for line in code.splitlines()]
    from convnet_invariances._safety import rng_preserved

    try:
        with rng_preserved():  # a snippet may seed torch (to rebuild a layer): that is the snippet's, not the audit's
            exec("\n".join(lines), namespace)  # noqa: S102 - the engine's own printed reproduction
    except ci.EquivarianceViolation as violation:
        return violation.measurement
    return None


def _run_reproduce(case, truth):
    """The audit must find the violation, and its printed reproduction must run and show it."""
    def call(layer):
        result = ci.audit(layer, case.input_shape, [case.claim], **_audit_options(case)).results[0]
        if result.verdict != "violated":
            return result.verdict, result.message
        code = (result.counterexample or {}).get("reproduce", "")
        try:
            shown = _run_reproduction(code, case.make())
        except Exception as exc:  # the reproduction must run as printed
            return "reproduction raised", f"{type(exc).__name__}: {exc} | reproduction: {code}"
        violated = shown is not None and shown.violated
        return ("violated" if violated else "reproduction shows no violation"), f"reproduction: {code} -> {shown!r}"[:800]

    answer, message, traceback, state = _engine_call(case, call)
    right = answer in case.expected
    problems = [] if right else [f"{answer} (the claim is {truth})"]
    category = "state" if right and state else ("wrong" if not right and not traceback else
                                                _categorise(case, truth, answer, right, traceback))
    return Outcome(case, truth, answer, right and not state, category, problems, state, message)



# ----------------------------------------------------------------------------- round 4: the measures


def _run_measure(case, truth):
    """A measure (``layerwise_lie_derivative``, ``top1_change`` …) on the case's model: ``case.measure(ci, layer)``
    says whether the measure reports the defect ("violated") or everything at the rounding floor ("holds"); that
    answer must be the oracle's truth about the model's claim."""
    def call(layer):
        return case.measure(ci, layer)

    answer, message, traceback, state = _engine_call(case, call)
    right = answer in case.expected
    problems = [] if right else [f"the measure answered {answer!r} for a model whose claim is {truth!r}"]
    category = "state" if right and state else _categorise(case, truth, answer, right, traceback)
    return Outcome(case, truth, answer, right and not state, category, problems, state, message)
