"""The live site (`panel serve`): the pages of `panel site` served from the store, with readers'
votes, bookmarks, the newsletter and the security around them. May import panel.pages and below;
only panel.cli imports it.
"""

from __future__ import annotations
