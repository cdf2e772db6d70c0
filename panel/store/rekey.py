"""Moving file registry rows from one endpoint key to another: registries written before the
endpoint was redacted keyed their rows by `ANTHROPIC_BASE_URL` as given, token and all."""

from __future__ import annotations

from panel.store.sqlite import Store


def rekey_files(store: Store, old: str, new: str) -> int:
    """File the rows kept under `old` under `new` (a row `new` already has stays) and delete
    every trace of `old`, claims included; returns how many rows moved."""
    if old == new:
        return 0
    if store.dialect == "sqlite":  # the deleted rows' bytes are zeroed, not left in free pages
        store.db.execute("PRAGMA secure_delete=ON")
    with store.transaction() as db:
        rows = db.execute(
            "SELECT sha256, file_id, filename, mime, size_bytes, uploaded_at FROM files "
            "WHERE endpoint = ?",
            (old,),
        ).fetchall()
        if not rows:
            return 0
        have = {
            r["sha256"]
            for r in db.execute("SELECT sha256 FROM files WHERE endpoint = ?", (new,)).fetchall()
        }
        columns = ("sha256", "file_id", "filename", "mime", "size_bytes", "uploaded_at")
        moved = [(new, *(r[c] for c in columns)) for r in rows if r["sha256"] not in have]
        if moved:
            db.executemany(store._upsert_file, moved)
        db.execute("DELETE FROM files WHERE endpoint = ?", (old,))
        db.execute("DELETE FROM upload_claims WHERE endpoint = ?", (old,))
    return len(moved)
