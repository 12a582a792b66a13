#!/bin/sh
# Create benchmarks/.venv-peers (a plain venv), install symgraph into it (editable, with its
# backend extras) and each peer of requirements-peers.txt separately: a peer that fails to install is reported and
# the benchmark shows it as "not installed". Idempotent: a second run installs nothing new.
set -u
PYTHON=${PYTHON:-python3}
VENV=benchmarks/.venv-peers
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV" || exit 1
# symgraph with every backend extra (numba, jax, dask + distributed): its own backend rows
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[all]' || exit 1
grep -v '^[[:space:]]*#' benchmarks/requirements-peers.txt | grep -v '^[[:space:]]*$' |
while read -r req; do
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$req"; then
    echo "setup_peers: '$req' failed to install; it will show as 'not installed'" >&2
  fi
done
exit 0
