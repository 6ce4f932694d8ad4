"""Tests of the planner's page (njforecast.app).

A package, so that its conftest does not shadow tests/conftest.py.
"""
