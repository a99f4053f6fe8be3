"""The `theoremllama` command: argument parsing and dispatch only.

Each subcommand lives in the module that owns it; that module exposes
`add_arguments(parser)` and `run(args) -> int`. Modules are imported lazily so that
`theoremllama verify` never pays for importing torch.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from theoremllama import __version__
from theoremllama.errors import UserError

# subcommand -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "setup-lean": ("theoremllama.lean.setup", "install elan, fetch the Mathlib cache, build the Lean REPL"),
    "verify": ("theoremllama.lean.cli", "check proofs with the Lean REPL pool and write one verdict per proof"),
    "serve": ("theoremllama.serve.cli", "serve the verifier over HTTP (native /verify and kimina-compatible /api/check)"),
    "data": ("theoremllama.data.cli", "datasets: extract theorems from a Lean repo, convert, dedup, split"),
    "bootstrap": ("theoremllama.bootstrap.cli", "NL-FL bootstrapping: theorem records -> OBT dataset"),
    "train": ("theoremllama.train.cli", "SFT a prover with DeepSpeed (block training, curriculum)"),
    "eval": ("theoremllama.eval.cli", "MiniF2F evaluation with iterative proof writing"),
    "report": ("theoremllama.eval.report", "pass@k tables and plots from an attempts file"),
    "iterate": ("theoremllama.learn.iterate_cli", "expert iteration: prove, keep Lean-verified proofs, SFT, repeat"),
    "rl": ("theoremllama.learn.rl_cli", "GRPO (TRL) with the Lean verdict as reward"),
}


def build_parser(argv: list[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="theoremllama",
        description="Turn a general-purpose LLM into a Lean 4 prover: verify proofs with Lean, build NL-FL "
                    "aligned datasets, fine-tune with DeepSpeed, evaluate on MiniF2F.")
    parser.add_argument("--version", action="version", version=f"theoremllama {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("-v", "--verbose", action="store_true",
                       help="show every detail logged (also kept in a run's run.log)")
        # Only the chosen subcommand's module is imported (and only it needs its arguments).
        if name == wanted:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    if getattr(args, "verbose", False):
        import logging

        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = int(args._run(args) or 0)
        sys.stdout.flush()  # here, where a closed pipe is caught below, not at interpreter exit
        return code
    except UserError as e:
        print(f"theoremllama {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (UnicodeDecodeError, IsADirectoryError, NotADirectoryError, PermissionError, FileNotFoundError) as e:
        # A file the command could not read as it expected, reached by a reader without a check of
        # its own: still one line, not a traceback (THEOREMLLAMA_DEBUG=1 shows where it came from).
        if os.environ.get("THEOREMLLAMA_DEBUG"):
            raise
        print(f"theoremllama {args.command}: error: {_file_error(e)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `theoremllama data stats ... | head`: the reader left; not an error of ours. Point stdout
        # at /dev/null so the interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"theoremllama {args.command}: interrupted (outputs written so far are kept; rerun to resume)",
              file=sys.stderr)
        return 130


def _file_error(e: Exception) -> str:
    if isinstance(e, UnicodeDecodeError):
        return (f"an input file is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}): "
                "a binary or differently encoded file?")
    return f"{e.filename}: {e.strerror}" if getattr(e, "filename", None) else str(e)


if __name__ == "__main__":
    sys.exit(main())
