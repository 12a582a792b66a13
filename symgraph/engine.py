"""Old path of symgraph.plan and symgraph.backends.numpy (issue 13): a shim until every importer moves."""
from symgraph.backends.numpy import evaluate  # noqa: F401
from symgraph.plan import as_outputs as _outputs, convert_feed, needed_nodes, resolve as _resolve  # noqa: F401
