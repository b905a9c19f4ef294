"""Fixtures: emulator processes on free loopback ports with temporary data directories, always stopped."""
import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from emu_testkit import Emu  # noqa: E402


@pytest.fixture
def emu(tmp_path):
    """Factory: emu(name, version=..., wal=..., extra=[...], env={...}) -> started Emu; all stopped at teardown."""
    made = []

    def make(name="mg", start=True, **kw):
        e = Emu(str(tmp_path), name, **kw)
        made.append(e)
        if start:
            e.start()
        return e
    yield make
    for e in made:
        e.stop(signal.SIGKILL)


