"""The subcommands of the `tongchuan-tui` command line, one module each."""
