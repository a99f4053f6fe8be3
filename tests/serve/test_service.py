"""`theoremllama serve`'s app under a real uvicorn server on loopback, with real HTTP clients
(requests, RemoteVerifier); the Lean REPL behind the pool is the test double (process boundary)."""

import threading
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from support.served import Served, job
from theoremllama.errors import UserError
from theoremllama.serve.app import Limits
from theoremllama.serve.client import RemoteVerifier


def post_jobs(url, jobs, **kw):
    body = {"jobs": [{"id": j.id, "statement": j.statement, "proof": j.proof, "header": j.header} for j in jobs]}
    return requests.post(f"{url}/verify", json=body, timeout=30, **kw)


def test_verify_returns_verdicts_in_order_and_the_metrics_count_them(pool):
    jobs = [job(0, "  norm_num"), job(1, "  double_error"), job(2, "  sorry"), job(3, "  native_decide")]
    with Served(pool()) as s:
        r = post_jobs(s.url, jobs)
        assert r.status_code == 200
        got = r.json()["verdicts"]
        assert [(v["id"], v["reason"]) for v in got] == [("0", "ok"), ("1", "error"), ("2", "forbidden"), ("3", "axiom")]
        metrics = requests.get(f"{s.url}/metrics", timeout=10)
        health = requests.get(f"{s.url}/health", timeout=10).json()
    assert metrics.headers["content-type"].startswith("text/plain")
    samples = {(smp.name, tuple(sorted(smp.labels.items()))): smp.value
               for m in text_string_to_metric_families(metrics.text) for smp in m.samples}
    assert samples[("theoremllama_verdicts_total", (("reason", "ok"),))] == 1
    assert samples[("theoremllama_verdicts_total", (("reason", "forbidden"),))] == 1
    assert samples[("theoremllama_verdicts_total", (("reason", "timeout"),))] == 0
    assert samples[("theoremllama_verify_seconds_count", ())] == 4
    assert samples[("theoremllama_header_imports_total", ())] >= 1
    assert ("theoremllama_restarts_total", ()) in samples and ("theoremllama_queue_length", ()) in samples
    assert health["status"] == "ok" and health["workers"] == 2 and health["queue_length"] == 0
    assert health["verified"] == 4


