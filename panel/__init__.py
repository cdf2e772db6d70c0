"""panel: ship-or-skip reviews of software tools, written by an LLM review panel."""

from __future__ import annotations

__version__ = "0.1.0"
