"""mastplan.data."""
