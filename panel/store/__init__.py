"""Where runs are kept: the SQLite index and JSON run records, and the pure functions over stored runs
(history, diff). May import panel.sources, panel.model and the base modules.
"""
