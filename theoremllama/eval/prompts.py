"""Evaluation prompts: the problem asked the way the prover was trained, with worked examples.

Two variants:
  nl       the paper's NL-guided format: natural-language statement and proof, then the Lean
           statement; examples answer with commented proofs (`train.prompt`, exactly as in training)
  formal   the Lean statement only; examples answer with their proofs without comments

Examples come from a `ProofExampleBank`: the seed bank (the 93 real commented MiniF2F-valid proofs of the 106 published) plus,
in iterative proof writing, the proofs verified in earlier rounds. They are chosen `first`
(proofs verified in the latest rounds first, then the seed bank in its order) or `retrieved`
(most similar by sentence embedding). Whatever the choice, a problem is NEVER its own example:
candidates with the problem's name are removed before choosing (the seed bank holds MiniF2F-valid
problems, so without this guard MiniF2F-valid would be evaluated on its own answers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from theoremllama.data.minif2f import format_informal
from theoremllama.data.records import OBTRecord, Problem
from theoremllama.errors import UserError
from theoremllama.eval.extract import statement_of
from theoremllama.lean.syntax import strip_comments
from theoremllama.train.prompt import build_answer, build_conversation, build_instruction

VARIANTS = ("nl", "formal")
SELECTIONS = ("first", "retrieved")
FORMAL_ONLY_HEADING = "Complete the following Lean 4 theorem with a proof:"


@dataclass
class ProofExample:
    """A worked example: a theorem with its informal text and a verified proof."""

    name: str
    """Theorem name: the key that keeps a problem out of its own prompt."""
    informal: str
    """Natural-language statement and proof."""
    statement: str
    """Lean statement up to and including `:=`."""
    proof: str
    """The whole declaration with natural-language comments where available (nl variant)."""
    plain_proof: str
    """The whole declaration without comments (formal variant)."""
    origin: str = "seed"
    """`seed` for the seed bank, `round N` for a proof verified in round N."""

    @classmethod
    def from_obt(cls, r: OBTRecord) -> "ProofExample":
        return cls(name=r.Name, informal=r.Generated_informal_statement_and_proof,
                   statement=statement_of(r.Statement), proof=r.Commented_proof or r.Proof,
                   plain_proof=r.Proof)

    @classmethod
    def from_verified(cls, problem: Problem, proof: str, round: int) -> "ProofExample":
        """A proof of `problem` verified in `round` (proof = what follows `:=`)."""
        statement = statement_of(problem.formal_statement)
        whole = f"{statement} {proof.strip()}"
        return cls(name=problem.name, informal=informal_text(problem), statement=shown_statement(problem),
                   proof=whole, plain_proof=_without_comments(whole), origin=f"round {round}")


class Retrieval(Protocol):
    """What `ProofExampleBank` needs of a retriever (`theoremllama.llm.retriever.Retriever`)."""

    def add(self, keys: list[str], texts: list[str], payloads: list) -> None: ...

    def top_k(self, query: str, k: int, exclude=...) -> list: ...


class ProofExampleBank:
    """The pool of worked examples, growing by each round's verified proofs."""

    def __init__(self, examples: list[ProofExample], *, selection: str = "first",
                 retriever: Retrieval | None = None):
        if selection not in SELECTIONS:
            raise UserError(f"unknown example selection {selection!r}: expected one of {SELECTIONS}")
        if selection == "retrieved" and retriever is None:
            raise UserError("example selection 'retrieved' needs a retriever")
        self.selection = selection
        self.retriever = retriever
        self.seed: list[ProofExample] = []
        self.verified: list[ProofExample] = []  # newest first
        self._names: set[str] = set()
        self._add(examples, into=self.seed)

    def __len__(self) -> int:
        return len(self.seed) + len(self.verified)

    def add_verified(self, examples: list[ProofExample]) -> None:
        """Add a round's verified proofs; they come before older ones in `first` selection."""
        fresh: list[ProofExample] = []
        self._add(examples, into=fresh)
        self.verified[:0] = fresh

    def _add(self, examples: list[ProofExample], *, into: list[ProofExample]) -> None:
        # One example per theorem: the first proof known for a name is kept.
        new: list[ProofExample] = []
        for e in examples:
            if e.name not in self._names:
                self._names.add(e.name)
                new.append(e)
        into.extend(new)
        if self.retriever is not None and new:
            self.retriever.add([e.name for e in new], [_retrieval_text(e.informal, e.statement) for e in new], new)

    def choose(self, problem: Problem, k: int) -> list[ProofExample]:
        """Up to k examples for `problem`, never one with the problem's own name."""
        if k <= 0:
            return []
        if self.selection == "first":
            candidates = self.verified + self.seed
            return [e for e in candidates if e.name != problem.name][:k]
        hits = self.retriever.top_k(_retrieval_text(informal_text(problem), problem.formal_statement),
                                    k + 1, exclude={problem.name})
        chosen = [_payload(h) for h in hits]
        return [e for e in chosen if e.name != problem.name][:k]


