"""Memgraph emulator: a Python stand-in for memgraph/memgraph used by this project's tests."""
