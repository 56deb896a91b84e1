"""Command-line subcommands: one module each, ``register(subparsers)`` + a ``run(args)``."""
