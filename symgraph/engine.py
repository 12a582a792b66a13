"""Old path of ``sg.evaluate`` (issue 13): a shim while symgraph/__init__.py and
display/scene.py import it; the evaluator is ``symgraph.backends.numpy``."""
from symgraph.backends.numpy import evaluate  # noqa: F401
