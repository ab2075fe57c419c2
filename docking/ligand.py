"""Ligand preparation: SMILES -> standardised, protonated, stereo-expanded 3D PDBQT variants.

Protocol ``ligand-v3``:

1. parse the SMILES (RDKit); refuse metals and elements Vina cannot type;
2. standardise with ``rdMolStandardize``: cleanup, keep the largest organic fragment
   (drops counter-ions and salts), neutralise (``Uncharger``);
3. enumerate at most ``max_stereoisomers`` assignments of *unassigned* stereocentres and
   double bonds (RDKit ``EnumerateStereoisomers``, ``onlyUnassigned=True``, seeded) on the
   neutral parent, before protonation, so a protonated amine nitrogen (which inverts fast)
   is never counted as a stereocentre; assigned stereo in the input is kept;
4. protonate each isomer for ``ph`` with dimorphite-dl at exactly that pH (``ph_min =
   ph_max = ph``, ``precision = 0``: each site takes the state its table pKa gives), which
   normally yields one state; when it yields several, the state with the fewest charged
   atoms, then the smallest absolute net charge, then the smallest canonical SMILES is taken.
   One correction follows: dimorphite's generic ``Phenol`` site has a table pKa of 7.07
   (± 3.3), below pH 7.4, so it turns phenols into phenolates; drug phenols (paracetamol
   9.5, morphine 9.9, estradiol 10.7, catecholamines ~9-10) are neutral at pH 7.4, so a
   phenolate oxygen is re-protonated;
5. add hydrogens, embed with ETKDGv3 (``randomSeed=seed``; random-coordinate fallback; if
   both fail, once more without nitrogen configurations — v3: protonating a bridgehead amine
   written with its configuration, as DrugCentral writes quinidine, can leave an impossible
   ``[N@H+]`` tag), optimise with MMFF94 (UFF if MMFF lacks parameters);
6. Meeko ``MoleculePreparation`` -> ``PDBQTWriterLegacy`` PDBQT per variant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dockdb.errors import LigandError, SmilesError
from docking._util import sha256_of, tool_versions

if TYPE_CHECKING:
    from rdkit.Chem import Mol

__all__ = ["PROTOCOL_VERSION", "VINA_ELEMENTS", "LigandVariant", "PreparedLigand", "prepare_ligand", "search_work"]

PROTOCOL_VERSION = "ligand-v3"
VINA_ELEMENTS = frozenset({"H", "C", "N", "O", "S", "P", "F", "Cl", "Br", "I"})
_METALS = frozenset(
    "Li Be Na Mg Al K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn "
    "Cs Ba La Ce Pr Nd Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po Fr Ra "
    "Ac Th Pa U Np Pu Am Sb Ge".split()
)


@dataclass(frozen=True)
class LigandVariant:
    """One protomer/stereoisomer of a ligand, embedded in 3D and written as PDBQT."""

    smiles: str
    pdbqt: str
    molblock: str
    formal_charge: int
    n_heavy: int


@dataclass(frozen=True)
class PreparedLigand:
    """A ligand ready for docking: one or more variants of the same compound."""

    name: str
    input_smiles: str
    smiles: str
    variants: tuple[LigandVariant, ...]
    n_heavy: int
    n_rotatable: int
    input_hash: str
    protocol_version: str = PROTOCOL_VERSION
    tool_versions: dict[str, str] = field(default_factory=dict)

    @property
    def pdbqt(self) -> str:
        """PDBQT of the first variant (convenience for single-variant ligands)."""
        return self.variants[0].pdbqt


def _standardise(mol: Mol) -> Mol:
    from rdkit.Chem.MolStandardize import rdMolStandardize

    mol = rdMolStandardize.Cleanup(mol)
    mol = rdMolStandardize.LargestFragmentChooser(preferOrganic=True).choose(mol)
    return rdMolStandardize.Uncharger().uncharge(mol)


_PKA_PRECISION = 0.0


def _protonate(smiles: str, ph: float) -> str:
    from dimorphite_dl import protonate_smiles
    from rdkit import Chem

    try:
        states = protonate_smiles(smiles, ph_min=ph, ph_max=ph, precision=_PKA_PRECISION, max_variants=16)
    except Exception:  # dimorphite rejects some valid molecules; keep the neutral form
        states = []
    ranked = []
    for s in states:
        m = Chem.MolFromSmiles(s)
        if m is not None:
            n_charged = sum(1 for a in m.GetAtoms() if a.GetFormalCharge() != 0)
            ranked.append((n_charged, abs(Chem.GetFormalCharge(m)), Chem.MolToSmiles(m)))
    if not ranked:
        return smiles
    return _neutral_phenols(sorted(ranked)[0][2])


def _neutral_phenols(smiles: str) -> str:
    """Re-protonate phenolate oxygens (see step 4 of the protocol)."""
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return smiles
    pattern = Chem.MolFromSmarts("[OX1-]-c")
    hits = [match[0] for match in mol.GetSubstructMatches(pattern)]
    if not hits:
        return smiles
    rw = Chem.RWMol(mol)
    for idx in hits:
        atom = rw.GetAtomWithIdx(idx)
        atom.SetFormalCharge(0)
        atom.SetNumExplicitHs(1)
    Chem.SanitizeMol(rw)
    return Chem.MolToSmiles(rw)


def _drop_nitrogen_stereo(mol: Mol) -> bool:
    """Clear chiral tags on nitrogens; True if there were any.

    A protonated amine written with a nitrogen configuration (``[N@H+]``) can be impossible in a
    bridged ring system (quinuclidine in quinine/quinidine), where the rings fix it anyway; the
    configuration of an invertible amine is not a property of the drug, so the embedding is retried
    without it.
    """
    from rdkit import Chem

    changed = False
    for atom in mol.GetAtoms():
        if atom.GetSymbol() == "N" and atom.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED:
            atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
            changed = True
    return changed


def _embed(mol: Mol, seed: int) -> Mol:
    from rdkit import Chem
    from rdkit.Chem import rdDistGeom, rdForceFieldHelpers

    molh = Chem.AddHs(mol)
    params: Any = rdDistGeom.ETKDGv3()  # rdkit-stubs give its settable fields no types
    params.randomSeed = seed
    if rdDistGeom.EmbedMolecule(molh, params) != 0:
        params.useRandomCoords = True
        if rdDistGeom.EmbedMolecule(molh, params) != 0 and not _drop_nitrogen_stereo(molh):
            raise LigandError(
                f"RDKit could not embed {Chem.MolToSmiles(mol)} in 3D; check the stereochemistry/ring strain"
            )
        if molh.GetNumConformers() == 0 and rdDistGeom.EmbedMolecule(molh, params) != 0:
            raise LigandError(
                f"RDKit could not embed {Chem.MolToSmiles(mol)} in 3D; check the stereochemistry/ring strain"
            )
    if rdForceFieldHelpers.MMFFHasAllMoleculeParams(molh):
        rdForceFieldHelpers.MMFFOptimizeMolecule(molh, maxIters=2000)
    else:
        rdForceFieldHelpers.UFFOptimizeMolecule(molh, maxIters=2000)
    return molh


def _meeko_pdbqt(molh: Mol) -> str:
    from meeko import MoleculePreparation, PDBQTWriterLegacy

    try:
        setups = MoleculePreparation().prepare(molh)
    except Exception as exc:
        raise LigandError(f"Meeko could not prepare the ligand ({exc}); check its chemistry") from exc
    pdbqt, ok, err = PDBQTWriterLegacy.write_string(setups[0])
    if not ok:
        raise LigandError(f"Meeko could not write the ligand PDBQT ({err.strip()}); check its chemistry")
    return pdbqt


def prepare_ligand(
    smiles: str,
    *,
    name: str = "",
    seed: int = 42,
    ph: float = 7.4,
    max_stereoisomers: int = 4,
    max_heavy_atoms: int = 100,
    max_rotatable: int = 30,
) -> PreparedLigand:
    """Prepare a ligand from SMILES (see the module docstring for the protocol)."""
    from rdkit import Chem, rdBase
    from rdkit.Chem import rdMolDescriptors
    from rdkit.Chem.EnumerateStereoisomers import EnumerateStereoisomers, StereoEnumerationOptions

    if not isinstance(smiles, str) or not smiles.strip():
        raise SmilesError("empty SMILES; pass a SMILES string")
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles.strip())
    if mol is None:
        raise SmilesError(f"cannot parse SMILES {smiles.strip()[:80]!r}; check the SMILES syntax")
    spec = {"seed": seed, "ph": ph, "max_stereoisomers": max_stereoisomers,
            "max_heavy_atoms": max_heavy_atoms, "max_rotatable": max_rotatable}
    input_hash = sha256_of(PROTOCOL_VERSION, smiles.strip(), spec)

    with rdBase.BlockLogs():
        std = _standardise(mol)
    symbols = {a.GetSymbol() for a in std.GetAtoms()}
    metals = sorted(symbols & _METALS)
    if metals:
        raise LigandError(f"ligand contains metal {', '.join(metals)}; Vina cannot dock metal complexes")
    untypable = sorted(symbols - VINA_ELEMENTS)
    if untypable:
        raise LigandError(
            f"element(s) {', '.join(untypable)} cannot be typed by Vina (allowed: C N O S P F Cl Br I H)"
        )
    n_heavy = std.GetNumHeavyAtoms()
    if n_heavy > max_heavy_atoms:
        raise LigandError(f"ligand has {n_heavy} heavy atoms (limit {max_heavy_atoms}); raise max_heavy_atoms")
    n_rot = rdMolDescriptors.CalcNumRotatableBonds(std)
    if n_rot > max_rotatable:
        raise LigandError(f"ligand has {n_rot} rotatable bonds (limit {max_rotatable}); raise max_rotatable")

    std_smiles = Chem.MolToSmiles(std)
    prot_smiles = _protonate(std_smiles, ph)
    opts = StereoEnumerationOptions(
        onlyUnassigned=True, maxIsomers=max(1, max_stereoisomers), unique=True, rand=seed
    )
    neutral_isomers = sorted({Chem.MolToSmiles(m) for m in EnumerateStereoisomers(std, options=opts)})
    isomers = sorted({_protonate(iso, ph) for iso in neutral_isomers})
    variants = []
    errors = []
    for iso_smiles in isomers[: max(1, max_stereoisomers)]:
        iso = Chem.MolFromSmiles(iso_smiles)
        try:
            molh = _embed(iso, seed)
            pdbqt = _meeko_pdbqt(molh)
        except LigandError as exc:
            errors.append(str(exc))
            continue
        variants.append(LigandVariant(
            smiles=iso_smiles,
            pdbqt=pdbqt,
            molblock=Chem.MolToMolBlock(molh),
            formal_charge=Chem.GetFormalCharge(iso),
            n_heavy=iso.GetNumHeavyAtoms(),
        ))
    if not variants:
        raise LigandError(errors[0] if errors else f"no 3D variant could be built for {std_smiles}")
    return PreparedLigand(
        name=name or std_smiles,
        input_smiles=smiles.strip(),
        smiles=prot_smiles,
        variants=tuple(variants),
        n_heavy=n_heavy,
        n_rotatable=n_rot,
        input_hash=input_hash,
        protocol_version=PROTOCOL_VERSION,
        tool_versions=tool_versions("rdkit", "meeko", "dimorphite-dl"),
    )


def search_work(smiles: str) -> float:
    """Estimated search work of docking ``smiles``, for ordering a campaign's ligands (no 3D; ~1 ms).

    Vina 1.2 gives each Monte Carlo chain ``70 * 3 * (50 + h) / 2`` steps, ``h`` = movable atoms
    + 10 x (6 + torsions), and each step's local optimisation up to ``(25 + movable atoms) / 3``
    BFGS iterations; the product is what a search evaluates per chain, for Vina and the torch
    engine alike.  Counted on the SMILES' largest fragment: heavy atoms plus hydrogens on N and O
    (the atoms a PDBQT keeps) and RDKit's rotatable bonds (Meeko's torsions differ by a few).
    0.0 for a SMILES RDKit cannot parse (its preparation reports the error)."""
    from rdkit import Chem, rdBase
    from rdkit.Chem import rdMolDescriptors

    from docking.engines.torch_engine.modes import bfgs_iterations, vina_steps  # no torch import

    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None or mol.GetNumAtoms() == 0:
        return 0.0
    mol = max(Chem.GetMolFrags(mol, asMols=True), key=lambda m: m.GetNumHeavyAtoms())
    polar_h = sum(a.GetTotalNumHs() for a in mol.GetAtoms() if a.GetSymbol() in ("N", "O"))
    movable = mol.GetNumHeavyAtoms() + polar_h
    torsions = rdMolDescriptors.CalcNumRotatableBonds(mol)
    return float(vina_steps(movable, torsions) * (1 + bfgs_iterations(movable)))
