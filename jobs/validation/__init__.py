"""Validation runs (``dockdb validate …``): how good the docking is, in numbers.

Each kind lives in its own module and ends by storing a :class:`dockdb.models.ValidationRun`
through :mod:`jobs.validation.store`:

* ``redock`` — top-pose RMSD < 2 Å success per engine on the redocking sets;
* ``agreement`` — per-target Spearman between DockCoV2's published scores and ours;
* ``enrichment`` — ROC AUC and enrichment factors of the docking score for known actives;
* ``plausibility`` — PoseBusters checks on stored poses.
"""
