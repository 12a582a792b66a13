"""Shared fixtures: every test builds in a fresh graph."""

import numpy as np
import pytest

import symgraph as sg


@pytest.fixture
def graph():
    with sg.Graph() as g:
        yield g


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
