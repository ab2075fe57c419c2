"""COVID Moonshot Mpro IC50s -> a stratified sample library ``moonshot-mpro-<N>`` and the
``moonshot-mpro`` assay, for the enrichment validation on ``3clpro``.

Sources: ``moonshot-noncovalent`` and ``moonshot-achiral`` (asapdiscovery
COVID_moonshot_data_clean, CDD export of 2023-10-18; the achiral file repeats rows of the
non-covalent one).  Each row is one IC50 measurement of a ``suspected_SMILES``, written as a
number or with a qualifier (``< 0.0500``, ``> 99.5``).

Rules (stored in ``Assay.active_rule``):

* a measurement is **active** if its IC50 is ≤ 1 µM (``< x`` with x ≤ 1 included),
  **inactive** if it is reported above the top of the assay, ``> x`` with x ≥ 99.5 µM (or a
  number above 99.5), and otherwise intermediate (1-99.5 µM, or a censored value such as
  ``> 99.0`` / ``> 7.46`` that does not decide);
* a compound (one standardised parent InChIKey, so salts and repeats merge) is active or
  inactive only if every one of its measurements says so; intermediate or discordant
  compounds are never sampled;  unparsable SMILES are rejected and counted.

Sample: N actives and N inactives drawn without replacement by ``random.Random(seed)`` from
each class sorted by InChIKey, so a seed gives the same library on every machine.  New
compounds become drugs with approval status ``experimental (COVID Moonshot)``; a compound
that already is a drug (same InChIKey) is reused untouched.  Everything is synced by natural
key, so running it again changes nothing.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from dockdb.config import Config
from dockdb.db import Database
from dockdb.errors import InputError
from dockdb.models import Assay, AssayResult, Drug, DrugIdentifier, DrugSynonym, Library, LibraryMember
from dockdb.sources import get_source
from ingest.common import SourceReport, clip, read_table, sync_rows
from ingest.standardize import Standardized, standardize_many

SOURCES = ("moonshot-noncovalent", "moonshot-achiral")
ASSAY_KEY = "moonshot-mpro"
LIBRARY_PREFIX = "moonshot-mpro"
ACTIVE_MAX_UM = 1.0
INACTIVE_MIN_UM = 99.5
DEFAULT_N = 100
DEFAULT_SEED = 42
APPROVAL_STATUS = "experimental (COVID Moonshot)"
SMILES_COL, ID_COL, IC50_COL = "suspected_SMILES", "Canonical_PostEra_ID", "IC50_(µM)"
ACTIVE_RULE = (f"IC50 ≤ {ACTIVE_MAX_UM:g} µM active; reported above the assay top (> {INACTIVE_MIN_UM:g} µM) "
               f"inactive; 1–{INACTIVE_MIN_UM:g} µM and undecided censored values are not used; a compound counts "
               "only if all its measurements agree (value = median IC50, a lower bound for inactives)")

Verdict = Literal["active", "inactive"] | None


@dataclass(frozen=True)
class Measurement:
    """One Moonshot IC50 measurement: the value in µM and its qualifier ('', '<' or '>')."""
    qualifier: str  # "", "<" or ">"
    value: float  # µM

    @property
    def verdict(self) -> Verdict:
        """'active', 'inactive' or None (ambiguous) by the IC50 thresholds of the set."""
        if self.qualifier in ("", "<") and self.value <= ACTIVE_MAX_UM:
            return "active"
        if self.qualifier == ">" and self.value >= INACTIVE_MIN_UM:
            return "inactive"  # no inhibition up to the top concentration
        if self.qualifier == "" and self.value > INACTIVE_MIN_UM:
            return "inactive"
        return None


def parse_ic50(text: str) -> Measurement | None:
    """``'0.5'``, ``'< 0.0500'``, ``'> 99.5'``, ``'2.67E-03'`` -> Measurement; else None."""
    body = text.strip()
    qualifier = ""
    if body[:1] in ("<", ">"):
        qualifier, body = body[0], body[1:].strip()
    try:
        value = float(body)
    except ValueError:
        return None
    if value != value or value < 0:  # NaN or negative
        return None
    return Measurement(qualifier, value)


@dataclass
class Compound:
    """One Moonshot compound: its standardised structure, PostEra ids and IC50 measurements."""
    inchikey: str
    std: Standardized
    postera_ids: list[str]
    measurements: list[Measurement]

    @property
    def verdict(self) -> Verdict:
        """The verdict all its measurements agree on, or None when they disagree or are ambiguous."""
        verdicts = {m.verdict for m in self.measurements}
        return next(iter(verdicts)) if len(verdicts) == 1 else None

    @property
    def name(self) -> str:
        """The compound's first PostEra id."""
        return self.postera_ids[0]

    @property
    def ic50(self) -> float:
        """Median of its IC50 measurements in µM."""
        return float(statistics.median(m.value for m in self.measurements))


