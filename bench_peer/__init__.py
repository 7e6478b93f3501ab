"""Benchmark-only peers: other order dashboards built on the same data size, so bench_orders can
print their figures beside ours in one run (issue 16, point 4). Nothing in the seller center
imports this package; bench_orders starts it as a separate process with its own settings."""
