"""The office's rules as pure code: events, the projection, decisions, views, estimates.

Nothing here does I/O or knows about SQLite, HTTP or Qt."""
