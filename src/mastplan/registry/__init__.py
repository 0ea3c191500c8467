"""mastplan.registry."""
