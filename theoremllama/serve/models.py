"""The native wire format of `POST /verify`: `VerifyJob`s in, `Verdict`s out, in order.

    request   {"jobs": [{"id": "p1", "statement": "theorem p1 ... :=", "proof": "by norm_num",
                         "header": "import Mathlib"}, ...]}
    response  {"verdicts": [Verdict.to_dict(), ...]}

A job's fields are those of `theoremllama verify`'s input lines (`formal_statement` and `name` are
accepted for `statement` and `id`, as there).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

from theoremllama.lean.job import VerifyJob


class JobIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str | int | None = None
    name: str | int | None = None
    statement: str | None = None
    formal_statement: str | None = None
    proof: str
    header: str = ""

    @model_validator(mode="after")
    def _aliases(self) -> "JobIn":
        if self.id is None and self.name is None:
            raise ValueError("a job needs an `id` (or `name`)")
        if self.statement is None and self.formal_statement is None:
            raise ValueError("a job needs a `statement` (or `formal_statement`)")
        return self

    def to_job(self) -> VerifyJob:
        job_id = self.id if self.id is not None else self.name
        statement = self.statement if self.statement is not None else self.formal_statement
        return VerifyJob(id=str(job_id), statement=statement, proof=self.proof, header=self.header or "")

    @classmethod
    def from_job(cls, job: VerifyJob) -> dict:
        return {"id": job.id, "statement": job.statement, "proof": job.proof, "header": job.header}


class VerifyRequest(BaseModel):
    jobs: list[JobIn] = Field(description="Proofs to check; verdicts come back in this order")


class VerifyResponse(BaseModel):
    verdicts: list[dict]
    """`Verdict.to_dict()` of each job, in the order of the request."""
