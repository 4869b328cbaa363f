"""Trunk routing: least-cost routing, weights, trunk limits, blind areas, caller IDs.

Pure core: ``model``, ``ratedeck``, ``geo``, ``distributor``, ``callerid``, ``health``,
``table``, ``router``, ``failover``, ``reservation`` and ``health_store`` (seams + in-memory
fakes), ``claim``, ``audit``. Adapters: ``redis_reservation`` (the Lua script),
``redis_health``, ``orm`` and ``store`` (SQLAlchemy), ``loadgen`` (multi-process reservation
load for tests and benchmarks). tests/test_purity.py holds the core to that.
"""

__all__: list[str] = []
