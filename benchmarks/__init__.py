"""Side-by-side benchmarks of symgraph and its peers (see benchmarks/README.md)."""
