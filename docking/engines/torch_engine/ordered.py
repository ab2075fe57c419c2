"""Sums whose rounding does not depend on how far a batch pads the summed dimension.

A batch pads every ligand to its batch's bucket (atoms, torsions), so a pose's search vector has
``6 + T`` entries with ``T`` the batch's largest torsion count, and its atoms run to the batch's
largest atom count.  ``Tensor.sum`` over such a dimension is a reduction loop whose shape follows
the padded length (a dimension shorter than a vector runs as scalar code, a longer one as vector
lanes added pairwise at the end), so a ligand's dot products rounded differently beside a larger
ligand, and its search could end at another minimum (engine 1.11 and earlier).

:func:`ordered_sum` gives every ligand the same sums whatever its batch's padding; padded entries
are zeros at the end of the dimension.  Compiled, it adds the entries one at a time in index order
(adding an exact zero changes no float); the additions fuse into the surrounding loop, one load and
one add per entry.  Eager, where each addition would be an operation of its own, it sums blocks of
:data:`WIDTH` entries (the last block filled with zeros), then blocks of those sums, until one is
left: every block holds the same numbers whatever the batch padded them to, a block of padding
sums to an exact zero, and so does adding it, so the result is the same however long the padded
dimension is (two or three operations per level, one level per 16-fold of length).
"""

from __future__ import annotations

import torch

__all__ = ["WIDTH", "ordered_dot", "ordered_sum"]

# entries per block of an eager sum (a vector register's float32 lanes on AVX-512)
WIDTH = 16


def ordered_sum(v: torch.Tensor) -> torch.Tensor:
    """``v.sum(-1)``, rounded alike whatever zeros pad ``v``'s last dimension (see the module)."""
    if torch.compiler.is_compiling():
        cols = v.unbind(-1)
        out = cols[0]
        for col in cols[1:]:
            out = out + col
        return out
    while True:
        n = v.shape[-1]
        blocks = max(1, -(-n // WIDTH))
        v = torch.nn.functional.pad(v, (0, blocks * WIDTH - n)).reshape(*v.shape[:-1], blocks, WIDTH).sum(-1)
        if blocks == 1:
            return v[..., 0]


def ordered_dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Dot products of ``a`` and ``b`` along their last dimension (:func:`ordered_sum`)."""
    return ordered_sum(a * b)
