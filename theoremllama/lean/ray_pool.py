"""`RayVerifier`: one Verifier pool per Ray node, jobs routed by header, verdicts in input order.

    with RayVerifier(address="auto", timeout=60) as v:          # or `theoremllama verify --ray`
        v.verify_many(jobs, out_path="runs/v.jsonl")

Placement: one actor per alive node that has CPUs, pinned to it (`NodeAffinitySchedulingStrategy`,
hard), owning a local `Verifier` sized to that node: `workers` if given, else
min(node CPUs, node memory / `REPL_MEMORY_GIB` (or `mem_gb`)); it reserves that many CPUs.

Routing: the driver keeps jobs queued per header and gives each node up to 2 x workers jobs at a
time, in batches of at most `workers`: a node first takes jobs of the header it works on, then of
another header it already serves, then of a header no node serves yet, and only then (when it would
idle) a share of another node's header. So
each header is imported on as few nodes as keep them all busy, and each node's pool imports it
once per worker (plus restarts) as in-process.

Fault tolerance: when an actor or its node dies, the jobs of its unfinished batches go back to the
front of their header's queue and run elsewhere; a job's future is set exactly once, from the batch
that finished. When every actor is dead, the remaining jobs fail with a `UserError` naming the cause.

Needs the `ray` extra; theoremllama (and the Lean set-up, at the same paths) must be installed on
every node.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Sequence

from theoremllama.errors import UserError
from theoremllama.lean.job import VerifyJob, prepare_job
from theoremllama.lean.pool import Verifier
from theoremllama.lean.stream import collect_in_order
from theoremllama.lean.verdict import Verdict

REPL_MEMORY_GIB = 4.0
"""Memory assumed per REPL when sizing a node's pool without `mem_gb` (Mathlib's oleans are
memory-mapped and shared, a proof's own working set is the rest)."""

INSTALL_HINT = "Ray is not installed: pip install 'theoremllama[ray]'"


def import_ray():
    try:
        import ray  # the ray extra
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    return ray


class NodeVerifier:
    """The actor on one node: a local Verifier pool; `check(jobs) -> (verdict dicts, pool stats)`."""

    def __init__(self, options: dict):
        self.verifier = Verifier(**{**options, "progress": False})

    def check(self, jobs: list[dict]) -> tuple[list[dict], dict]:
        verdicts = self.verifier.verify_many([VerifyJob(**j) for j in jobs])
        return [v.to_dict() for v in verdicts], self.verifier.stats()

    def pid(self) -> int:
        import os

        return os.getpid()


@dataclass
class _Item:
    job: VerifyJob
    header: str
    future: concurrent.futures.Future


@dataclass
class _Node:
    node_id: str
    actor: object
    workers: int
    headers: dict = field(default_factory=dict)
    """The headers this node's pool has imported (a dict as an ordered set), the current one last."""
    in_flight: dict = field(default_factory=dict)  # ObjectRef -> list[_Item]
    stats: dict = field(default_factory=dict)
    alive: bool = True

    @property
    def free(self) -> int:
        return 2 * self.workers - sum(len(items) for items in self.in_flight.values())


def _check_reachable(address: str, timeout: float = 10.0) -> None:
    """Fail fast on an explicit HOST:PORT (or ray://HOST:PORT) that nothing answers on: `ray.init`
    keeps retrying such an address for many minutes before it gives up."""
    import socket

    if address in ("auto", "local") or ":" not in address:
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not port.isdigit():
        return  # not HOST:PORT: let Ray judge it
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout).close()
    except OSError as e:
        raise UserError(f"cannot connect to the Ray cluster at {address!r}: nothing answers there ({e}); "
                        "start one with `ray start --head`, or give its address, or `local`") from None


