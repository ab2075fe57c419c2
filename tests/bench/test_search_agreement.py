"""bench/search_agreement.py: searches judged against every Vina run of a pocket, and the
bench's ``--modes`` entries (``bench_torch_search.mode_params``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.search_agreement import (
    VINA,
    agreement,
    collect_runs,
    compare_runs,
    goal_counts,
    input_fingerprints,
    tables,
)

DRUGS = [f"d{i}" for i in range(6)]
V42 = dict(zip(DRUGS, [-9.0, -8.5, -8.0, -7.5, -7.0, -6.5], strict=True))
V7 = dict(zip(DRUGS, [-8.0, -8.9, -9.0, -7.5, -7.1, -6.5], strict=True))  # Vina at another seed: d0, d2 swapped
TORCH = {k: v + 0.1 for k, v in V42.items()} | {"d5": -5.8}  # ranks as seed 42, one drug 0.7 worse


def _inputs() -> tuple[dict, dict]:
    screen = {f"protease|{k}": {"best": v, "time_s": 1.0, "cpu": 1} for k, v in V42.items()}
    bench = {
        "vina_noise|protease|seed 7": {"best": V7, "spearman": 0.0},
        "vina_noise|protease|seed 42, exhaustiveness 1": {"best": {k: 0.0 for k in DRUGS}},  # not exh 8
        "variants|protease|balanced|42|1.11": {"best": TORCH},
        "variants|protease|balanced|42|1.11|2 drugs": {"best": {"d0": 0.0, "d1": 0.0}},  # a subset
        "cost|protease|20|balanced": {"best": {}},
    }
    return screen, bench


def test_agreement_counts_rank_mean_worst_and_drugs_over_half_a_kcal() -> None:
    a = agreement(TORCH, V42)
    assert a.n == 6 and a.spearman == pytest.approx(1.0)
    assert a.mean_diff == pytest.approx((5 * 0.1 + 0.7) / 6) and a.worst == pytest.approx(0.7) and a.over == 1
    assert a.goals() == (True, False, False)
    assert agreement(V42, V42).goals() == (True, True, True)
    with pytest.raises(ValueError, match="3 or more"):
        agreement({"d0": -1.0, "d1": -2.0}, V42)


def test_runs_are_compared_with_each_vina_run_but_themselves() -> None:
    runs = collect_runs(*_inputs())
    assert [(r.family, r.seed) for r in runs] == [(VINA, 7), (VINA, 42), ("torch balanced 1.11", 42)]
    pairs = {(run.label, ref.label): a for run, ref, a in compare_runs(runs)}
    assert set(pairs) == {(f"{VINA}, seed 7", f"{VINA}, seed 42"), (f"{VINA}, seed 42", f"{VINA}, seed 7"),
                          ("torch balanced 1.11, seed 42", f"{VINA}, seed 42"),
                          ("torch balanced 1.11, seed 42", f"{VINA}, seed 7")}
    v = pairs[(f"{VINA}, seed 7", f"{VINA}, seed 42")]
    assert v.spearman == pytest.approx(1 - 6 * 8 / 210) and v.worst == pytest.approx(1.0) and v.over == 1
    counts = goal_counts(compare_runs(runs))
    assert counts[VINA][3] == 2 and counts["torch balanced 1.11"] == [1, 0, 0, 2]
    text = tables(runs)
    # against seed 42, seed 7 and the lower of the two per drug; Vina runs only against each other
    assert ("| torch balanced 1.11, seed 42 | 1.00 / +0.200 / +0.70 / 1 | 0.77 / +0.283 / +1.10 / 2 | "
            "0.90 / +0.450 / +1.10 / 2 |") in text
    assert f"| {VINA}, seed 7 | 0.77 / -0.083 / +1.00 / 1 | — | — |" in text
    assert "| torch balanced 1.11 | 1 of 2 | 0 of 2 | 0 of 2 | 0.89 (0.77–1.00) | 0.450 |" in text


def test_bench_modes_entries_take_engine_parameters_and_refuse_bad_ones_in_one_line() -> None:
    from bench.bench_torch_search import mode_params

    assert mode_params("balanced:stall=0:exhaustiveness=6") == {"mode": "balanced", "stall": 0.0,
                                                                "exhaustiveness": 6}
    assert mode_params("fast@5") == {"mode": "fast", "exhaustiveness": 5}
    for bad, why in [("balanced:bogus=1", "unknown torch engine parameter"), ("fast@x", "after @ comes"),
                     ("nosuch", "nosuch"), ("balanced:stall=-1", "stall")]:
        with pytest.raises(SystemExit, match=why) as e:
            mode_params(bad)
        assert str(e.value).startswith(f"error: --modes entry {bad!r}: ") and "\n" not in str(e.value)


def test_runs_without_three_drugs_in_common_are_left_out_and_an_empty_report_says_what_to_run() -> None:
    screen, bench = _inputs()
    bench["variants|TMPRSS2|balanced|42|1.11"] = {"best": {"d0": -7.0, "d1": -6.0}}  # no Vina run there
    bench["variants|protease|balanced|7|1.11"] = {"best": {"d0": -7.0, "x": -6.0, "y": -5.0}}  # 1 in common
    runs = collect_runs(screen, bench)
    assert len(runs) == 5 and len(compare_runs(runs)) == 4
    assert "torch balanced 1.11, seed 7 | — | — | — |" in tables(runs)
    assert tables([]).startswith("nothing to compare:") and "\n" not in tables([])


def test_input_fingerprints_name_each_prepared_input_and_change_with_it(tmp_path: Path) -> None:
    assert input_fingerprints(tmp_path) == "inputs (sha256): none prepared"
    (tmp_path / "receptors").mkdir()
    (tmp_path / "receptors" / "protease.pdbqt").write_text("ATOM 1\n")
    (tmp_path / "receptors" / "TMPRSS2.pdbqt").write_text("ATOM 2\n")
    (tmp_path / "ligands.json").write_text("{}")
    line = input_fingerprints(tmp_path)
    assert line == ("inputs (sha256): TMPRSS2 b91a9b11c7cf, protease a50e8faff392, ligands 44136fa355b3")
    (tmp_path / "receptors" / "protease.pdbqt").write_text("ATOM 1 \n")  # one byte more
    changed = input_fingerprints(tmp_path)
    assert changed.split(", ")[0] == line.split(", ")[0] and changed.split(", ")[1] != line.split(", ")[1]
