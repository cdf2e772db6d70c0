"""The panel itself: personas, prompts, the session that runs them, the decision reducer, pricing, and
`review`/`rerun`, the use cases tying them together. May import api, store, sources, model, base.
"""
