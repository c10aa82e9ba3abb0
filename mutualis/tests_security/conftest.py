import pytest

from mutualis.tests_security.world import World


@pytest.fixture
def world(alice, dave, bob, charlie):
    return World(alice, dave, bob, charlie)
