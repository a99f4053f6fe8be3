"""The verifier of a learning run, built from its config's `verifier` section.

The section takes the same keys as eval's (`Verifier` options, or `url` for a `theoremllama serve`,
or `ray` for a Ray cluster); `theoremllama.lean.open.open_verifier` decides which kind it is.
"""

from __future__ import annotations

from theoremllama.errors import UserError
from theoremllama.lean.open import open_verifier


def make_verifier(section: dict | None, *, where: str = "verifier"):
    """A verifier (`submit(job)` / `verify_many(jobs)` / `close()`) for the config `section`."""
    options = dict(section or {})
    options.setdefault("progress", False)
    try:
        return open_verifier(**options)
    except TypeError as e:  # an unknown key: name the config section, not a Python signature
        raise UserError(f"config key '{where}': bad option ({e})") from None
