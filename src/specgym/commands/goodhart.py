"""``specgym goodhart``: proxy and true value against optimisation pressure."""

from specgym.goodhart import goodhart_command as COMMAND

__all__ = ["COMMAND"]
