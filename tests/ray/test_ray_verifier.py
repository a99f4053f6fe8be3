"""RayVerifier on a real local Ray cluster of 2 simulated nodes (`ray.cluster_utils.Cluster`, one
CPU each); each node's pool drives the REPL test double (tests/support/fake_lean_repl.py), the only
boundary replaced. One cluster for the module: starting Ray costs seconds."""

import json
import threading
import time

import pytest

ray = pytest.importorskip("ray", reason="the ray extra is not installed")

from ray.cluster_utils import Cluster  # noqa: E402

from support.served import DOUBLE, HEADER, job  # noqa: E402
from theoremllama.lean.pool import Verifier  # noqa: E402
from theoremllama.lean.ray_pool import RayVerifier  # noqa: E402

OTHER_HEADER = "import Mathlib\n"


@pytest.fixture(scope="module")
def cluster():
    c = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "memory": 4 * 2**30})
    c.add_node(num_cpus=1, memory=4 * 2**30)
    ray.init(address=c.address, log_to_driver=False, configure_logging=False)
    c.wait_for_nodes()
    yield c
    ray.shutdown()
    c.shutdown()


def strip(v):
    return {k: x for k, x in v.to_dict().items() if k != "seconds"}  # timing differs by nature


def test_one_pool_per_node_sized_by_its_resources_and_one_import_per_node(cluster, tmp_path):
    jobs = [job(i, "  double_sleep_50\n  norm_num" if i % 3 else "  double_error") for i in range(16)]
    out = tmp_path / "v.jsonl"
    with RayVerifier(repl_cmd=DOUBLE, timeout=10, progress=False) as v:
        assert [n.workers for n in v.nodes] == [1, 1]  # 1 CPU and 4 GiB each (4 GiB per REPL)
        verdicts = v.verify_many(jobs, out_path=str(out))
        stats = v.stats()
    assert [x.id for x in verdicts] == [j.id for j in jobs]
    assert [x.reason for x in verdicts] == ["error" if i % 3 == 0 else "ok" for i in range(16)]
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [j.id for j in jobs]
    assert stats["header_imports_by_node"] == [1, 1] and stats["restarts"] == 0  # both nodes worked, one import each
    assert stats["verified"] == 16


def test_headers_are_routed_so_that_each_node_imports_few(cluster):
    # Alternating headers, 1 REPL per node: a node that switched header per batch would re-import
    # each time (12 imports); routed by header, each node keeps one (a steal at the end costs one more).
    jobs = [job(i, "  double_sleep_30\n  norm_num", header=HEADER if i % 2 else OTHER_HEADER) for i in range(12)]
    with RayVerifier(repl_cmd=DOUBLE, timeout=10, progress=False) as v:
        verdicts = v.verify_many(jobs)
        stats = v.stats()
    assert all(x.passed for x in verdicts)
    assert stats["header_imports"] <= 3 and min(stats["header_imports_by_node"]) == 1
    with RayVerifier(repl_cmd=DOUBLE, timeout=10, workers=1, progress=False) as v:
        v.nodes[1].alive = False  # one node only: it drains one header, then the other
        assert all(x.passed for x in v.verify_many(jobs))
        assert v.stats()["header_imports_by_node"][0] == 2
        # now it serves both: it still drains the header it works on before switching (one more import)
        assert all(x.passed for x in v.verify_many([job(i + 20, j.proof, header=j.header) for i, j in enumerate(jobs)]))
        assert v.stats()["header_imports_by_node"][0] == 3


def test_verdicts_match_the_in_process_pool(cluster):
    jobs = [job(0, "  norm_num"), job(1, "  double_error"), job(2, "  native_decide"), job(3, "  sorry"),
            job(4, "  double_retype"), job(5, "  double_old_sorry")]
    with Verifier(DOUBLE, workers=1, timeout=10, progress=False) as local:
        expected = [strip(v) for v in local.verify_many(jobs)]
    with RayVerifier(repl_cmd=DOUBLE, timeout=10, progress=False) as v:
        assert [strip(x) for x in v.verify_many(jobs)] == expected
        assert strip(v.submit(jobs[1]).result(timeout=60)) == expected[1]


def test_an_actor_killed_mid_batch_has_its_jobs_requeued(cluster, tmp_path):
    jobs = [job(i, "  double_sleep_200\n  norm_num") for i in range(14)]
    out = tmp_path / "v.jsonl"
    with RayVerifier(repl_cmd=DOUBLE, timeout=10, progress=False) as v:
        result = {}
        t = threading.Thread(target=lambda: result.update(verdicts=v.verify_many(jobs, out_path=str(out))))
        t.start()
        deadline = time.monotonic() + 60
        while v.stats()["verified"] < 2 or not v.nodes[0].in_flight:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        ray.kill(v.nodes[0].actor, no_restart=True)  # mid-batch: it holds unfinished jobs
        t.join(timeout=120)
        stats = v.stats()
    verdicts = result["verdicts"]
    assert [x.id for x in verdicts] == [j.id for j in jobs] and all(x.passed for x in verdicts)
    assert stats["requeued"] >= 1 and stats["nodes"] == 1
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == [j.id for j in jobs]  # exactly one verdict per job, in input order


def test_verify_cli_on_ray_resumes_like_the_local_pool(cluster, tmp_path, capsys):
    import shlex

    from theoremllama.cli import main

    def write(n):
        inp.write_text("".join(json.dumps({"id": f"t{i}", "formal_statement": f"theorem t{i} (x : ℕ) : x + 0 = x := by\n",
                                           "proof": "  simp" if i % 3 else "  double_error"}) + "\n" for i in range(n)))
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write(6)
    argv = ["verify", str(inp), "-o", str(out), "--ray", cluster.address, "--repl-cmd", shlex.join(DOUBLE),
            "--no-progress"]
    assert main(argv) == 0
    write(9)
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "6 already in" in err and "3 to check" in err
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [v["id"] for v in got] == [f"t{i}" for i in range(9)]
    assert [v["reason"] for v in got] == ["error" if i % 3 == 0 else "ok" for i in range(9)]
