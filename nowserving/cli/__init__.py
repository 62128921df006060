"""The command line: `nowserving init`, `hub`, `demo`, `simulate`, `report` and friends."""
