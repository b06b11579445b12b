"""One module per sub-command; each exposes ``run(ctx)``."""
