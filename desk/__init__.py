"""The front-desk staff console."""
