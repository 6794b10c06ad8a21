"""The command line: one module per command family; `main` parses and dispatches."""
