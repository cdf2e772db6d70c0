"""The record types every layer shares: what the model writes, what a run keeps, what the panel says.

Pure pydantic models; this package imports nothing of panel's but itself.
"""

from __future__ import annotations

from panel.model.decision import PanelDecision
from panel.model.pairwise import Pairwise, PairwiseDecision, PairwisePick, PairwiseVote
from panel.model.run import (
    DocumentRef,
    FetchInfo,
    ModelUsage,
    Run,
    RunUsage,
    Timings,
    ToolInfo,
)
from panel.model.verdict import Evidence, Quote, ToolCard, Usage, Verdict, VerdictRecord
from panel.model.votes import Votes

__all__ = [
    "DocumentRef",
    "Evidence",
    "FetchInfo",
    "ModelUsage",
    "Pairwise",
    "PairwiseDecision",
    "PairwisePick",
    "PairwiseVote",
    "PanelDecision",
    "Quote",
    "Run",
    "RunUsage",
    "Timings",
    "ToolCard",
    "ToolInfo",
    "Usage",
    "Verdict",
    "VerdictRecord",
    "Votes",
]
