"""Campaigns and their leads: pure values (`domain`) and rules (`rules`), the tables
(`models`), the claim (`selection`), lifecycle (`service`), DNC, reports and imports.
"""

__all__: list[str] = []
