"""Chongqing default data set and the 5G action plan's structure as data."""
