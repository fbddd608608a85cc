"""The dashboard's UI-free half: what the views show, computed without Textual.

Reading the store, sampling series, nesting and sorting rows, health words, number text and the
graph view's outline live here, so they can be tested as plain functions and reused by any
front end; ``screens/`` and ``widgets/`` only draw what these modules compute.
"""
