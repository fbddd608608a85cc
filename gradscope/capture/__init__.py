"""The only code that registers hooks on torch objects."""
