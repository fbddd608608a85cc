"""``gradscope serve``: the dashboard in a browser, for one store or a folder of runs.

The terminal dashboard runs unchanged in a subprocess per browser tab (textual-serve's web
driver); this package only finds the runs, builds the pages and routes each tab to its store.
"""
