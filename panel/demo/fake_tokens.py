"""The fake API's token counting and prompt caching: usage as the API reports it.

A mixin of `FakeAnthropic`: the cache breakpoints, prefixes and entries, and the
count_tokens endpoint, apart from the Messages handler that charges them.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from panel.demo import fake_limits
from panel.demo.fake_state import FakeState
from panel.demo.fake_wire import IMAGE_TOKENS, ApiError, _Request, _Response, _tokens


class FakeTokens(FakeState):
    """Token counts and the prompt cache."""

    if TYPE_CHECKING:

        def _validate_block(self, block: dict[str, Any], *, structured: bool) -> None: ...

    # -- token counting and prompt caching -----------------------------------------------

    def _count_tokens(self, req: _Request) -> _Response:
        """`messages.count_tokens`: every input token the request would carry (cached or not),
        the output schema included; an estimate that is close to the bill but not the bill's
        formula (`fake_limits.counted_tokens`), as the real endpoint warns."""
        params = req.json()
        for name in ("model", "messages"):
            if name not in params:
                raise ApiError(400, f"{name}: Field required")
        if params["model"] not in self.models:
            raise ApiError(404, f"model: {params['model']}")
        for message in params["messages"]:
            for block in message.get("content") or [] if isinstance(message, dict) else []:
                if isinstance(block, dict):
                    self._validate_block(block, structured=False)
        with self._lock:
            self.token_counts += 1
        billed = [b[0] for b in self._blocks(params)]
        return _Response(200, {"input_tokens": fake_limits.counted_tokens(billed, params)})

    def _blocks(self, params: dict[str, Any]) -> list[tuple[int, str, dict[str, Any] | None]]:
        """(tokens, canonical text, cache_control) for each block, in cache order."""
        raw: list[Any] = list(params.get("tools") or [])
        system = params.get("system")
        raw += [system] if isinstance(system, str) else list(system or [])
        for message in params.get("messages") or []:
            content = message.get("content") if isinstance(message, dict) else None
            raw += [content] if isinstance(content, str) else list(content or [])
        out = []
        for block in raw:
            if isinstance(block, str):
                block = {"type": "text", "text": block}
            cache_control = block.get("cache_control")
            stripped = {k: v for k, v in block.items() if k != "cache_control"}
            canonical = json.dumps(stripped, sort_keys=True)
            out.append((self._block_tokens(stripped, canonical), canonical, cache_control))
        return out

    def _block_tokens(self, block: dict[str, Any], canonical: str) -> int:
        kind, source = block.get("type"), block.get("source") or {}
        if kind == "text":
            return _tokens(len(block.get("text", "")))
        if kind == "image":
            return IMAGE_TOKENS
        if kind == "document" and source.get("type") == "file":
            with self._lock:
                meta = self.files.get(source.get("file_id", ""))
            return _tokens(meta["size_bytes"]) if meta else 0
        if kind == "document" and source.get("type") == "base64":
            return _tokens(len(source.get("data", "")) * 3 / 4)
        if kind == "document" and source.get("type") == "text":
            return _tokens(len(source.get("data", "")))
        return _tokens(len(canonical))

    def _usage(self, params: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Usage with caching: read the longest readable cached prefix, write up to the last
        breakpoint. Returns the usage and the cache keys to open once the response starts."""
        blocks = self._blocks(params)
        total = sum(b[0] for b in blocks)
        prefix_tokens, breakpoints, running = [], [], 0
        for i, (tokens, _, cache_control) in enumerate(blocks):
            running += tokens
            prefix_tokens.append(running)
            if cache_control and running >= self._min_cache(params["model"]):
                breakpoints.append(i)
        read = created = 0
        written: list[str] = []
        ttls = {"5m": 0, "1h": 0}
        now = time.monotonic()
        with self._lock:
            keys = {i: self._prefix_key(params["model"], blocks[: i + 1]) for i in breakpoints}
            for key in [k for k, e in self._cache.items() if e["expires"] < now]:
                del self._cache[key]
            hits = [i for i in breakpoints if self._cache.get(keys[i], {}).get("readable")]
            if hits:
                read = prefix_tokens[hits[-1]]
            for i in breakpoints:
                ttl = blocks[i][2].get("ttl", "5m")  # type: ignore[union-attr]
                seconds = 3600 if ttl == "1h" else 300
                entry = self._cache.get(keys[i])
                if entry is not None and entry["readable"]:
                    entry["expires"] = max(entry["expires"], now + seconds)  # a hit refreshes
                    continue
                if entry is None:
                    self._cache[keys[i]] = {"readable": False, "expires": now + seconds}
                written.append(keys[i])
            if breakpoints and breakpoints[-1] not in hits:
                created = prefix_tokens[breakpoints[-1]] - read
                ttl = blocks[breakpoints[-1]][2].get("ttl", "5m")  # type: ignore[union-attr]
                ttls["1h" if ttl == "1h" else "5m"] = created
        usage = {
            "input_tokens": total - read - created + fake_limits.schema_tokens(params),
            "cache_creation_input_tokens": created,
            "cache_read_input_tokens": read,
            "cache_creation": {
                "ephemeral_5m_input_tokens": ttls["5m"],
                "ephemeral_1h_input_tokens": ttls["1h"],
            },
        }
        return usage, written

    @staticmethod
    def _prefix_key(model: str, blocks: list[tuple[int, str, Any]]) -> str:
        digest = hashlib.sha256(model.encode())
        for _, canonical, _ in blocks:
            digest.update(canonical.encode())
        return digest.hexdigest()
