"""The live site: the pages of `panel site` served from the store, with readers' votes, bookmarks
and the security around them. May import panel.pages and below; never batch or cli.
"""

from __future__ import annotations
