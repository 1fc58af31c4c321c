"""One module per ``spikernn`` subcommand; each exposes ``register(subparsers)``."""
