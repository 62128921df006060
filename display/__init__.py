"""The lobby display: now serving, with a chime and a spoken call."""
