"""The touchscreen ticket kiosk."""
