"""The `trader` command line."""
