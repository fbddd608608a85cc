"""The dashboard's screens: one per view, plus the key help."""
