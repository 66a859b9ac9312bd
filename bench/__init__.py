"""Ikrar's benchmarks: `python -m bench` (see docs/PERFORMANCE.md).

Each module measures one thing against its reference and target and returns table rows:
`audit`, `append`, `proofs`, `memory`, `http_load`, `certificates`. `world` and `build`
make the benchmark ledgers; `common` holds the timing and the table.
"""
