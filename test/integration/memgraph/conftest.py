"""Fixtures for the memgraph-module integration tests: emulator processes (the emulator's own Emu class) and
mg_probe drivers, all stopped at teardown."""
import signal

import pytest

from mgq_helpers import Emu, Probe


@pytest.fixture
def emu(tmp_path):
    """Factory: emu(name, version=..., extra=[...], env={...}) -> started Emu; all SIGKILLed at teardown."""
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


@pytest.fixture
def probe():
    """Factory: probe(emu_or_port, *args) -> Probe; each must exit 0 (sanitizers clean) at teardown."""
    made = []

    def make(target, *args):
        port = target if isinstance(target, int) else target.port
        p = Probe(port, *args)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()