@dataclass
class MoonshotSet:
    """The classified compounds of the Moonshot files and what was set aside."""

    actives: list[Compound] = field(default_factory=list)
    inactives: list[Compound] = field(default_factory=list)
    rows: int = 0
    bad_rows: int = 0
    invalid_smiles: int = 0
    undecided: int = 0


def read_moonshot(config: Config) -> MoonshotSet:
    """Read both files, standardise, merge by InChIKey and classify (no database)."""
    out = MoonshotSet()
    records: list[tuple[str, str, Measurement]] = []
    seen: set[tuple[str, ...]] = set()
    for key in SOURCES:
        for r in read_table(key, config, delimiter=",", required=(SMILES_COL, ID_COL, IC50_COL)):
            out.rows += 1
            dedupe = (r[ID_COL], r[SMILES_COL], r[IC50_COL], r.get("IC50_CI_(Lower)_(µM)", ""),
                      r.get("IC50_CI_(Upper)_(µM)", ""))
            if dedupe in seen:
                continue  # the achiral file repeats rows of the non-covalent one
            seen.add(dedupe)
            m = parse_ic50(r[IC50_COL])
            if m is None or not r[SMILES_COL] or not r[ID_COL]:
                out.bad_rows += 1
                continue
            records.append((r[ID_COL], r[SMILES_COL], m))
    std = standardize_many([s for _, s, _ in records], cache_dir=config.home / "cache")
    compounds: dict[str, Compound] = {}
    invalid: set[str] = set()
    for pid, smiles, m in records:
        res = std.get(smiles)
        if not isinstance(res, Standardized):
            invalid.add(smiles)
            continue
        c = compounds.setdefault(res.inchikey, Compound(res.inchikey, res, [], []))
        if pid not in c.postera_ids:
            c.postera_ids.append(pid)
        c.measurements.append(m)
    out.invalid_smiles = len(invalid)
    for ik in sorted(compounds):
        c = compounds[ik]
        c.postera_ids.sort()
        verdict = c.verdict
        if verdict == "active":
            out.actives.append(c)
        elif verdict == "inactive":
            out.inactives.append(c)
        else:
            out.undecided += 1
    return out


def library_name(n: int, seed: int = DEFAULT_SEED) -> str:
    """Name of the sampled library of *n* actives and *n* inactives (the seed appended unless default)."""
    return f"{LIBRARY_PREFIX}-{n}" if seed == DEFAULT_SEED else f"{LIBRARY_PREFIX}-{n}-seed{seed}"


def sample(data: MoonshotSet, n: int, seed: int = DEFAULT_SEED) -> tuple[list[Compound], list[Compound]]:
    """``n`` actives and ``n`` inactives, reproducibly (classes are sorted by InChIKey)."""
    if n < 1:
        raise InputError(f"--n must be at least 1 (got {n})")
    most = min(len(data.actives), len(data.inactives))
    if n > most:
        raise InputError(f"--n {n} is more than the Moonshot data hold ({len(data.actives)} actives, "
                         f"{len(data.inactives)} inactives); use --n {most} or less")
    rng = random.Random(seed)
    actives = sorted(rng.sample(data.actives, n), key=lambda c: c.inchikey)
    inactives = sorted(rng.sample(data.inactives, n), key=lambda c: c.inchikey)
    return actives, inactives


def _assay_id(session: Session, report: SourceReport) -> int:
    src = get_source(SOURCES[0])
    report.add(sync_rows(session, Assay, ("key",), [{
        "key": ASSAY_KEY, "name": "COVID Moonshot SARS-CoV-2 Mpro inhibition (IC50)",
        "source": "COVID Moonshot (asapdiscovery COVID_moonshot_data_clean, CDD export 2023-10-18)",
        "description": "Biochemical IC50 of Moonshot compounds against SARS-CoV-2 main protease (3CLpro); "
                       "one result per sampled compound (measure ic50, median of its measurements)",
        "units": "µM", "active_rule": ACTIVE_RULE, "citation": src.citation,
    }]), "assay")
    aid = session.scalar(select(Assay.id).where(Assay.key == ASSAY_KEY))
    assert aid is not None
    return aid


