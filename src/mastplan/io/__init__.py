"""mastplan.io."""
