"""Campaigns on Dask: receptor/ligand caches, the run graph, the result writer and exports.

Submodules are imported on use (``jobs.campaign``, ``jobs.cluster`` ...); importing
``jobs`` itself starts nothing and pulls in neither Dask nor the docking stack.
"""

from __future__ import annotations
