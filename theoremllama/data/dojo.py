"""Theorem extraction by tracing with LeanDojo, as in the paper (`theoremllama data extract --dojo`).

LeanDojo builds the repository with Lean and reads the elaborated syntax trees, so it sees every
theorem exactly as Lean does (including ones produced by macros). It needs the `dojo` extra
(`pip install 'theoremllama[dojo]'`), a Lean toolchain (elan + lake) and, for a remote
repository, network access; tracing Mathlib takes hours and tens of GB. Without them, the
lexical extractor (`theoremllama.data.extract`) gives the same records in seconds.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

from theoremllama.data.extract import ExtractResult, git_commit
from theoremllama.data.records import TheoremRecord
from theoremllama.errors import UserError


def _require_dojo():
    try:
        import lean_dojo  # noqa: F401
    except ImportError:
        raise UserError("--dojo needs LeanDojo, which is not installed: pip install 'theoremllama[dojo]' "
                        "(or use the default lexical extractor, which needs no Lean toolchain)") from None
    if not (shutil.which("lake") or shutil.which("elan")):
        raise UserError("--dojo needs a Lean toolchain (elan/lake on PATH) to build and trace the repository: "
                        "run `theoremllama setup-lean`, or use the default lexical extractor")
    return lean_dojo


def record_from_traced(thm, commit: str) -> TheoremRecord:
    """Convert one LeanDojo `TracedTheorem` into a `TheoremRecord`."""
    statement = thm.get_theorem_statement().strip()
    if not statement.endswith(":="):
        statement += " :="
    try:
        whole = str(thm.traced_file.lean_file[thm.start:thm.end])
    except Exception:  # older LeanDojo versions: rebuild from the statement and the tactic proof
        whole = f"{statement} {thm.get_tactic_proof() or ''}".rstrip()
    full_name = thm.theorem.full_name
    return TheoremRecord(
        name=full_name,
        statement=statement,
        proof=whole,
        file_path=str(thm.theorem.file_path),
        commit=commit,
        namespace=full_name.rsplit(".", 1)[0] if "." in full_name else "",
        kind="theorem",
        line=getattr(thm.start, "line_nb", 0) or 0,
    )


def extract_with_dojo(repo: str | Path, commit: str | None = None) -> ExtractResult:
    """Trace `repo` (a local checkout or a git URL) with LeanDojo and convert its theorems."""
    lean_dojo = _require_dojo()
    t0 = time.perf_counter()
    path = Path(repo)
    url = str(path.resolve()) if path.exists() else str(repo)
    if commit is None:
        commit = git_commit(path) if path.exists() else ""
        if not commit:
            raise UserError(f"{repo}: LeanDojo needs a commit: pass --commit SHA (or use a git checkout)")
    traced = lean_dojo.trace(lean_dojo.LeanGitRepo(url, commit))
    result = ExtractResult(records=[], skipped=Counter())
    for thm in traced.get_traced_theorems():
        try:
            result.records.append(record_from_traced(thm, commit))
        except Exception:  # a theorem LeanDojo could not locate the proof of: count it, go on
            result.skipped["untraceable theorem"] += 1
    result.files = len({r.file_path for r in result.records})
    result.seconds = time.perf_counter() - t0
    return result
