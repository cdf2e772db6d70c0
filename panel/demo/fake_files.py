"""The fake Files API: uploads, listing, metadata, content, deletion and expiry.

A mixin of `FakeAnthropic`, apart from the Messages endpoints that read the files.
"""

from __future__ import annotations

import hashlib
import math
import mimetypes
import time
from typing import Any

from panel.demo import fake_limits
from panel.demo.fake_state import FakeState
from panel.demo.fake_wire import ApiError, _new_id, _parse_multipart, _Request, _Response, _rfc3339

# The longest an upload waits for `release_uploads`: a test that forgets to release still ends.
HELD_UPLOAD_S = 60.0


class FakeFiles(FakeState):
    """The Files endpoints."""

    # -- files ---------------------------------------------------------------------------

    def _live_file(self, file_id: str) -> dict[str, Any] | None:
        """The file's metadata, or None if deleted or past its expiry (caller holds the lock)."""
        meta = self.files.get(file_id)
        if meta is not None and meta.get("_expires", math.inf) <= time.time():
            self.files.pop(file_id)
            return None
        return meta

    @staticmethod
    def _public(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if not k.startswith("_")}

    def _file_upload(self, req: _Request) -> _Response:
        fields = _parse_multipart(req.headers.get("content-type", ""), req.body)
        if "file" not in fields:
            raise ApiError(400, "file: Field required")
        filename, mime_type, data = fields["file"]
        if not mime_type or mime_type == "application/octet-stream":
            mime_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        with self._lock:
            self.uploads_started += 1
        time.sleep(self.upload_delay)
        self._uploads_open.wait(HELD_UPLOAD_S)
        with self._lock:
            used = sum(
                m["size_bytes"] for m in list(self.files.values()) if self._live_file(m["id"])
            )
        if used + len(data) > self.storage_quota_bytes:
            raise ApiError(
                400,
                f"Storage quota exceeded: {used} of {self.storage_quota_bytes} bytes used; "
                "delete files to free up space",
                error_code="storage_quota_exceeded",
            )
        now = time.time()
        meta: dict[str, Any] = {
            "id": _new_id("file"),
            "type": "file",
            "filename": filename,
            "mime_type": mime_type,
            "size_bytes": len(data),
            "created_at": _rfc3339(now),
            "downloadable": False,
            "expires_at": None,
        }
        if "expires_in_seconds" in fields:
            seconds = int(fields["expires_in_seconds"][2])
            if not 3600 <= seconds <= 7776000:
                raise ApiError(400, "expires_in_seconds: must be between 3600 and 7776000")
            meta["expires_at"], meta["_expires"] = _rfc3339(now + seconds), now + seconds
        with self._lock:
            self.files[meta["id"]] = meta
            self._file_bytes[meta["id"]] = data
            self.uploads.append(
                {
                    "file_id": meta["id"],
                    "filename": filename,
                    "mime_type": mime_type,
                    "size_bytes": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                }
            )
            drop = self._upload_drops > 0
            self._upload_drops -= drop
        if drop:
            return _Response(200, b"", cut=True)
        return _Response(200, self._public(meta))

    def _file_list(self, req: _Request) -> _Response:
        """Newest first, a page at a time (`limit`, `after_id`, `before_id`), as the API pages."""
        with self._lock:
            live = [m for m in list(self.files.values()) if self._live_file(m["id"])]
        newest_first = [self._public(m) for m in reversed(live)]  # insertion is creation order
        try:
            return _Response(200, fake_limits.page(newest_first, req.query))
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc

    def _get_file(self, file_id: str) -> dict[str, Any]:
        with self._lock:
            meta = self._live_file(file_id)
        if meta is None:
            raise ApiError(404, f"File not found: {file_id}")
        return meta

    def _file_get(self, req: _Request) -> _Response:
        return _Response(200, self._public(self._get_file(req.params["id"])))

    def _file_delete(self, req: _Request) -> _Response:
        self._get_file(req.params["id"])
        self.delete_file(req.params["id"])
        return _Response(200, {"id": req.params["id"], "type": "file_deleted"})

    def _file_content(self, req: _Request) -> _Response:
        self._get_file(req.params["id"])
        raise ApiError(
            400,
            "File is not downloadable: only files created by skills or the "
            "code execution tool can be downloaded",
        )