def informal_text(problem: Problem) -> str:
    """A problem's natural language, laid out like the seed examples' (`format_informal`), so
    that the problem reads exactly like the worked examples before it. A part the problem does
    not have (ProofNet has no informal proofs) is left out rather than shown empty; '' when the
    problem has no natural language at all."""
    statement, proof = problem.informal_statement.strip(), problem.informal_proof.strip()
    if statement and proof:
        return format_informal(statement, proof)
    if statement:
        return f"Informal statement:\n{statement}"
    if proof:
        return f"Informal proof:\n{proof}"
    return ""


def shown_statement(problem: Problem) -> str:
    """The Lean the model is shown: the problem's context (definitions it needs), then its
    statement up to `:=`. The model writes only the proof; the context is checked as given."""
    statement = statement_of(problem.formal_statement)
    return f"{problem.context.strip()}\n\n{statement}" if problem.context.strip() else statement


def problem_instruction(problem: Problem, variant: str = "nl") -> str:
    """The user turn asking for `problem`'s proof. The `nl` variant falls back to the formal
    instruction for a problem without any natural language."""
    if variant == "nl" and informal_text(problem):
        return build_instruction(informal_text(problem), shown_statement(problem))
    if variant in VARIANTS:
        return _formal_instruction(shown_statement(problem))
    raise UserError(f"unknown prompt variant {variant!r}: expected one of {VARIANTS}")


def build_prompt(problem: Problem, examples: list[ProofExample], variant: str = "nl") -> list[dict]:
    """The chat messages asking for a proof of `problem`, with `examples` as worked turns."""
    if any(e.name == problem.name for e in examples):  # the guard, enforced where prompts are made
        raise ValueError(f"problem {problem.name} may not be its own in-context example")
    if variant == "nl":
        turns = [(build_instruction(e.informal, e.statement), build_answer(e.proof)) for e in examples]
        return build_conversation(turns, problem_instruction(problem, variant))
    if variant == "formal":
        turns = [(_formal_instruction(e.statement), build_answer(e.plain_proof)) for e in examples]
        return build_conversation(turns, problem_instruction(problem, variant))
    raise UserError(f"unknown prompt variant {variant!r}: expected one of {VARIANTS}")


def _formal_instruction(statement: str) -> str:
    return f"{FORMAL_ONLY_HEADING}\n{statement.strip()}"


def _retrieval_text(informal: str, statement: str) -> str:
    return f"{informal.strip()}\n{statement.strip()}"


def _without_comments(code: str) -> str:
    # Drop comment-only lines entirely rather than leaving blank lines behind.
    lines = strip_comments(code).split("\n")
    return "\n".join(line.rstrip() for line in lines if line.strip())


def _payload(hit) -> ProofExample:
    """Accept what a retriever returns per hit: the payload itself, or a (key, score, payload)-like
    tuple, or an object with a `payload` attribute."""
    if isinstance(hit, ProofExample):
        return hit
    if hasattr(hit, "payload"):
        return hit.payload
    if isinstance(hit, (tuple, list)):
        return next(x for x in hit if isinstance(x, ProofExample))
    raise TypeError(f"unexpected retriever hit {hit!r}")
