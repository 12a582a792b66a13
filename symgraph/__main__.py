"""``python -m symgraph`` runs the command line."""

import sys

from symgraph.cli import main

sys.exit(main())
