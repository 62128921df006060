"""The lobby display: now serving, with a chime and a spoken call."""

import nowserving_qt  # noqa: F401  (first: it sorts Qt's messages from the start)
