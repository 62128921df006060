"""One module per kiosk screen; each renders what the window gives it and emits taps."""
