"""The one error a policy file can raise, pointing at the file, line and key that is wrong."""

from __future__ import annotations


class PolicyError(Exception):
    """A policy file was refused; str() reads `file:line: key.path: problem`."""

    def __init__(self, file: str, line: int | None, key_path: str, problem: str) -> None:
        self.file = file
        self.line = line
        self.key_path = key_path
        self.problem = problem
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {key_path or '<root>'}: {problem}")
