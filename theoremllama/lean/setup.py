"""`theoremllama setup-lean`, and where the harness finds its Lean REPL.

The Lean side of the project is the Lake package in the repository root (`lakefile.lean`,
`lean-toolchain`, and `lake-manifest.json`, which pins every dependency to an exact commit):
Mathlib and the REPL pinned to the same Lean version. Setting it up means
  0. checking that `git` and `curl` are installed (Lake clones with git; Mathlib's cache and
     elan's installer download with curl), before anything starts;
  1. elan (Lean's toolchain manager), installed by its official script if missing;
  2. Mathlib's prebuilt cache: `lake exe cache get` in the project (clones the dependencies first);
     with `--skip-cache` nothing is downloaded (MATHLIB_NO_CACHE_ON_UPDATE=1 also stops Mathlib's
     post-update hook from fetching it) and step 3 builds Mathlib from source (hours);
  3. `lake build Mathlib`: a no-op when the cache is complete, a build of whatever it lacks
     otherwise (so a partial cache cannot leave a Mathlib that fails to import);
  4. the REPL: `lake build repl` (the `repl` executable of the REPL package);
  5. a smoke test with the harness's own code: the project's usual header (`SMOKE_HEADER`, which
     imports Mathlib) is imported, a known theorem is proved, and the harness's `#check` /
     `#print axioms` commands are run on it; their output must parse to a type and an axiom list.
Steps already done are skipped. Where the machine cannot do a step (no network, no elan), the
command stops within seconds with one paragraph saying what to do instead.

The REPL command the verifier runs, in order of precedence:
  - an explicit `repl_cmd` (`--repl-cmd`), run as given;
  - the environment variable THEOREMLLAMA_REPL_CMD, run as given;
  - the REPL built here, `<project>/.lake/packages/REPL/.lake/build/bin/repl`, started directly
    in the project directory with the environment `lake env` gives (LEAN_PATH and the rest, read
    once per Verifier: `lake env` with no command prints it as VAR=VALUE lines). Not under
    `lake env repl`: Lake would stay the REPL's parent, one idle Lake process beside every
    worker, and a REPL killed by the kernel's OOM killer would look like Lake exiting with a
    status instead of a process ended by SIGKILL (verdict `memory`). The project is
    `--lean-project`, else THEOREMLLAMA_LEAN_PROJECT, else the repository root holding `lakefile.lean`.
If none is usable, a UserError says to run `theoremllama setup-lean` or pass `--repl-cmd`.
The product never falls back to a test double.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from theoremllama.errors import UserError
from theoremllama.lean.job import VerifyJob, prepare_job
from theoremllama.lean.protocol import ErrorResponse
from theoremllama.lean.repl import LeanRepl, ReplError
from theoremllama.lean.verdict import ALLOWED_AXIOMS
from theoremllama.lean.checks import check_commands, printed_axioms, printed_type

REPL_CMD_ENV = "THEOREMLLAMA_REPL_CMD"
LEAN_PROJECT_ENV = "THEOREMLLAMA_LEAN_PROJECT"
ELAN_INSTALLER_ENV = "THEOREMLLAMA_ELAN_INSTALLER_URL"
ELAN_INSTALLER_URL = "https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh"
REPL_BINARY = Path(".lake/packages/REPL/.lake/build/bin/repl")
"""Where `lake build repl` leaves the REPL, relative to the project."""
NETWORK_TIMEOUT_S = 10.0
"""How long a connection attempt may take before we conclude there is no network."""
LAKE_ENV_TIMEOUT_S = 120.0
"""How long `lake env` may take to load the workspace and print the environment."""
REQUIRED_TOOLS = ("git", "curl")
"""Programs setup-lean needs besides Lean: Lake clones dependencies with git; Mathlib's cache
(`lake exe cache get`) and elan's installer download with curl."""
SMOKE_HEADER = "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\nopen BigOperators Real Nat Topology Rat\n"
"""The header the project's MiniF2F data uses (data/examples): what the smoke test imports."""
SMOKE_THEOREM = ("theorem theoremllama_smoke (a b : ℕ) (h : a ≤ b) : a * a ≤ b * b :=", "Nat.mul_le_mul h h")
"""(statement, proof) the smoke test proves and checks: it needs Mathlib's header to elaborate."""


# ----------------------------------------------------------------------------- finding things