class RayVerifier:
    def __init__(self, address: str = "auto", *, workers: int | None = None, mem_gb: float | None = None,
                 progress: bool = True, **options):
        """address: a Ray address, "auto" (the running cluster) or "local" (start one here).
        workers: REPLs per node (default: sized to each node, see the module docstring).
        Other options: the `Verifier` keywords (repl_cmd, timeout, max_uses, ...), applied on every node."""
        ray = import_ray()
        self._ray = ray
        if not ray.is_initialized():
            _check_reachable(address)
            try:
                ray.init(address=None if address == "local" else address, log_to_driver=False,
                         configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise UserError(f"cannot connect to the Ray cluster at {address!r}: {_first_line(e)} (start one with "
                                "`ray start --head`, or give its address, or `local`)") from None
        self.progress = progress
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        actor_class = ray.remote(NodeVerifier)
        self.nodes: list[_Node] = []
        for info in ray.nodes():
            cpus = int(info.get("Resources", {}).get("CPU", 0))
            if not info.get("Alive") or cpus < 1:
                continue
            memory_gib = info["Resources"].get("memory", 0) / 2**30
            size = workers or max(1, min(cpus, int(memory_gib / (mem_gb or REPL_MEMORY_GIB)) or 1))
            actor = actor_class.options(
                num_cpus=min(size, cpus), max_concurrency=4,
                scheduling_strategy=NodeAffinitySchedulingStrategy(info["NodeID"], soft=False),
            ).remote({**options, "workers": size, "mem_gb": mem_gb})
            self.nodes.append(_Node(info["NodeID"], actor, size))
        if not self.nodes:
            raise UserError("the Ray cluster has no alive node with a CPU")
        self.workers = sum(n.workers for n in self.nodes)
        self._cond = threading.Condition()
        self._queues: dict[str, deque[_Item]] = {}
        self._closed = False
        self._requeued = 0
        self._verified = 0
        self._death: str | None = None
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._dispatch, daemon=True, name="ray-verifier")
        self._thread.start()

    # ------------------------------------------------------------------ the Verifier interface

    def submit(self, job: VerifyJob) -> concurrent.futures.Future:
        return self._submit_many([job])[0]

    def verify_many(self, jobs: Sequence[VerifyJob], out_path: str | None = None) -> list[Verdict]:
        """One verdict per job, in input order, appended to `out_path` in input order as known."""
        return collect_in_order(self._submit_many(list(jobs)), out_path, progress=self.progress)

    def stats(self) -> dict:
        """Sums over the nodes' pools (a dead node's last report included), plus `nodes` (alive) and
        `requeued` (jobs re-run after their node died)."""
        with self._cond:
            out = {"workers": self.workers, "nodes": sum(n.alive for n in self.nodes), "requeued": self._requeued,
                   "verified": self._verified, "wall_seconds": round(time.monotonic() - self._started, 4)}
            for key in ("header_imports", "restarts", "busy_seconds"):
                out[key] = sum(n.stats.get(key, 0) for n in self.nodes)
            out["header_imports_by_node"] = [n.stats.get("header_imports", 0) for n in self.nodes]
        return out

    def close(self) -> None:
        with self._cond:
            self._closed = True
            pending = [item for q in self._queues.values() for item in q]
            pending += [item for n in self.nodes for items in n.in_flight.values() for item in items]
            self._queues.clear()
            self._cond.notify_all()
        for item in pending:
            item.future.cancel()
        self._thread.join(timeout=10)
        for node in self.nodes:
            try:
                self._ray.kill(node.actor)
            except Exception:  # already dead
                pass

    def __enter__(self) -> "RayVerifier":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ scheduling

    def _submit_many(self, jobs: list[VerifyJob]) -> list[concurrent.futures.Future]:
        items = [_Item(job, prepare_job(job).header, concurrent.futures.Future()) for job in jobs]
        with self._cond:
            if self._closed:
                raise UserError("this RayVerifier is closed")
            if self._death is not None:
                raise UserError(self._death)
            for item in items:
                self._queues.setdefault(item.header, deque()).append(item)
            self._cond.notify_all()
        return [item.future for item in items]

    def _pick_header_locked(self, node: _Node) -> str | None:
        waiting = {h: q for h, q in self._queues.items() if q}
        if not waiting:
            return None
        current = next(reversed(node.headers), None)
        if current in waiting:  # drain the header it works on before switching (a switch may re-import)
            return current
        mine = [h for h in waiting if h in node.headers]
        if mine:
            return max(mine, key=lambda h: len(waiting[h]))
        served = {h for n in self.nodes if n.alive for h in n.headers}
        fresh = [h for h in waiting if h not in served]
        return max(fresh or waiting, key=lambda h: len(waiting[h]))

    def _launch_locked(self) -> None:
        for node in self.nodes:
            while node.alive and node.free > 0:
                header = self._pick_header_locked(node)
                if header is None:
                    return
                queue = self._queues[header]
                batch = []
                while queue and len(batch) < min(node.free, node.workers):
                    item = queue.popleft()
                    if not item.future.cancelled():
                        batch.append(item)
                if not batch:
                    continue
                node.headers.pop(header, None)
                node.headers[header] = None  # the last one is the header it works on
                jobs = [{"id": i.job.id, "statement": i.job.statement, "proof": i.job.proof,
                         "header": i.job.header} for i in batch]
                node.in_flight[node.actor.check.remote(jobs)] = batch

    def _dispatch(self) -> None:
        try:
            self._dispatch_loop()
        except Exception as e:  # e.g. the cluster went away: nobody may wait forever
            with self._cond:
                self._death = f"the Ray verifier stopped: {_first_line(e)}"
                pending = [item for q in self._queues.values() for item in q]
                pending += [item for n in self.nodes for items in n.in_flight.values() for item in items]
                self._queues.clear()
            for item in pending:
                if not item.future.done():
                    item.future.set_exception(UserError(self._death))

    def _dispatch_loop(self) -> None:
        ray = self._ray
        while True:
            with self._cond:
                if self._closed:
                    return
                self._launch_locked()
                refs = {ref: node for node in self.nodes for ref in node.in_flight}
                if not refs:
                    self._cond.wait(timeout=1.0)
                    continue
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=0.2)
            for ref in ready:
                self._finish(refs[ref], ref)

    def _finish(self, node: _Node, ref) -> None:
        ray = self._ray
        failure: Exception | None = None
        try:
            verdict_dicts, stats = ray.get(ref)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorUnavailableError) as e:
            return self._node_died(node, e)
        except ray.exceptions.RayTaskError as e:  # the pool raised (e.g. the REPL cannot start there)
            failure = UserError(f"verification on Ray node {node.node_id[:8]} failed: {_first_line(e)}")
        with self._cond:
            batch = node.in_flight.pop(ref)
            if failure is None:
                node.stats = stats
                self._verified += len(batch)
        if failure is not None:
            for item in batch:
                item.future.set_exception(failure)
            return
        for item, d in zip(batch, verdict_dicts):
            item.future.set_result(Verdict.from_dict(d))

    def _node_died(self, node: _Node, error: Exception) -> None:
        with self._cond:
            node.alive = False
            lost = [item for items in node.in_flight.values() for item in items]
            node.in_flight.clear()
            by_header: dict[str, list[_Item]] = {}
            for item in lost:
                by_header.setdefault(item.header, []).append(item)
            for header, items in by_header.items():  # back to the front, in their order
                self._queues.setdefault(header, deque()).extendleft(reversed(items))
            self._requeued += len(lost)
            if any(n.alive for n in self.nodes):
                self._cond.notify_all()
                return
            self._death = f"every Ray verification actor died (the last: {_first_line(error)})"
            pending = [item for q in self._queues.values() for item in q]
            self._queues.clear()
        for item in pending:
            item.future.set_exception(UserError(self._death))


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return (text.splitlines() or [type(error).__name__])[0][:300]
