"""The `fragviz` subcommands that need more than a few lines, one module per command group;
fragviz/cli.py builds the parser and dispatches."""
