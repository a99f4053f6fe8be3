"""One place that decides where proofs are checked: `open_verifier(**config) -> verifier`.

    open_verifier(workers=8, timeout=60)                   # in-process pool (`Verifier`)
    open_verifier(url="http://cpu-node:8000")              # a `theoremllama serve` (`RemoteVerifier`)
    open_verifier(ray="auto", timeout=60)                  # one pool per Ray node (`RayVerifier`)

Every kind has the same interface: `submit(job) -> Future[Verdict]`, `verify_many(jobs,
out_path=None) -> [Verdict]` (in input order, appended to `out_path` as known), `stats()`, `close()`
and the context manager. `eval` and `bootstrap` read `url` / `ray` from their verifier config
section, `verify` from `--verifier-url` / `--ray`; the API key of a server comes from `api_key` or
THEOREMLLAMA_API_KEY.
"""

from __future__ import annotations

import argparse
import inspect
import sys

from theoremllama.errors import UserError
from theoremllama.lean.pool import Verifier
from theoremllama.lean.ray_pool import RayVerifier


def open_verifier(*, url: str | None = None, ray: str | None = None, api_key: str | None = None, **options):
    """A verifier for `options` (the `Verifier` keywords): remote when `url` is set, on a Ray
    cluster when `ray` is (an address, or "auto"), else the in-process pool."""
    if url and ray:
        raise UserError("choose one of verifier url (a server) and ray (a cluster), not both")
    if url:
        # the serve extra (pydantic), only for a remote verifier
        from theoremllama.serve.client import RemoteVerifier

        defaults = _verifier_defaults()
        ignored = sorted(k for k, v in options.items() if k != "progress" and v is not None and v != defaults.get(k))
        if ignored:  # silently dropping e.g. a timeout would check proofs under other limits than asked
            print(f"verifier: checking on the server {url}; its own pool options apply, not "
                  f"{', '.join(ignored)} given here", file=sys.stderr)
        return RemoteVerifier(url, api_key=api_key, progress=options.get("progress", True))
    if ray:
        return RayVerifier(address=ray, **options)
    return Verifier(**options)


def verifier_options(args: argparse.Namespace) -> dict:
    """The `Verifier` keywords found among parsed command-line options (same names), plus
    `progress` from `--no-progress`."""
    names = [p for p in inspect.signature(Verifier.__init__).parameters if p not in ("self", "progress")]
    options = {name: getattr(args, name) for name in names if hasattr(args, name)}
    options["progress"] = not getattr(args, "no_progress", False)
    return options


def _verifier_defaults() -> dict:
    return {name: p.default for name, p in inspect.signature(Verifier.__init__).parameters.items()
            if p.default is not inspect.Parameter.empty}
