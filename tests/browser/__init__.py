"""Real-browser tests (a package, so its test modules may share names with the unit tests')."""
