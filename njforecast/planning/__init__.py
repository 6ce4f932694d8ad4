"""Plan targets and scenarios."""