def find_lean_project(explicit: str | os.PathLike | None = None) -> Path | None:
    """The Lake project to run the REPL in: `explicit`, THEOREMLLAMA_LEAN_PROJECT, or the repo root.

    An explicit or configured directory without a lakefile is an error; None if no default exists."""
    given = explicit if explicit is not None else os.environ.get(LEAN_PROJECT_ENV) or None
    if given is not None:
        path = Path(given).expanduser().resolve()
        if not _has_lakefile(path):
            source = "--lean-project" if explicit is not None else LEAN_PROJECT_ENV
            raise UserError(f"{source}: {path} is not a Lean project (no lakefile.lean or lakefile.toml)")
        return path
    candidates = [Path(__file__).resolve().parents[2], *[Path.cwd(), *Path.cwd().parents]]
    return next((p for p in candidates if _has_lakefile(p)), None)


def _has_lakefile(path: Path) -> bool:
    return (path / "lakefile.lean").is_file() or (path / "lakefile.toml").is_file()


def find_lake() -> str | None:
    """`lake` on PATH, or in elan's default home."""
    found = shutil.which("lake")
    if found:
        return found
    elan_home = Path(os.environ.get("ELAN_HOME") or Path.home() / ".elan")
    lake = elan_home / "bin" / "lake"
    return str(lake) if lake.is_file() and os.access(lake, os.X_OK) else None


def resolve_repl_command(repl_cmd: str | list[str] | None = None,
                         lean_project: str | None = None) -> tuple[list[str], str | None, dict[str, str] | None]:
    """(argv, cwd, env) of the REPL to run (env None: this process's environment); raises
    UserError with what to do when there is none."""
    project = find_lean_project(lean_project)
    cwd = str(project) if project is not None else None
    given = repl_cmd if repl_cmd is not None else os.environ.get(REPL_CMD_ENV) or None
    if given is not None:
        argv = shlex.split(given) if isinstance(given, str) else [str(a) for a in given]
        if not argv:
            raise UserError("the Lean REPL command is empty (--repl-cmd or THEOREMLLAMA_REPL_CMD)")
        _check_runnable(argv[0], cwd, "--repl-cmd" if repl_cmd is not None else REPL_CMD_ENV)
        return argv, cwd, None
    if project is None:
        raise UserError("no Lean REPL is configured and no Lean project (lakefile.lean) was found: run "
                        "`theoremllama setup-lean` in the theoremllama checkout, pass --repl-cmd CMD, or set "
                        f"{REPL_CMD_ENV}")
    binary = project / REPL_BINARY
    lake = find_lake()
    if not binary.is_file() or lake is None:
        missing = "the REPL is not built" if lake else "Lean (elan/lake) is not installed"
        raise UserError(f"no Lean REPL is configured: {missing} in {project}. Run `theoremllama setup-lean` "
                        f"(installs elan, fetches Mathlib's cache and builds the REPL), or pass --repl-cmd CMD "
                        f"(or set {REPL_CMD_ENV}) to use a REPL you already have")
    return [str(binary)], cwd, lake_environment(lake, project)


def lake_environment(lake: str, project: Path) -> dict[str, str]:
    """This process's environment as `lake env` sets it for a command run in `project`.

    `lake env` with no command prints the variables it sets (Lake's `lake env`, CLI/Main.lean:
    `IO.println s!"{var}={val?.getD ""}"` for each of the workspace's `augmentedEnvVars`); an
    empty value is a variable Lake unsets."""
    try:
        done = subprocess.run([lake, "env"], cwd=project, capture_output=True, text=True,
                              timeout=LAKE_ENV_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UserError(f"cannot read the Lean project's environment: `{lake} env` in {project} failed "
                        f"({type(e).__name__}: {e}); run `theoremllama setup-lean`") from None
    if done.returncode != 0:
        why = _first_line(done.stderr) or f"exit status {done.returncode}"
        raise UserError(f"cannot read the Lean project's environment: `{lake} env` in {project} failed: {why}; "
                        f"run `theoremllama setup-lean`")
    env = dict(os.environ)
    seen = set()
    for line in done.stdout.splitlines():
        var, sep, value = line.partition("=")
        if not sep or not var.isidentifier():
            continue  # not a variable line (Lake may log while it loads the workspace)
        seen.add(var)
        if value:
            env[var] = value
        else:
            env.pop(var, None)
    if "LEAN_PATH" not in seen:
        raise UserError(f"`{lake} env` in {project} printed no LEAN_PATH (got {done.stdout[:200]!r}): "
                        f"the REPL could not find Mathlib; run `theoremllama setup-lean`")
    return env


def _first_line(text: str) -> str:
    text = (text or "").strip()
    return text.splitlines()[0] if text else ""


def _check_runnable(program: str, cwd: str | None, source: str) -> None:
    if os.sep in program:
        path = Path(cwd or ".") / program if not os.path.isabs(program) else Path(program)
        ok = path.is_file() and os.access(path, os.X_OK)
    else:
        ok = shutil.which(program) is not None
    if not ok:
        raise UserError(f"{source}: the Lean REPL program `{program}` was not found or is not executable")


# ----------------------------------------------------------------------------- the command

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--lean-project", default=None,
                        help=f"the Lake project to set up (default: ${LEAN_PROJECT_ENV} or the repo root)")
    parser.add_argument("--skip-cache", action="store_true",
                        help="do not fetch Mathlib's prebuilt cache: build Mathlib from source (hours)")


