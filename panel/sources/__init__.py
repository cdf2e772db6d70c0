"""Inputs become Documents: local files, pasted descriptions, stdin, and web pages (fetch, SSRF guard,
extraction). May import panel.model and the base modules (config, errors) only.
"""
