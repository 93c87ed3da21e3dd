"""``specgym goodhart``: proxy and true value against optimisation pressure."""

