"""Errors the program reports to a person as one clear line, never as a traceback."""

from __future__ import annotations

from collections.abc import Iterable


class NeedleDeskError(Exception):
    """An expected failure with a message fit for the practitioner or the command line."""


class ValidationError(NeedleDeskError):
    """A record breaks one or more rules; nothing was written."""

    def __init__(self, problems: Iterable[object]) -> None:
        self.problems = list(problems)
        lines = [str(p) for p in self.problems]
        super().__init__("; ".join(lines) if len(lines) < 4 else
                         f"{len(lines)} problems: " + "; ".join(lines[:3]) + "; …")


class NotFoundError(NeedleDeskError):
    """No record has that id."""


class SignedRecordError(NeedleDeskError):
    """A signed session was about to change other than by an amendment."""
