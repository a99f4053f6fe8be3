"""The verifier of a learning run, built from its config's `verifier` section.

One function, so that every way of checking proofs the project offers (a local REPL pool today;
a verification server or Ray where the shared factory supports them) is reached from one place.
"""

from __future__ import annotations

from theoremllama.errors import UserError


def make_verifier(section: dict | None, *, where: str = "verifier"):
    """A `Verifier` (anything with `submit(job)` / `verify_many(jobs)` / `close()`) for `section`:
    the keyword arguments of `theoremllama.lean.pool.Verifier` (repl_cmd, workers, timeout, ...)."""
    from theoremllama.lean.pool import Verifier

    options = dict(section or {})
    remote = [k for k in ("url", "ray") if options.get(k)]
    if remote:
        raise UserError(f"config key '{where}.{remote[0]}': this version builds only the local REPL pool "
                        "here; remove the key (or use a version with the shared verifier factory)")
    for k in ("url", "ray"):
        options.pop(k, None)
    options.setdefault("progress", False)
    try:
        return Verifier(**options)
    except TypeError as e:
        raise UserError(f"config key '{where}': bad option ({e})") from None
