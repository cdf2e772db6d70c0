"""The live site (`panel serve`): the web app, its routes and the newsletter behind them.

It may import panel.pages, panel.batch, panel.eval and every layer below them; only panel.cli imports it.
"""
