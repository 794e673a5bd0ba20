"""Benchmarks: how the library scales with the number of export jobs in one stack, measured
against the hand-written way (a ``custom_resources.Provider`` per job).

``make bench`` runs :mod:`bench.__main__`; :mod:`bench.jobs` builds the stacks (the scale test
in ``tests/constructs/test_scale.py`` builds its stack with it too).
"""
