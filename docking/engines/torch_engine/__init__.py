"""PyTorch docking engine with AutoDock Vina 1.2 scoring (registered as ``torch``).

Modules: ``pdbqt`` (parsing, pose writing), ``atomtypes`` (XS typing), ``topology``
(intramolecular pairs, rotor count), ``scoring`` (Vina terms), ``grids`` (receptor maps),
``pose`` (batched pose model), ``search`` (Monte Carlo + BFGS, clustering), ``runner``
(devices, batching, out-of-memory split), ``score_pose`` (score/optimise one pose),
``engine`` (the registered engine).  Importing this package does not import torch.
"""
