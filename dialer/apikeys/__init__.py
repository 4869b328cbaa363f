"""API keys: who may call the HTTP API, in which role (manager, agent, system)."""
