"""Engine-sized campaign batches: engines declare their batch and GPU use, campaign tasks follow
them, and a GPU worker prepares ligands on its other threads while a batch holds the GPU."""

from __future__ import annotations

import pytest

from docking.engines import get_engine
from jobs.cluster import open_cluster
from jobs.run import _batches, _engine_traits, _Plan, _work


def test_engines_declare_their_batch_and_gpu_use() -> None:
    vina = get_engine("vina")
    assert (vina.preferred_batch, vina.uses_gpu) == (4, False)
    assert _engine_traits("vina", {"exhaustiveness": 1}) == (4, False)
    pytest.importorskip("torch")
    # hundreds of ligands per task on CUDA (known from the device name, no GPU needed to ask),
    # one device pass on CPU
    assert get_engine("torch", device="cuda").preferred_batch == 1024  # two device passes of 512
    assert get_engine("torch", device="cuda").max_batch == 512
    assert get_engine("torch", device="cuda", max_batch=2048).preferred_batch == 2048
    assert get_engine("torch", device="cpu").max_batch == 64
    cpu = get_engine("torch", device="cpu", max_batch=32)
    assert (cpu.preferred_batch, cpu.uses_gpu) == (32, False)


def _plan(receptors: int, drugs: int) -> _Plan:
    todo = [(r, d) for d in range(drugs) for r in range(receptors)]
    return _Plan(1, "p", "vina", {}, 1, {}, {}, todo, len(todo))


def test_campaign_batches_follow_the_engine() -> None:
    # 600 dockings on 2 workers: the engine's batch rules (4 for vina, 256 for torch on CUDA)
    vina = _batches(_plan(2, 300), 4, 2)
    assert len(vina) == 150 and {len(d) for _, d in vina} == {4}
    gpu = _batches(_plan(2, 300), 256, 2)
    assert [len(d) for _, d in gpu] == [256, 44, 256, 44]
    # few dockings: batches shrink so that every worker gets work
    small = _batches(_plan(1, 6), 256, 3)
    assert [len(d) for _, d in small] == [2, 2, 2]
    # each batch is one receptor's drugs, every pair exactly once
    pairs = [(r, d) for r, drugs in gpu for d in drugs]
    assert sorted(pairs) == sorted(_plan(2, 300).todo)



def test_campaign_batches_group_drugs_by_search_size() -> None:
    # a library in id order mixes sizes; each task would run as long as its largest search
    sizes = {"C" * 3: 3, "CCCCCCCCCCCCCCCCCCCC": 20, "CCCCCC": 6, "CCCCCCCCCCCCCCCCC": 17, "CCCC": 4,
             "CCCCCCCCCCCCCCCCCC": 18, "CCCCC": 5, "CCCCCCCCCCCCCCCCCCC": 19}
    drugs = dict(enumerate(sizes))
    todo = [(r, d) for d in drugs for r in (0, 1)]
    plan = _Plan(1, "p", "torch", {}, 1, {}, drugs, todo, len(todo))
    work = _work(plan)
    assert [work[d] for d in sorted(work, key=lambda d: sizes[drugs[d]])] == sorted(work.values())
    batches = _batches(plan, 4, 1, work)
    # per receptor, largest searches first: the four long chains share a task, the four short ones another
    assert [sorted(sizes[drugs[d]] for d in b) for _, b in batches] == [[17, 18, 19, 20], [3, 4, 5, 6]] * 2
    assert sorted((r, d) for r, b in batches for d in b) == sorted(todo)
    # without estimates the plan's (library) order stands
    assert [sizes[drugs[d]] for d in _batches(plan, 4, 1)[0][1]] == [3, 20, 6, 17]


def _gpu_batch(timeout_s: float) -> tuple[bool, dict[str, float]]:
    """Holds the GPU resource until a ligand-preparation task has run beside it."""
    from distributed import Event, get_worker

    return Event("dockdb-test-prep-ran").wait(timeout_s), dict(get_worker().state.total_resources)


def _prep() -> str:
    from distributed import Event

    Event("dockdb-test-prep-ran").set()
    return "prepared"


def test_local_gpu_worker_prepares_ligands_while_a_batch_holds_the_gpu() -> None:
    with open_cluster(local_workers=2, gpu=True) as handle:
        client = handle.client
        info = client.scheduler_info(n_workers=-1)["workers"]
        assert [w["nthreads"] for w in info.values()] == [2] and "GPU worker" in handle.description
        batch = client.submit(_gpu_batch, 120, resources={"GPU": 1}, pure=False)
        prep = client.submit(_prep, pure=False)
        assert prep.result(timeout=120) == "prepared"
        ran_beside, resources = batch.result(timeout=180)
        assert ran_beside and resources == {"GPU": 1}
