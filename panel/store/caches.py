"""What a store keeps so nothing is paid for twice: uploaded file ids, upload claims, fetched pages.

A mixin of `Store`, apart from the runs: the Files API registry (with the claims that keep two
processes from uploading one content), the conditional-fetch cache and the extracted-text blobs.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from panel.store.connection import Connection
from panel.store.records import write_atomic


def claim_owner() -> str:
    """Who holds a claim: host and pid (so a dead process on this host is seen at once) and a
    unique part (so two registries in one process are two owners)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _alive(owner: str) -> bool:
    """False only when the owner ran on this host and its process is gone."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Caches:
    """The files, upload_claims and fetches tables of a store, and its blobs directory."""

    db: Connection
    home: Path
    _upsert_file: str
    _upsert_fetch: str

    if TYPE_CHECKING:

        def transaction(self) -> AbstractContextManager[Connection]: ...

    def file_id(self, endpoint: str, sha256: str) -> str | None:
        row = self.db.execute(
            "SELECT file_id FROM files WHERE endpoint = ? AND sha256 = ?", (endpoint, sha256)
        ).fetchone()
        return row["file_id"] if row else None

    def remember_file(
        self, endpoint: str, sha256: str, file_id: str, filename: str, mime: str, size: int
    ) -> None:
        with self.transaction() as db:
            db.execute(
                self._upsert_file,
                (endpoint, sha256, file_id, filename, mime, size, datetime.now(UTC).isoformat()),
            )

    def claim_upload(self, endpoint: str, sha256: str, owner: str, lease_s: float) -> str:
        """Claim the upload of one content for `lease_s` seconds.

        Returns "busy" while another live process holds it, "claimed" when it was free, and
        "taken_over" when a dead or expired claim was replaced: that upload may have reached the
        server, so the caller looks for it before uploading again.
        """
        now = time.time()
        with self.transaction() as db:
            row = db.execute(
                "SELECT owner, expires_at FROM upload_claims WHERE endpoint = ? AND sha256 = ?",
                (endpoint, sha256),
            ).fetchone()
            held = row is not None and row["owner"] != owner
            if held and row["expires_at"] > now and _alive(row["owner"]):
                return "busy"
            db.execute(
                "INSERT OR REPLACE INTO upload_claims VALUES (?,?,?,?)",
                (endpoint, sha256, owner, now + lease_s),
            )
        return "claimed" if row is None or row["owner"] == owner else "taken_over"

    def release_upload(self, endpoint: str, sha256: str, owner: str) -> None:
        with self.transaction() as db:
            db.execute(
                "DELETE FROM upload_claims WHERE endpoint = ? AND sha256 = ? AND owner = ?",
                (endpoint, sha256, owner),
            )

    # URL fetches and the extracted text of each page ------------------------------------------

    def blob_path(self, sha256: str) -> Path:
        return self.home / "blobs" / sha256[:2] / sha256

    def blob(self, sha256: str) -> bytes | None:
        """A fetched page's extracted bytes, kept so that a 304 rebuilds the same document."""
        try:
            return self.blob_path(sha256).read_bytes()
        except OSError:
            return None

    def keep_blob(self, sha256: str, data: bytes) -> None:
        """Keep the bytes under their SHA-256: a file in the data home, written once."""
        path = self.blob_path(sha256)
        if not path.exists():
            write_atomic(path, data)

    def last_fetch(self, url: str) -> dict[str, Any] | None:
        row = self.db.execute("SELECT * FROM fetches WHERE url = ?", (url,)).fetchone()
        return dict(row) if row else None

    def remember_fetch(self, info: dict[str, Any], document_json: str) -> None:
        with self.transaction() as db:
            db.execute(
                self._upsert_fetch,
                (
                    info["url"],
                    info["final_url"],
                    info["status"],
                    info.get("etag"),
                    info.get("last_modified"),
                    info["sha256"],
                    info["fetched_at"],
                    document_json,
                ),
            )
