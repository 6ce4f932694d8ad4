"""Enrolment, indicators, teachers and capacity."""