def run(args: argparse.Namespace) -> int:
    project = find_lean_project(args.lean_project)
    if project is None:
        raise UserError("no Lean project found: run `theoremllama setup-lean` from the theoremllama checkout "
                        "(the directory holding lakefile.lean) or pass --lean-project DIR")
    print(f"setup-lean: Lean project {project}")
    check_tools()
    lake = find_lake() or _install_elan()
    print(f"setup-lean: lake is {lake}")
    binary = project / REPL_BINARY
    if not (project / ".lake" / "packages" / "mathlib").is_dir():
        _require_network("https://github.com", "fetch Mathlib and the REPL (git clone)")
    env = None
    if args.skip_cache:
        # Mathlib's post-update hook would fetch the cache anyway when Lake first clones it.
        env = {**os.environ, "MATHLIB_NO_CACHE_ON_UPDATE": "1"}
        print("setup-lean: --skip-cache: Mathlib is built from source (this takes hours)")
    else:
        _run_step([lake, "exe", "cache", "get"], project, "fetch Mathlib's prebuilt cache")
    _run_step([lake, "build", "Mathlib"], project, "build Mathlib (a no-op when the cache is complete)", env)
    if not binary.is_file():
        _run_step([lake, "build", "repl"], project, "build the Lean REPL", env)
    if not binary.is_file():
        raise UserError(f"`lake build repl` finished but {binary} does not exist: check the REPL requirement "
                        f"in {project / 'lakefile.lean'}")
    smoke_test([str(binary)], project, lake_environment(lake, project))
    print("setup-lean: done. The harness now finds this REPL by itself; check proofs with\n"
          "  theoremllama verify data/examples/minif2f_valid_commented.jsonl -o runs/examples.verdicts.jsonl")
    return 0


def check_tools() -> None:
    """Fail before any download when a program setup-lean needs is missing."""
    missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
    if missing:
        raise UserError(f"setup-lean needs {' and '.join(missing)} on PATH (Lake clones Mathlib and the REPL with "
                        f"git; Mathlib's cache and elan's installer are downloaded with curl): install "
                        f"{' and '.join(missing)} (e.g. `apt-get install {' '.join(missing)}`) and rerun")


def _install_elan() -> str:
    """Download and run elan's official installer (no default toolchain: the project pins one)."""
    url = os.environ.get(ELAN_INSTALLER_ENV) or ELAN_INSTALLER_URL
    print(f"setup-lean: elan (Lean's toolchain manager) is not installed; downloading its installer from {url}")
    try:
        with urllib.request.urlopen(url, timeout=NETWORK_TIMEOUT_S) as response:
            script = response.read()
    except Exception as e:  # URLError, timeouts, refused connections, HTTP errors: all mean the same here
        raise UserError(
            f"Lean is not installed (no `lake` on PATH or in ~/.elan/bin) and elan's installer could not be "
            f"downloaded from {url} ({_reason(e)}). This machine seems to have no access to GitHub. Install elan "
            f"by hand (https://github.com/leanprover/elan#installation) and rerun `theoremllama setup-lean`, "
            f"or point the harness at an existing Lean REPL with --repl-cmd CMD or {REPL_CMD_ENV}.") from None
    with tempfile.NamedTemporaryFile("wb", suffix="-elan-init.sh", delete=False) as f:
        f.write(script)
    try:
        _run_step(["sh", f.name, "-y", "--default-toolchain", "none"], Path.cwd(), "install elan")
    finally:
        os.unlink(f.name)
    lake = find_lake()
    if lake is None:
        raise UserError("elan's installer ran but `lake` is still not found: add ~/.elan/bin to PATH and rerun "
                        "`theoremllama setup-lean`")
    return lake


