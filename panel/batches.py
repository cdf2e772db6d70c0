"""`panel batch --via batches`: the persona requests through the Message Batches API."""

from __future__ import annotations
