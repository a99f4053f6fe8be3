"""OBT records -> token ids for supervised fine-tuning, through the base model's chat template.

Each record becomes two pieces of token ids, rendered once with the tokenizer's chat template:

    query_ids   the user turn (build_instruction) followed by the template's generation prompt
                (for Llama 3: `<|start_header_id|>assistant<|end_header_id|>\\n\\n`)
    answer_ids  the assistant's reply (build_answer) and the template's end-of-turn marker

and the conversation starts with `prefix_ids`, the system turn (with BOS where the template puts
one). A training sequence is the concatenation

    prefix_ids + [query_ids_j + answer_ids_j for each worked example j] + query_ids_i + answer_ids_i

with labels -100 everywhere except on answer_ids_i: the loss covers the target tokens only.
Building sequences from pieces (rather than re-rendering each conversation) is what makes block
training cheap; `ChatEncoder` checks once that the template renders conversations this way
(each rendering is a prefix of the next), and a template that does not is refused with a
UserError. The query piece is tokenized exactly as an evaluation prompt would be, so the model is
trained on the tokens it is later prompted with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from theoremllama.data.formats import iter_json_array, read_records
from theoremllama.data.jsonl import iter_jsonl_lines
from theoremllama.data.records import OBTRecord
from theoremllama.errors import InputError, UserError
from theoremllama.lean.syntax import has_sorry, normalize_whitespace, strip_comments
from theoremllama.train.prompt import SYSTEM_PROMPT, build_answer, build_instruction

IGNORE_INDEX = -100
"""Label value that the loss ignores (PyTorch's cross-entropy default)."""


def record_instruction(record: OBTRecord) -> str:
    """The user turn for an OBT record: its NL statement and proof, and its Lean statement."""
    return build_instruction(record.Generated_informal_statement_and_proof, record.Statement)


def target_code(record: OBTRecord) -> str:
    """The Lean code a record teaches: the commented proof, or the bare proof if there is none."""
    return record.Commented_proof or record.Proof


def record_answer(record: OBTRecord) -> str:
    """The target for an OBT record: `target_code` in the answer format."""
    return build_answer(target_code(record))


@dataclass(eq=False)  # arrays have no truth value; records are compared by idx
class EncodedRecord:
    """One OBT record, tokenized into the pieces training sequences are built from.

    Token ids are stored as int32 arrays (a 100k-record OBT set at ~600 tokens a record is
    ~240 MB per rank this way, several GB as Python lists); `query_ids` / `answer_ids` give lists."""

    idx: int
    """The record's `idx` (its identity in the dataset)."""
    name: str
    """The theorem name (for logs and ordering ties)."""
    query: np.ndarray
    """User turn + generation prompt: what the model is given."""
    answer: np.ndarray
    """Assistant reply + end-of-turn marker: what the model learns to write."""
    answer_text: str
    """The answer as text, to recognise duplicates (block training never shows a record its own answer)."""
    code_key: str
    """The proof's code without comments, whitespace-normalised: a duplicate proof with different
    comments is still a duplicate."""
    has_sorry: bool = False
    """The target leaves a gap (`sorry`, `admit`, `sorryAx`, `stop`: `syntax.has_sorry`): such a
    record is never trained on, as a target or as a worked example (`SFTDataset`)."""

    @property
    def query_ids(self) -> list[int]:
        return self.query.tolist()

    @property
    def answer_ids(self) -> list[int]:
        return self.answer.tolist()

    def __len__(self) -> int:
        """Tokens of the whole exchange (query + answer)."""
        return len(self.query) + len(self.answer)


class ChatEncoder:
    """Renders prompts with a tokenizer's chat template and tokenizes them into pieces."""

    def __init__(self, tokenizer, system_prompt: str = SYSTEM_PROMPT):
        if getattr(tokenizer, "chat_template", None) is None:
            raise UserError("the tokenizer has no chat template (tokenizer.chat_template is None); "
                            "use an instruct/chat model's tokenizer or set one")
        self.tokenizer = tokenizer
        self.system = {"role": "system", "content": system_prompt}
        self.prefix_text = self._render([self.system])
        self.prefix_ids = self._tokenize([self.prefix_text])[0]

    def _render(self, messages: list[dict], generation_prompt: bool = False) -> str:
        return self.tokenizer.apply_chat_template(messages, tokenize=False,
                                                  add_generation_prompt=generation_prompt)

    def _tokenize(self, texts: list[str]) -> list[list[int]]:
        # The template's text already holds BOS and all special tokens: add none.
        return self.tokenizer(texts, add_special_tokens=False)["input_ids"]

    def split_turns(self, instruction: str, answer: str) -> tuple[str, str]:
        """(query text, answer text) of one exchange as the template renders it after the system turn."""
        user = {"role": "user", "content": instruction}
        asked = self._render([self.system, user], generation_prompt=True)
        full = self._render([self.system, user, {"role": "assistant", "content": answer}])
        if not asked.startswith(self.prefix_text) or not full.startswith(asked):
            raise UserError("the tokenizer's chat template does not render a conversation as a sequence "
                            "of turns (a rendering is not a prefix of the next), which SFT here relies on")
        return asked[len(self.prefix_text):], full[len(asked):]

    def encode(self, records: list[OBTRecord]) -> list[EncodedRecord]:
        """Tokenize every record's query and answer pieces (one batched tokenizer call each)."""
        answers = [record_answer(r) for r in records]
        turns = [self.split_turns(record_instruction(r), a) for r, a in zip(records, answers)]
        query_ids = self._tokenize([q for q, _ in turns]) if turns else []
        answer_ids = self._tokenize([a for _, a in turns]) if turns else []
        return [EncodedRecord(r.idx, r.Name, np.asarray(q, dtype=np.int32), np.asarray(a, dtype=np.int32),
                              ans, code_key(target_code(r)), has_sorry(target_code(r)))
                for r, q, a, ans in zip(records, query_ids, answer_ids, answers)]


def code_key(proof: str) -> str:
    """A proof's code with comments removed and whitespace collapsed (equal keys = same proof)."""
    return normalize_whitespace(strip_comments(proof))


def single_example(prefix_ids: list[int], rec: EncodedRecord, max_seq_len: int) -> dict | None:
    """One record alone: prefix + query + answer, loss on the answer; cut at max_seq_len.

    Returns None when the prompt alone fills the sequence (nothing would be learnt)."""
    prompt = prefix_ids + rec.query_ids
    if len(prompt) >= max_seq_len:
        return None
    answer = rec.answer_ids[: max_seq_len - len(prompt)]
    return {"input_ids": prompt + answer,
            "labels": [IGNORE_INDEX] * len(prompt) + list(answer),
            "record_idx": rec.idx}


# --------------------------------------------------------------------------- loading records

def _row_to_obt(row: dict, *, idx: int, path: str, line: int | None) -> OBTRecord:
    """An OBT row, or a TheoremLlama MiniF2F row (Informal_statement + Informal_proof), as an OBTRecord.

    `line` is the JSONL line; rows of a JSON list or a datasets directory have no line of their
    own, so they are named by their 0-based row number in the message instead."""
    row_note = "" if line is not None else f"row {idx}: "
    if not isinstance(row, dict):
        raise InputError(f"{row_note}expected a JSON object, got {type(row).__name__}", path=path, line=line)
    if "Generated_informal_statement_and_proof" not in row and (
            "Informal_statement" in row or "Informal_proof" in row):
        row = dict(row)
        parts = [row.get("Informal_statement") or "", row.get("Informal_proof") or ""]
        row["Generated_informal_statement_and_proof"] = "\n\n".join(p.strip() for p in parts if p.strip())
    try:
        return OBTRecord.from_dict(row, idx=idx)
    except InputError as e:
        raise InputError(row_note + e.reason, path=path, line=line, field=e.field) from None


def load_obt_records(path: str | Path) -> list[OBTRecord]:
    """Read OBT records from JSONL, a JSON array, a saved HF dataset directory or a parquet file
    (the readers of `theoremllama.data.formats`).

    Rows in the TheoremLlama MiniF2F shape (`Informal_statement`, `Informal_proof`) are accepted
    too: their informal parts are joined into `Generated_informal_statement_and_proof`. A missing
    `idx` is filled with the row number. Bad rows raise InputError naming file, line and field."""
    p = Path(path)
    if not p.exists():
        raise UserError(f"training data not found: {p}")
    if p.is_dir() or p.suffix == ".parquet":
        rows = ((d, None) for d in read_records(p))  # datasets rows have no line number
    else:
        with open(p, encoding="utf-8") as f:
            head = f.read(4096).lstrip("\ufeff \t\r\n")
        rows = iter_json_array(str(p)) if head.startswith("[") else iter_jsonl_lines(p)
    return [_row_to_obt(d, idx=row, path=str(p), line=line) for row, (d, line) in enumerate(rows)]