def _reason(e: Exception) -> str:
    reason = getattr(e, "reason", None) or e
    return f"{type(e).__name__}: {reason}"


def _require_network(url: str, purpose: str) -> None:
    """Fail fast (one TCP connection attempt) instead of letting git or lake hang on a dead network."""
    host = urlparse(url).hostname
    try:
        socket.create_connection((host, 443), timeout=NETWORK_TIMEOUT_S).close()
    except OSError as e:
        raise UserError(f"cannot reach {host} to {purpose} ({type(e).__name__}: {e}). Run "
                        f"`theoremllama setup-lean` on a machine with internet access (then copy the project's "
                        f".lake directory here), or point the harness at an existing Lean REPL with --repl-cmd "
                        f"CMD or {REPL_CMD_ENV}.") from None


def _run_step(argv: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> None:
    print(f"setup-lean: {what}: {shlex.join(argv)}", flush=True)
    try:
        done = subprocess.run(argv, cwd=cwd, env=env)
    except OSError as e:
        raise UserError(f"could not {what}: `{shlex.join(argv)}` did not start ({e})") from None
    if done.returncode != 0:
        raise UserError(f"could not {what}: `{shlex.join(argv)}` failed with exit status {done.returncode} "
                        f"in {cwd} (its output is above); fix the cause and rerun `theoremllama setup-lean`")


def smoke_test(argv: list[str], project: Path, env: dict[str, str] | None,
               theorem: tuple[str, str] = SMOKE_THEOREM) -> None:
    """Import SMOKE_HEADER, prove `theorem` (statement, proof), run the harness's own check
    commands on it and parse their output with the harness's own parsers (what every verdict
    relies on): its type must parse, and its axiom list must parse and hold only allowed axioms."""
    job = prepare_job(VerifyJob("smoke", theorem[0], theorem[1], SMOKE_HEADER))

    def refused(reply) -> str | None:
        if isinstance(reply, ErrorResponse):
            return reply.message
        return reply.errors[0].data if reply.errors else None

    print("setup-lean: smoke test: importing the header (Mathlib), proving and checking a theorem", flush=True)
    try:
        with LeanRepl(argv, cwd=str(project), env=env, name="setup-lean") as repl:
            header = repl.command(job.header, timeout=900)
            if refused(header):
                raise UserError(f"the REPL was built but cannot import the header {job.header!r}: {refused(header)}")
            proved = repl.command(job.body, header.env, timeout=300)
            if refused(proved):
                raise UserError(f"the REPL rejects the smoke-test theorem `{job.body}`: {refused(proved)}")
            checked = repl.command(check_commands(job.full_name), proved.env, timeout=300)
    except ReplError as e:
        raise UserError(f"the REPL was built but does not answer: {e}") from None
    if isinstance(checked, ErrorResponse):
        raise UserError(f"the REPL refuses the harness's check commands: {checked.message}")
    type_text, axioms = printed_type(checked.messages), printed_axioms(checked.messages)
    shown = " | ".join(m.data for m in checked.messages)
    if not type_text:
        raise UserError(f"the harness cannot read the type `#check` printed for the smoke-test theorem "
                        f"(the REPL said: {shown!r}): this Lean's output does not match the harness")
    if axioms is None:
        raise UserError(f"the harness cannot read the axioms `#print axioms` printed for the smoke-test theorem "
                        f"(the REPL said: {shown!r}): this Lean's output does not match the harness")
    if not set(axioms) <= ALLOWED_AXIOMS:
        raise UserError(f"the smoke-test theorem depends on axioms outside {sorted(ALLOWED_AXIOMS)}: "
                        f"{', '.join(axioms)} (the REPL said: {shown!r})")
    print(f"setup-lean: smoke test passed: {job.name} : {type_text}; axioms [{', '.join(axioms)}]")


if __name__ == "__main__":  # pragma: no cover
    from theoremllama.cli import main

    sys.exit(main(["setup-lean", *sys.argv[1:]]))
