"""Kirklees asset map: where community support is in Kirklees, and what is nearest and open."""

import os

__version__ = "0.1.0"

# One OpenMP thread per process, set before any library loads OpenMP: the service runs a worker
# per core, and the asset index's k-d tree (pykdtree) would otherwise share each query's three
# points among threads that then spin waiting for work and starve the other worker (the caller
# fell from 3,009 to 279 requests/s in `make bench`).
os.environ["OMP_NUM_THREADS"] = "1"
