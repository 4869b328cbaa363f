"""Trunk routing: least-cost routing, weights, trunk limits, blind areas, caller IDs.

Pure core: ``model``, ``ratedeck``, ``geo``, ``distributor``, ``callerid``, ``health``,
``table``, ``router``, ``failover``, ``reservation`` (seam + in-memory fake), ``claim``,
``audit``. Adapters: ``redis_reservation`` (the Lua script), ``orm`` and ``store``
(SQLAlchemy), ``loadgen`` (multi-process reservation load for tests and benchmarks).
"""
