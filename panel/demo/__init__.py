"""A fake Anthropic API on loopback (Files, Messages with SSE, Message Batches, rate limits, faults)
and bundled sample pages: `panel demo` without a key, and the tests. Imports nothing of panel's.
"""
