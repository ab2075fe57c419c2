"""The OpenAPI 3 description of ``/api/v1``, written by hand and served as JSON.

A test checks that every API route of the app appears here and the reverse.
"""

from __future__ import annotations

from typing import Any

from webapp.queries.chem import MAX_SMARTS_LEN, MAX_SMILES_LEN
from webapp.queries.common import DESCRIPTORS
from webapp.queries.scores import SCORE_SORTS
from webapp.queries.selectivity import SOURCES
from webapp.queries.targets import ROW_SETS, SORTS
from webapp.queries.validation import KINDS as VALIDATION_KINDS


def _q(name: str, schema: dict[str, Any], description: str, required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def _path(name: str, kind: str, description: str) -> dict[str, Any]:
    schema = {"type": "integer", "minimum": 1} if kind == "integer" else {"type": "string", "maxLength": 64}
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


# The limits the code enforces (webapp.params, webapp.queries), declared so that a request the
# schema allows is one the API accepts: ids, scores, descriptor bounds, text lengths, no NUL.
ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
NUM = {"type": "number", "minimum": -1e9, "maximum": 1e9}
SCORE = {"type": "number", "minimum": -1000, "maximum": 1000}
BOOL = {"type": "boolean"}


def _text(n: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": n, "pattern": "^[^\\u0000]*$"}


def _paging(max_page: int) -> list[dict[str, Any]]:
    return [
        _q("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 1}, "page number (1-based)"),
        _q(
            "page_size",
            {"type": "integer", "minimum": 1, "maximum": max_page, "default": min(50, max_page)},
            f"rows per page (at most {max_page})",
        ),
    ]


def _json(description: str, schema: str = "Object") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _body(description: str, mimetype: str) -> dict[str, Any]:
    return {"description": description, "content": {mimetype: {"schema": {"type": "string"}}}}


ERRORS = {
    "400": _json("a bad parameter: the message names it", "Error"),
    "404": _json("unknown id or key", "Error"),
    "503": _json("database unavailable or query took too long", "Error"),
}


def _op(summary: str, ok: dict[str, Any], params: list[dict[str, Any]] | None = None, tag: str = "") -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "tags": [tag] if tag else [],
            "parameters": params or [],
            "responses": {"200": ok, **ERRORS},
        }
    }


def openapi_document(max_page: int) -> dict[str, Any]:
    """The OpenAPI 3 document of API v1, with every parameter limit the code enforces (page size up to *max_page*)."""
    key = _path("key", "string", "target key, e.g. 3clpro")
    drug_id = _path("drug_id", "integer", "DockDB drug id")
    pose_id = _path("pose_id", "integer", "pose id")
    table_params = [
        _q("campaign", ID, "this campaign's scores (default: the target's reference campaign, named in the "
           "response's `campaign`)"),
        _q("rows", {"type": "string", "enum": list(ROW_SETS)}, "drugs scored by us, by DockCoV2 or either"),
        _q("max_score", SCORE, "our best score at most this (kcal/mol)"),
        _q("max_ref_score", SCORE, "DockCoV2's published score at most this"),
        _q("max_ligand_efficiency", SCORE, "ligand efficiency (best score / heavy atoms) at most this"),
        _q("max_size_z", SCORE, "size-corrected z (score residual vs heavy atoms, robust z per campaign and target) "
           "at most this"),
        _q("max_selectivity_z", SCORE, "selectivity z (this target vs the campaign's other targets) at most this"),
        _q("agree", BOOL, "only drugs on whose top pose and rank two or more engines agree (consensus)"),
        _q("approval_status", _text(64), "approval status equals (case-insensitive)"),
        _q("clinical_phase", _text(64), "clinical phase equals (case-insensitive)"),
        _q("q", _text(100), "drug name contains"),
        *[
            _q(f"{d}_{end}", NUM, f"{d} {'at least' if end == 'min' else 'at most'} this (a reversed range "
               "matches nothing)")
            for d in DESCRIPTORS
            for end in ("min", "max")
        ],
        _q("has_active_assay", BOOL, "only drugs with an active assay result"),
        _q("has_literature", BOOL, "only drugs with literature references"),
        _q("plausible", BOOL, "only drugs whose top pose passes every PoseBusters check"),
        _q("sort", {"type": "string", "enum": list(SORTS), "default": "best"},
           "sort column; best (the default): the lower of score and ref_score for each drug"),
        _q("order", {"type": "string", "enum": ["asc", "desc"]}, "sort order (nulls always last)"),
        *_paging(max_page),
    ]
    paths: dict[str, Any] = {
        "/api/v1/stats": _op("row counts of every kind of record", _json("counts"), tag="meta"),
        "/api/v1/openapi.json": _op("this document", _json("OpenAPI 3 document"), tag="meta"),
        "/api/v1/targets": _op(
            "all targets with docked-drug and reference-score counts", _json("targets"), tag="targets"
        ),
        "/api/v1/targets/{key}": _op(
            "one target: structure, pockets, receptor, campaigns", _json("target"), [key], tag="targets"
        ),
        "/api/v1/targets/{key}/table": _op(
            "the target's ranked drug table (our score beside DockCoV2's) with filters",
            _json("a page of rows", "Page"),
            [key, *table_params],
            tag="targets",
        ),
        "/api/v1/targets/{key}/distribution": _op(
            "score histograms per campaign and for DockCoV2",
            _json("histograms"),
            [key, _q("bins", {"type": "integer", "minimum": 2, "maximum": 200, "default": 24}, "number of bins")],
            tag="targets",
        ),
        "/api/v1/drugs": _op(
            "drugs, optionally searched by name, synonym or identifier (best matches first)",
            _json("a page of drugs", "Page"),
            [
                _q("q", _text(100), "name, synonym, InChIKey, PubChem CID, DrugBank/ChEMBL id..."),
                _q("approval_status", _text(64), "approval status equals"),
                *_paging(max_page),
            ],
            tag="drugs",
        ),
        "/api/v1/drugs/suggest": _op(
            "autocomplete over names, synonyms and identifiers",
            _json("suggestions"),
            [_q("q", _text(100), "what was typed"),
             _q("limit", {"type": "integer", "minimum": 1, "maximum": 50}, "how many")],
            tag="drugs",
        ),
        "/api/v1/drugs/{drug_id}": _op(
            "one drug: identifiers, links out, descriptors", _json("drug"), [drug_id], tag="drugs"
        ),
        "/api/v1/drugs/{drug_id}/scores": _op(
            "the drug's scores on every target with per-target rank and percentile",
            _json("scores"),
            [drug_id],
            tag="drugs",
        ),
        "/api/v1/drugs/{drug_id}/poses": _op("every stored pose of the drug", _json("poses"), [drug_id], tag="drugs"),
        "/api/v1/drugs/{drug_id}/annotations": _op(
            "assays, drug targets, Reactome pathways, GSEA, literature", _json("annotations"), [drug_id], tag="drugs"
        ),
        "/api/v1/drugs/{drug_id}/depiction.svg": _op(
            "2D depiction (RDKit)", _body("SVG image", "image/svg+xml"), [drug_id], tag="drugs"
        ),
        "/api/v1/scores": _op(
            "docking results by target, drug or campaign",
            _json("a page of results", "Page"),
            [
                _q("target", _text(64), "target key"),
                _q("drug", ID, "drug id"),
                _q("campaign", ID, "campaign id"),
                _q("status", {"type": "string", "enum": ["done", "failed", "skipped", "any"]}, "result status"),
                _q("max_score", SCORE, "best score at most"),
                _q("min_score", SCORE, "best score at least (above max_score: nothing matches)"),
                _q("plausible", BOOL, "only results whose rank-1 pose passes every PoseBusters check"),
                _q("max_ligand_efficiency", SCORE, "ligand efficiency (best score / heavy atoms) at most this"),
                _q("max_size_z", SCORE, "size-corrected z (score residual vs heavy atoms, robust z per campaign "
                   "and target) at most this"),
                _q("max_selectivity_z", SCORE, "selectivity z (this target vs the campaign's other targets) "
                   "at most this"),
                _q("agree", BOOL, "only drugs on whose top pose and rank two or more engines agree (consensus)"),
                _q("sort", {"type": "string", "enum": list(SCORE_SORTS)}, "sort column"),
                _q("order", {"type": "string", "enum": ["asc", "desc"]}, "sort order"),
                *_paging(max_page),
            ],
            tag="scores",
        ),
        "/api/v1/poses/{pose_id}": _op(
            "one pose: score, terms, interactions, pocket, SDF",
            _json("pose"),
            [pose_id, _q("include_sdf", BOOL, "include the SDF text (default true)")],
            tag="poses",
        ),
        "/api/v1/poses/{pose_id}.sdf": _op(
            "the pose as SDF", _body("SDF", "chemical/x-mdl-sdfile"), [pose_id], tag="poses"
        ),
        "/api/v1/poses/{pose_id}.pdbqt": _op(
            "the pose as PDBQT", _body("PDBQT", "chemical/x-pdbqt"), [pose_id], tag="poses"
        ),
        "/api/v1/poses/{pose_id}/complex.pdb": _op(
            "receptor + pose as one PDB (ligand LIG, chain L)", _body("PDB", "chemical/x-pdb"), [pose_id], tag="poses"
        ),
        "/api/v1/receptors/{receptor_id}.pdb": _op(
            "a prepared receptor structure",
            _body("PDB", "chemical/x-pdb"),
            [_path("receptor_id", "integer", "receptor id")],
            tag="poses",
        ),
        "/api/v1/campaigns": _op("campaigns with status and progress", _json("campaigns"), tag="campaigns"),
        "/api/v1/campaigns/{campaign_id}": _op(
            "one campaign with its manifest",
            _json("campaign"),
            [_path("campaign_id", "integer", "campaign id")],
            tag="campaigns",
        ),
        "/api/v1/search/similar": _op(
            "Tanimoto similarity on Morgan fingerprints (radius 2, 2048 bits)",
            _json("hits"),
            [
                _q("smiles", {**_text(MAX_SMILES_LEN), "format": "smiles"},
                   "query SMILES (one that RDKit cannot parse answers 400 naming it)", required=True),
                _q("threshold", {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5}, "minimum similarity"),
                _q("limit", {"type": "integer", "minimum": 1, "maximum": max_page}, "most hits returned"),
            ],
            tag="search",
        ),
        "/api/v1/search/substructure": _op(
            "SMARTS substructure search (bounded in size and time)",
            _json("hits"),
            [
                _q("smarts", {**_text(MAX_SMARTS_LEN), "format": "smarts"},
                   "SMARTS pattern (one that RDKit cannot parse answers 400 naming it)", required=True),
                _q("limit", {"type": "integer", "minimum": 1, "maximum": max_page}, "most hits returned"),
            ],
            tag="search",
        ),
        "/api/v1/selectivity": _op(
            "drug x target matrix of per-target z-scores for the top drugs",
            _json("matrix"),
            [
                _q("top", {"type": "integer", "minimum": 1, "maximum": 200, "default": 30}, "how many drugs"),
                _q("source", {"type": "string", "enum": list(SOURCES)}, "our scores or DockCoV2's"),
            ],
            tag="selectivity",
        ),
        "/api/v1/validation": _op(
            "newest validation run of each kind, set and engine (summaries, reproducing command, figure URLs)",
            _json("validation runs"),
            [_q("kind", {"type": "string", "enum": list(VALIDATION_KINDS)}, "only this kind of validation")],
            tag="validation",
        ),
        "/api/v1/validation/{run_id}": _op(
            "one validation run with its per-item table",
            _json("validation run"),
            [_path("run_id", "integer", "validation run id")],
            tag="validation",
        ),
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "DockDB API",
            "version": "1",
            "description": "Read-only access to DockDB: targets, drugs, docking scores and poses, evidence. "
            "Bad parameters answer 400 with a JSON message naming the parameter; unknown ids 404.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {
                "Object": {"type": "object"},
                "Page": {
                    "type": "object",
                    "properties": {
                        "items": {"type": "array", "items": {"type": "object"}},
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "page_size": {"type": "integer"},
                        "pages": {"type": "integer"},
                    },
                },
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {"type": "string"},
                        "status": {"type": "integer"},
                        "message": {"type": "string"},
                        "parameter": {"type": "string"},
                    },
                    "required": ["error", "status", "message"],
                },
            }
        },
    }
