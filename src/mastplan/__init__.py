"""mastplan: plan, share and track a city's 5G base-station sites."""

__version__ = "0.1.0"