def store_sample(session: Session, chosen: list[tuple[Compound, bool]], name: str, seed: int,
                 report: SourceReport) -> None:
    """Drugs, library, names and assay results of the sampled compounds (idempotent)."""
    iks = [c.inchikey for c, _ in chosen]
    existing = set(session.scalars(select(Drug.inchikey).where(Drug.inchikey.in_(iks))))
    new = [{"inchikey": c.inchikey, "name": c.name, "name_lower": c.name.lower(), "smiles": c.std.smiles,
            "approval_status": APPROVAL_STATUS, **c.std.descriptors()}
           for c, _ in chosen if c.inchikey not in existing]
    counts = sync_rows(session, Drug, ("inchikey",), new)
    report.add(counts, "drug")
    report.details["new_drugs"] = counts[0]
    report.details["existing_drugs"] = len(existing)
    ids = {ik: i for i, ik in session.execute(select(Drug.id, Drug.inchikey).where(Drug.inchikey.in_(iks)))}
    n = len(chosen) // 2
    report.add(sync_rows(session, Library, ("name",), [{
        "name": name, "source": f"COVID Moonshot ({', '.join(SOURCES)})",
        "description": f"COVID Moonshot Mpro compounds: {n} actives (IC50 ≤ {ACTIVE_MAX_UM:g} µM) and {n} inactives "
                       f"(> {INACTIVE_MIN_UM:g} µM), sampled with seed {seed}",
    }]))
    lib_id = session.scalar(select(Library.id).where(Library.name == name))
    aid = _assay_id(session, report)
    members, synonyms, idents, results = [], [], [], []
    for c, active in chosen:
        did = ids[c.inchikey]
        members.append({"library_id": lib_id, "drug_id": did, "source_name": c.name,
                        "source_ref": clip(f"{'active' if active else 'inactive'}, IC50 {c.ic50:.3g} µM", 255)})
        for pid in c.postera_ids:
            synonyms.append({"drug_id": did, "name_lower": pid.lower(), "name": pid, "source": "moonshot"})
            idents.append({"drug_id": did, "kind": "postera_id", "value": clip(pid, 128)})
        results.append({"assay_id": aid, "drug_id": did, "measure": "ic50", "value": c.ic50, "units": "µM",
                        "p_value": None, "active": active, "source_ref": clip(c.name, 128)})
    report.add(sync_rows(session, LibraryMember, ("library_id", "drug_id"), members,
                         where=LibraryMember.library_id == lib_id), "library_member")
    report.add(sync_rows(session, DrugSynonym, ("drug_id", "name_lower"), synonyms, compare=()), "drug_synonym")
    report.add(sync_rows(session, DrugIdentifier, ("drug_id", "kind", "value"), idents, compare=()),
               "drug_identifier")
    report.add(sync_rows(session, AssayResult, ("assay_id", "drug_id", "measure"), results,
                         where=AssayResult.assay_id == aid), "assay_result")


def load_moonshot(db: Database, config: Config, n: int = DEFAULT_N, seed: int = DEFAULT_SEED) -> SourceReport:
    """Build library ``moonshot-mpro-<n>`` (``-seed<s>`` for another seed) and the assay results."""
    if n < 1:
        raise InputError(f"--n must be at least 1 (got {n})")
    name = library_name(n, seed)
    report = SourceReport("moonshot")
    start = time.perf_counter()
    data = read_moonshot(config)
    actives, inactives = sample(data, n, seed)
    report.read = data.rows
    report.rejected = data.bad_rows + data.invalid_smiles
    report.details.update(library=name, seed=seed, active_max_um=ACTIVE_MAX_UM, inactive_min_um=INACTIVE_MIN_UM,
                          actives_available=len(data.actives), inactives_available=len(data.inactives),
                          undecided=data.undecided, invalid_smiles=data.invalid_smiles,
                          actives=len(actives), inactives=len(inactives))
    with db.session() as session:
        # members in InChIKey order (classes interleaved), so `campaign create --limit K` takes a mixed subset
        chosen = sorted([(c, True) for c in actives] + [(c, False) for c in inactives], key=lambda x: x[0].inchikey)
        store_sample(session, chosen, name, seed, report)
    report.seconds = time.perf_counter() - start
    return report
