"""Processes for the durability tests and the benchmark: not part of the installed product."""
