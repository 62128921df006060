"""The office hub: the service over HTTP, live streams, and the residents' pages."""
