"""Where the event log lives: the SQLite store, retention, and the reports read from it."""
