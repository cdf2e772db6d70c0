"""Everything that talks to Anthropic: the client (the only importer of the SDK), the rate-limit
scheduler and the file registry. May import panel.store, panel.sources, panel.model and the base.
"""
