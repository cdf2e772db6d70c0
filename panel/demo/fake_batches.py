"""The fake Message Batches API: creation, progress, results, cancel and delete.

A mixin of `FakeAnthropic`: each request is answered by the Messages code, as the API does.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from typing import Any

from panel.demo import fake_limits
from panel.demo.fake_messages import FakeMessages
from panel.demo.fake_wire import (
    CUSTOM_ID,
    ApiError,
    _error_body,
    _new_id,
    _Request,
    _Response,
    _rfc3339,
)


class FakeBatches(FakeMessages):
    """The Message Batches endpoints."""

    # -- message batches -----------------------------------------------------------------

    def _batch_create(self, req: _Request) -> _Response:
        requests = req.json().get("requests")
        if not isinstance(requests, list) or not requests:
            raise ApiError(400, "requests: at least one request is required")
        seen: set[str] = set()
        for item in requests:
            custom_id = item.get("custom_id") if isinstance(item, dict) else None
            if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
                raise ApiError(400, f"custom_id {custom_id!r}: 1-64 characters of [A-Za-z0-9_-]")
            if custom_id in seen:
                raise ApiError(400, f"custom_id {custom_id!r} is not unique in the batch")
            if not isinstance(item.get("params"), dict):
                raise ApiError(400, f"requests[{custom_id}].params: Field required")
            seen.add(custom_id)
        with self._lock:
            self.batch_creates_started += 1
        time.sleep(self.batch_create_delay)  # a client killed now never learns the batch's id
        now = self._clock()
        batch: dict[str, Any] = {
            "id": _new_id("msgbatch"),
            "type": "message_batch",
            "processing_status": "in_progress",
            "request_counts": {
                "processing": len(requests),
                "succeeded": 0,
                "errored": 0,
                "canceled": 0,
                "expired": 0,
            },
            "created_at": _rfc3339(now),
            "expires_at": _rfc3339(now + 86400),
            "ended_at": None,
            "cancel_initiated_at": None,
            "archived_at": None,
            "results_url": None,
            "_requests": requests,
            "_ends": now + self.batch_delay,
            "_results": None,
            # Progress (`_progress`): requests finish one by one in `_order` until `_ends`; any
            # still processing at `_expires` (24 h on) or at `_cancel_at` never run.
            "_started": now,
            "_expires": now + fake_limits.BATCH_TTL,
            "_cancel_at": None,
            "_order": requests,
            "_done": {},
            "_opened": [],
        }
        batch["_order"] = self._batch_order(requests, batch["id"])
        with self._lock:
            self.batches[batch["id"]] = batch
        return _Response(200, self._public(batch))

    def _batch(self, batch_id: str) -> dict[str, Any]:
        """The batch, finished first if its time has come."""
        with self._lock:
            batch = self.batches.get(batch_id)
            if batch is None:
                raise ApiError(404, f"Message batch not found: {batch_id}")
            if batch["processing_status"] != "ended":
                self._progress(batch)
            return batch

    def _batch_order(self, requests: list[dict[str, Any]], batch_id: str) -> list[dict[str, Any]]:
        """The order a batch's requests are processed in: any order, as on the real API."""
        order = list(requests)
        random.Random(f"{self.seed}:{batch_id}:order").shuffle(order)
        return order

    def _progress(self, batch: dict[str, Any]) -> None:
        """Move the batch on to now (`fake_limits.progress`), ending it when its time has come.
        Caller holds the lock."""
        results = fake_limits.progress(
            batch, self._clock(), lambda item: self._batch_result(item, batch["_opened"])
        )
        if results is not None:
            self._end_batch(batch, results)

    def _end_batch(self, batch: dict[str, Any], results: list[dict[str, Any]]) -> None:
        """End the batch with these results, shuffled, like the real API.

        The real API runs a batch's requests concurrently and in any order, so one request's cache
        write is not there for the others to read: the cache entries open only once all are done.
        """
        for on_start in batch["_opened"]:
            on_start()
        random.Random(f"{self.seed}:{batch['id']}").shuffle(results)
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        for line in results:
            counts[line["result"]["type"]] += 1
        batch.update(
            processing_status="ended",
            request_counts=counts,
            _results=results,
            ended_at=_rfc3339(self._clock()),
            results_url=f"{self.url}/v1/messages/batches/{batch['id']}/results",
        )

    def _batch_result(
        self, item: dict[str, Any], opened: list[Callable[[], None]]
    ) -> dict[str, Any]:
        for fault in self._batch_faults:
            if fault["count"] > 0 and fault["match"] in item["custom_id"]:
                fault["count"] -= 1
                return fault["result"]
        try:
            message, on_start = self.respond(item["params"], service_tier="batch")
        except ApiError as err:
            return {"type": "errored", "error": _error_body(err, _new_id("req"))}
        opened.append(on_start)
        return {"type": "succeeded", "message": message}

    def _batch_get(self, req: _Request) -> _Response:
        return _Response(200, self._public(self._batch(req.params["id"])))

    def _batch_list(self, req: _Request) -> _Response:
        with self._lock:
            data = [self._public(self._batch(i)) for i in reversed(list(self.batches))]
        return _Response(
            200,
            {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            },
        )

    def _batch_cancel(self, req: _Request) -> _Response:
        with self._lock:
            batch = self._batch(req.params["id"])
            if batch["processing_status"] == "in_progress":
                now = self._clock()
                batch.update(
                    processing_status="canceling",
                    cancel_initiated_at=_rfc3339(now),
                    _cancel_at=now,  # what finished by now stays `succeeded`; the rest cancel
                )
            return _Response(200, self._public(batch))

    def _batch_delete(self, req: _Request) -> _Response:
        with self._lock:
            if self._batch(req.params["id"])["processing_status"] != "ended":
                raise ApiError(400, "A batch must finish processing before it can be deleted")
            del self.batches[req.params["id"]]
        return _Response(200, {"id": req.params["id"], "type": "message_batch_deleted"})

    def _batch_results(self, req: _Request) -> _Response:
        batch = self._batch(req.params["id"])
        if batch["_results"] is None:
            raise ApiError(404, "Results are not available until the batch has ended")
        lines = [json.dumps(line) + "\n" for line in batch["_results"]]
        with self._lock:
            fault = self._results_faults.popleft() if self._results_faults else None
        if fault is not None and fault[0] == "garble" and fault[1] < len(lines):
            cut = lines[fault[1]]
            lines[fault[1]] = cut[: len(cut) // 2] + "\n"
        if fault is not None and fault[0] == "stall":
            head = [line.encode() for line in lines[: fault[1]]]
            return _Response(
                200, b"", content_type="application/binary", events=self._stalled(head)
            )
        return _Response(200, "".join(lines).encode(), content_type="application/binary")

    def _stalled(self, head: list[bytes]) -> Iterator[bytes]:
        """Some lines, then silence until the fake stops (or the client hangs up)."""
        yield from head
        self._stopping.wait()
