"""Many tools at once: backlogs, resumable jobs in SQLite, live and Message Batches runners, export.
May import panel.judge and everything below it; never panel.pages or panel.cli.
"""
