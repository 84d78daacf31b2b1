"""Errors a user can cause: the CLI prints their message on one line and exits 2."""


class LapicqueError(Exception):
    """A user error: bad spec, bad option, unreadable file. The message names the problem and the fix."""


class SpecError(LapicqueError, ValueError):
    """An invalid array description: the message names the field and its allowed range."""
