"""tocsin's domain core: pure functions from inputs to incidents and lifecycle events.

Nothing here performs I/O or reads a clock; time always arrives as an argument.
"""
