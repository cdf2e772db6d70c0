"""The PostgreSQL schema, as numbered migrations: `panel db upgrade` applies the missing ones.

Append, never edit: a shared database at version N has run exactly the first N entries. The job
tables live here too (SQLite creates its own in `panel.batch.jobs`), so one upgrade migrates all.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1: the index with each run's JSON record, the file registry, fetches, claims, votes, jobs
    """
    CREATE TABLE runs (
        seq BIGSERIAL UNIQUE,
        run_id TEXT PRIMARY KEY,
        slug TEXT NOT NULL,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        model TEXT NOT NULL,
        decision TEXT NOT NULL,
        label TEXT NOT NULL,
        mean_score DOUBLE PRECISION,
        parent_run_id TEXT,
        job_id TEXT,
        record JSONB NOT NULL
    );
    CREATE INDEX runs_by_slug ON runs (slug, created_at, seq);
    CREATE TABLE files (
        endpoint TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        file_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        mime TEXT NOT NULL,
        size_bytes BIGINT NOT NULL,
        uploaded_at TEXT NOT NULL,
        PRIMARY KEY (endpoint, sha256)
    );
    CREATE TABLE fetches (
        url TEXT PRIMARY KEY,
        final_url TEXT NOT NULL,
        status INTEGER NOT NULL,
        etag TEXT,
        last_modified TEXT,
        sha256 TEXT NOT NULL,
        fetched_at TEXT NOT NULL,
        document TEXT NOT NULL
    );
    CREATE TABLE upload_claims (
        endpoint TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        owner TEXT NOT NULL,
        expires_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (endpoint, sha256)
    );
    CREATE TABLE votes (
        slug TEXT NOT NULL,
        voter TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('ship', 'skip')),
        voted_at TEXT NOT NULL,
        PRIMARY KEY (slug, voter)
    );
    CREATE TABLE jobs (
        job_id TEXT PRIMARY KEY,
        backlog TEXT NOT NULL,
        via TEXT NOT NULL,
        model TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        status TEXT NOT NULL
    );
    CREATE TABLE job_items (
        job_id TEXT NOT NULL,
        slug TEXT NOT NULL,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        row TEXT NOT NULL,
        state TEXT NOT NULL,
        run_id TEXT,
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        cost_usd DOUBLE PRECISION,
        tokens BIGINT NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL,
        lease_owner TEXT,
        lease_until DOUBLE PRECISION,
        PRIMARY KEY (job_id, slug)
    );
    CREATE TABLE job_batches (
        batch_id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        created_at TEXT NOT NULL,
        requests INTEGER NOT NULL,
        state TEXT NOT NULL
    );
    CREATE TABLE job_requests (
        custom_id TEXT PRIMARY KEY,
        job_id TEXT NOT NULL,
        batch_id TEXT NOT NULL,
        slug TEXT NOT NULL,
        run_id TEXT NOT NULL,
        persona TEXT NOT NULL,
        state TEXT NOT NULL,
        result TEXT
    );
    CREATE INDEX job_requests_by_item ON job_requests (job_id, slug, run_id);
    """,
    # 2: fetched pages' extracted text, so a teammate's 304 rebuilds the document (SQLite keeps
    # these as files under the data home's blobs/)
    """
    CREATE TABLE blobs (
        sha256 TEXT PRIMARY KEY,
        data BYTEA NOT NULL
    );
    """,
    # 3: the newsletter's subscribers (double opt-in); links carry `id`, never the address (SQLite
    # creates the same table in `panel.store.subscribers`)
    """
    CREATE TABLE subscribers (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed')),
        created_at TEXT NOT NULL,
        confirmed_at TEXT,
        unsubscribed_at TEXT,
        mailed_at TEXT
    );
    """,
    # 4: pairwise comparisons (`panel compare A B --judge`), each record in its index row
    """
    CREATE TABLE pairwise (
        seq BIGSERIAL UNIQUE,
        pair_id TEXT PRIMARY KEY,
        slug_a TEXT NOT NULL,
        slug_b TEXT NOT NULL,
        run_a TEXT NOT NULL,
        run_b TEXT NOT NULL,
        created_at TEXT NOT NULL,
        model TEXT NOT NULL,
        label TEXT NOT NULL,
        record JSONB NOT NULL
    );
    CREATE INDEX pairwise_by_pair ON pairwise (slug_a, slug_b, created_at, seq);
    """,
    # 5: which subscriber each digest was mailed to, so a second `panel digest --send` of the same
    # digest mails nobody twice (a subscriber id, never the address; SQLite creates the same table
    # in `panel.store.digest_log`)
    """
    CREATE TABLE digest_sends (
        digest TEXT NOT NULL,
        subscriber_id TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        PRIMARY KEY (digest, subscriber_id)
    );
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)
