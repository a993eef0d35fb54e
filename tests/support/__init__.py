"""Helpers shared by tests of every app (waiting for the system to be quiet)."""
