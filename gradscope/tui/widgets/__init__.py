"""Widgets the dashboard's screens are built from."""
