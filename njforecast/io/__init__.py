"""Bundled data store, planner files, validation and atomic writes."""
