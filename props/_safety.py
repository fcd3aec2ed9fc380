"""Run a user's module without changing it: parameters, buffers, training flags, grad flags and RNG state."""

from __future__ import annotations

import contextlib
import random

import torch


@contextlib.contextmanager
def untouched(module):
    """Inside: ``module`` in eval mode, grads off, RNG forked.  After: everything exactly as before.

    Buffers such as BatchNorm running statistics would otherwise move with
    every forward in training mode; we switch to eval *and* restore the
    tensors' values in case the module updates state in eval mode too.
    """
    tensors = {name: t.detach().clone() for name, t in module.state_dict(keep_vars=True).items()}
    modes = {m: m.training for m in module.modules()}
    grads = {p: p.requires_grad for p in module.parameters()}
    cpu_rng = torch.get_rng_state()
    cuda_rng = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    py_rng = random.getstate()
    try:
        module.eval()
        for p in module.parameters():
            p.requires_grad_(False)
        with torch.no_grad():
            yield module
    finally:
        with torch.no_grad():
            current = module.state_dict(keep_vars=True)
            for name, value in tensors.items():
                if name in current and current[name].shape == value.shape:
                    current[name].copy_(value)
        for m, training in modes.items():
            m.training = training
        for p, flag in grads.items():
            p.requires_grad_(flag)
        torch.set_rng_state(cpu_rng)
        if cuda_rng is not None:
            torch.cuda.set_rng_state_all(cuda_rng)
        random.setstate(py_rng)
