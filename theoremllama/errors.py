"""Errors a user can act on.

Anything raised as a `UserError` is printed by the CLI as one clear line (no traceback) and
ends the process with exit code 2. `InputError` names where in an input file the problem is.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input, configuration or machine, stated so they can fix it."""


class InputError(UserError):
    """Bad input data: names the file, the line (1-based) and the field where it is."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.path, self.line, self.field, self.reason = path, line, field, message
        where = ""
        if path is not None:
            where = str(path) + (f":{line}" if line is not None else "")
        if field is not None:
            where = f"{where}: field '{field}'" if where else f"field '{field}'"
        super().__init__(f"{where}: {message}" if where else message)
