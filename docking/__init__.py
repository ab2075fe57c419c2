"""DockDB docking science: receptor/ligand preparation, pockets, engines, poses, interactions.

Pure science: no database, scheduler or web imports. Submodules are imported on demand::

    from docking.receptor import prepare_receptor
    from docking.ligand import prepare_ligand
    from docking.pocket import Box, validate_box
    from docking.engines import get_engine
"""
