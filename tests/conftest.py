"""Shared fixtures: every test builds in a fresh graph."""

import numpy as np
import pytest

import symgraph as sg
import opcases  # noqa: F401  (snapshots the builtin ops before tests declare theirs)


@pytest.fixture
def graph():
    with sg.Graph() as g:
        yield g


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
