"""The front-desk staff console."""

import nowserving_qt  # noqa: F401  (first: it sorts Qt's messages from the start)
