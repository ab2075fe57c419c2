"""The compiled search tick as inductor writes it for a GPU (Triton kernels), run on the CPU by
Triton's interpreter, against the eager tick: ``bench/torch_device_check.py`` with inductor's
Triton code generation for the CPU and ``TRITON_INTERPRET=1``.

    pip install --target /tmp/triton-site triton
    PYTHONPATH=/tmp/triton-site .venv/bin/python bench/triton_interpret_check.py --pairs scatter --atomics \\
        -- --device cpu --batch 8 --mode balanced --ticks 3 --cpu-ticks 0 --dtype float64 --short-opts

Everything after ``--`` goes to ``torch_device_check.py`` (``--device cpu``).  ``--pairs`` makes the
batch sum pair forces by ``scatter`` (engine 1.7.2 on CUDA) or ``gather`` (1.7.3); ``--atomics``
lets inductor write ``scatter_add`` as Triton atomic adds, as it does for CUDA (for the CPU it
otherwise calls ATen's scatter).  The interpreter runs a kernel's programs one after another
in NumPy, so it checks what inductor's Triton program computes, not how a GPU runs it (races
between programs, Triton's compiler): a defect it reproduces is in the program, one it does not
is in the compiler or the hardware's execution.  A diagnostic for machines without a GPU; slow
(minutes per tick at 8 ligands x 48 chains) and tied to Triton's internals (written against
Triton 3.9: no GPU driver is active, so a stand-in reports a CUDA target; the interpreter lacks
``libdevice``, so a stand-in maps its functions onto ``tl.math`` and NumPy).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class _NoGpuDriver:
    """What inductor asks of Triton's active driver, for the interpreter (no GPU present)."""

    def get_current_target(self) -> Any:
        from triton.backends.compiler import GPUTarget

        return GPUTarget("cuda", 90, 32)

    def get_current_device(self) -> int:
        return 0

    def get_current_stream(self, *_: Any) -> int:
        return 0

    def get_active_torch_device(self) -> Any:
        import torch

        return torch.device("cpu")

    def get_benchmarker(self) -> Any:
        from triton.testing import do_bench

        return do_bench


def _libdevice_function(name: str) -> Any:
    """``libdevice.<name>`` in the interpreter: ``tl.math`` where it has the function, else NumPy."""

    def call(*args: Any, **_: Any) -> Any:
        import numpy as np
        import triton.language as tl
        from triton.runtime.interpreter import TensorHandle

        if name in {"sin", "cos", "exp", "exp2", "log", "log2", "sqrt", "rsqrt", "abs", "floor", "ceil", "fma",
                    "div_rn", "sqrt_rn", "cdiv"}:
            return getattr(tl.math, name)(*args)
        numpy_name = {"atan2": "arctan2", "acos": "arccos", "asin": "arcsin", "atan": "arctan",
                      "pow": "power", "nearbyint": "rint"}.get(name, name)
        fn = getattr(np, numpy_name, None)
        if fn is None:
            raise NotImplementedError(f"libdevice.{name} has no stand-in in {Path(__file__).name}")
        handles = [a.handle for a in args]
        out = fn(*[h.data for h in handles])
        if out.dtype == np.bool_:
            return tl.core.tensor(TensorHandle(out, tl.int1), args[0].type.with_element_ty(tl.int1))
        return tl.core.tensor(TensorHandle(out.astype(handles[0].data.dtype), handles[0].dtype.scalar), args[0].type)

    return call


class _LibDevice(types.SimpleNamespace):
    def __getattr__(self, name: str) -> Any:
        return _libdevice_function(name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", choices=["scatter", "gather"], default="gather")
    ap.add_argument("--atomics", action="store_true", help="scatter_add as Triton atomic adds (as for CUDA)")
    args, rest = ap.parse_known_args()
    if rest[:1] == ["--"]:
        rest = rest[1:]
    os.environ["TRITON_INTERPRET"] = "1"
    if args.atomics:
        os.environ["TORCHINDUCTOR_CPP_FALLBACK_SCATTER_REDUCE_SUM"] = "0"
    try:
        from triton.runtime.driver import driver
    except ImportError:
        print("error: Triton is not installed; pip install --target DIR triton and put DIR on PYTHONPATH",
              file=sys.stderr)
        return 2
    driver.set_active(_NoGpuDriver())
    import torch._inductor.config as inductor_config
    import torch._inductor.runtime.triton_compat as triton_compat
    import torch._inductor.runtime.triton_helpers as triton_helpers

    inductor_config.cpu_backend = "triton"
    triton_compat.libdevice = triton_helpers.libdevice = _LibDevice()
    sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
    import torch_device_check

    import docking.engines.torch_engine.docker as docker
    from docking.engines.torch_engine import kinematics

    docker.pose_consts = functools.partial(kinematics.pose_consts, gather_pairs=args.pairs == "gather")
    sys.argv = [sys.argv[0], *rest]
    return torch_device_check.main()


if __name__ == "__main__":
    raise SystemExit(main())
