"""PyTorch docking engine with AutoDock Vina 1.2 scoring (registered as ``torch``), version 1.0.

Modules: ``pdbqt`` (parsing, pose writing), ``atomtypes`` (XS typing), ``topology``
(intramolecular pairs, rotor count), ``scoring`` (Vina terms and weights), ``grids``
(receptor maps and device constants), ``batch`` (padded ligand batches, rotations),
``kinematics`` (pose -> coordinates and its adjoint), ``energy`` (energies with analytic
gradients), ``search`` (sync-free Monte Carlo + BFGS step), ``modes`` (budgets and shape
buckets), ``cluster`` (device clustering), ``finish`` (uncapped and exact refinement,
final poses), ``compiled`` (torch.compile of the step), ``docker`` (devices, batching,
out-of-memory split: :class:`TorchDocker`), ``rescore`` (score/optimise one given pose),
``engine`` (the registered engine).  Importing this package does not import torch.
"""
