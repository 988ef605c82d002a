"""The performance report of tongchuan-tui (`scripts/bench`): figures, not pass/fail tests."""
