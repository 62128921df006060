"""`nowserving city`: one picture of every office, over the city's PostgreSQL."""
