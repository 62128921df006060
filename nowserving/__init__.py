"""Nowserving: line management for public offices.

This package is the core. It never imports Qt, so the domain rules, the event
store and the hub run and test headless.
"""

__version__ = "0.1.0"
