"""Benchmarks for issue 8 (`make bench`, `python -m bench`): the hot paths measured against honest
baselines on the same machine in one run, written as ratios to bench/results.json and a table in
docs/performance.md. Every asset the benchmark databases add is synthetic (`source='bench'`)."""