def test_auth_on_and_off(pool):
    jobs = [job(0, "  norm_num")]
    with Served(pool(), Limits(api_key="s3cret")) as s:
        assert post_jobs(s.url, jobs).status_code == 401
        assert post_jobs(s.url, jobs, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert post_jobs(s.url, jobs, headers={"Authorization": "Bearer s3cretX"}).status_code == 401
        assert requests.get(f"{s.url}/metrics", timeout=10).status_code == 401
        assert post_jobs(s.url, jobs, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert post_jobs(s.url, jobs, headers={"X-Auth-Token": "s3cret"}).status_code == 200  # kimina's header
        assert requests.get(f"{s.url}/health", timeout=10).status_code == 200  # open, for load balancers
        with RemoteVerifier(s.url, api_key="s3cret", progress=False) as client:
            assert client.verify_many(jobs)[0].passed
        with RemoteVerifier(s.url, api_key="wrong", progress=False) as client:
            with pytest.raises(UserError, match="401"):
                client.submit(jobs[0]).result(timeout=30)
    with Served(pool()) as s:  # no key configured: no auth
        assert post_jobs(s.url, jobs).status_code == 200


def test_oversize_request_and_batch_are_refused_before_anything_runs(pool):
    verifier = pool()
    with Served(verifier, Limits(max_request_bytes=2000, max_batch=3)) as s:
        big = [job(0, "  norm_num\n  -- " + "x" * 3000)]
        r = post_jobs(s.url, big)
        assert r.status_code == 413 and "2000 bytes" in r.json()["detail"]
        # the same without Content-Length (chunked): counted as it streams in
        chunks = iter([b'{"jobs": [{"id": "0", "statement": "theorem p0 : True :=", "proof": "', b"x" * 3000, b'"}]}'])
        r = requests.post(f"{s.url}/verify", data=chunks, headers={"Content-Type": "application/json"}, timeout=30)
        assert r.status_code == 413
        r = post_jobs(s.url, [job(i, "  norm_num") for i in range(4)])
        assert r.status_code == 413 and "at most 3" in r.json()["detail"]
        assert post_jobs(s.url, [job(i, "  norm_num") for i in range(3)]).status_code == 200
    assert verifier.stats()["verified"] == 3


def test_a_job_without_a_theorem_is_refused_by_name():
    from theoremllama.lean.pool import Verifier
    from support.served import DOUBLE
    with Verifier(DOUBLE, workers=1, progress=False) as v, Served(v) as s:
        r = requests.post(f"{s.url}/verify", json={"jobs": [{"id": "bad", "statement": "def f := 1", "proof": "2"}]},
                          timeout=30)
        assert r.status_code == 422 and "'bad'" in r.json()["detail"]
        r = requests.post(f"{s.url}/verify", json={"jobs": [{"statement": "theorem t : True :=", "proof": "trivial"}]},
                          timeout=30)
        assert r.status_code == 422
        assert v.stats()["verified"] == 0


def test_queue_full_gives_429_with_retry_after_and_the_client_waits_its_turn(pool):
    verifier = pool(workers=1)
    with Served(verifier, Limits(max_queue=2)) as s:
        slow = [job(i, "  double_sleep_600\n  norm_num") for i in range(2)]
        first = {}
        t = threading.Thread(target=lambda: first.update(r=post_jobs(s.url, slow)))
        t.start()
        deadline = time.monotonic() + 10
        while requests.get(f"{s.url}/health", timeout=10).json()["queue_length"] < 2:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        r = post_jobs(s.url, [job(9, "  norm_num")])
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        # RemoteVerifier retries on 429 (honouring Retry-After) until the queue has room
        with RemoteVerifier(s.url, progress=False, backoff=0.05) as client:
            verdict = client.submit(job(9, "  norm_num")).result(timeout=60)
            assert verdict.passed and client.stats()["retries"] >= 1
        t.join()
        assert [v["reason"] for v in first["r"].json()["verdicts"]] == ["ok", "ok"]


def test_a_hung_proof_times_out_while_other_requests_are_served(pool):
    with Served(pool(workers=2, timeout=2)) as s:
        hung = {}
        t = threading.Thread(target=lambda: hung.update(r=post_jobs(s.url, [job(0, "  double_hang")])))
        t.start()
        time.sleep(0.3)  # the hang has reached its worker
        for i in range(1, 4):
            start = time.monotonic()
            r = post_jobs(s.url, [job(i, "  norm_num")])
            assert r.json()["verdicts"][0]["reason"] == "ok"
            assert time.monotonic() - start < 1.5, "served while the other worker hangs"
        assert t.is_alive()
        t.join(timeout=30)
        assert hung["r"].json()["verdicts"][0]["reason"] == "timeout"


def test_a_client_retries_across_a_server_restart(pool):
    verifier = pool()
    s1 = Served(verifier)
    with s1:
        client = RemoteVerifier(s1.url, progress=False, backoff=0.05, max_backoff=0.2, retries=100)
        assert client.verify_many([job(0, "  norm_num")])[0].passed
    # the server is down: submitted jobs wait in retries until it is back on the same port
    futures = [client.submit(job(i, "  norm_num" if i % 2 else "  double_error")) for i in range(1, 7)]
    time.sleep(0.5)
    assert not any(f.done() for f in futures)
    with Served(verifier, port=s1.port):
        verdicts = [f.result(timeout=60) for f in futures]
    client.close()
    assert [v.reason for v in verdicts] == ["ok", "error"] * 3 and [v.id for v in verdicts] == list("123456")
    assert client.stats()["retries"] >= 1


def test_remote_verdicts_are_identical_to_in_process_ones(pool, tmp_path):
    jobs = [job(0, "  norm_num"), job(1, "  double_error"), job(2, "  native_decide"), job(3, "  fail"),
            job(4, "  double_old_sorry"), job(5, "  norm_num\n#exit"), job(6, "  double_retype"),
            job(7, "  simp [h]", header="import Mathlib\n"), job(8, "norm_num", header="import Missing.Module\n")]
    local = pool().verify_many(jobs)
    with Served(pool()) as s, RemoteVerifier(s.url, progress=False, batch_size=4) as client:
        remote = client.verify_many(jobs, out_path=str(tmp_path / "v.jsonl"))
        single = [client.submit(j).result(timeout=30) for j in jobs[:3]]
    strip = lambda v: {k: x for k, x in v.to_dict().items() if k != "seconds"}  # noqa: E731 (timing differs)
    assert [strip(v) for v in remote] == [strip(v) for v in local]
    assert [strip(v) for v in single] == [strip(v) for v in local[:3]]
    assert len({v.reason for v in local}) >= 6  # a real spread of reasons, not all-ok
    lines = (tmp_path / "v.jsonl").read_text().splitlines()
    assert [__import__("json").loads(x)["id"] for x in lines] == [j.id for j in jobs]  # input order


def test_remote_submit_refuses_a_bad_job_at_once_like_the_pool():
    with RemoteVerifier("http://127.0.0.1:9", progress=False) as client:
        with pytest.raises(UserError, match="not a `theorem`"):
            client.submit(job(0, "x").__class__(id="b", statement="def f := 1", proof="2"))
