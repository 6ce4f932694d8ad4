"""The engine: base state, projection on arrays, the one orchestrator, batch runs."""
