"""``specgym goodhart``: proxy and true value against optimisation pressure."""

from specgym.goodhart import goodhart_command as COMMAND  # noqa: N811 (the package's plug-in name)
