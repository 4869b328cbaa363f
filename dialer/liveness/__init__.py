"""Liveness of the long-running loops: each loop writes a heartbeat (its last progress time)
as it goes; `dialer health` reads them and names each loop that stopped."""
