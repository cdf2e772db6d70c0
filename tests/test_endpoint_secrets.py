"""Issue 20: a gateway's credentials in ANTHROPIC_BASE_URL never land in the file registry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import respx

from panel.api.client import Client, endpoint
from panel.api.registry import Registry
from panel.sources.documents import load_description
from panel.store.connection import redact_endpoint
from panel.store.sqlite import Store
from panel.store.sync import sync_stores
from tests import api

GATEWAY = "https://team:s3cr3t-t0ken@gw.example.test/anthropic?key=k3y-value&region=eu"
SECRETS = ("s3cr3t-t0ken", "k3y-value", "team:")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://team:tok@gw.test/v1", "https://***@gw.test/v1"),
        ("https://tok@gw.test", "https://***@gw.test"),
        ("https://gw.test/?key=abc&region=eu", "https://gw.test/?key=***&region=eu"),
        ("https://gw.test/?api_key=a&token=b", "https://gw.test/?api_key=***&token=***"),
        (
            "https://gw.test/?X-Amz-Signature=s&sig=t",
            "https://gw.test/?X-Amz-Signature=***&sig=***",
        ),
        ("https://gw.test/?secret=s&password=p", "https://gw.test/?secret=***&password=***"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("https://api.anthropic.com", "https://api.anthropic.com"),
    ],
)
def test_an_endpoint_is_kept_without_its_credentials(url: str, shown: str) -> None:
    """Userinfo and secret query parameters become ***; the rest of the address stays."""
    assert redact_endpoint(url) == shown


def endpoints(store: Store) -> list[str]:
    return [r["endpoint"] for r in store.db.execute("SELECT endpoint FROM files").fetchall()]


def test_an_upload_through_a_gateway_keys_its_row_without_the_token(
    httpx2_mock: respx.Router, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The registry row, and the bytes of panel.db, hold no part of the credentials."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", GATEWAY)
    httpx2_mock.post(f"{api.BASE}/v1/files").mock(side_effect=api.file_created)
    store = Store(tmp_path / "home")
    registry = Registry(store, Client(api_key="sk-ant-unit", base_url=api.BASE), endpoint())
    asyncio.run(registry.ensure(load_description("# Acme\nA tool.")))
    assert endpoints(store) == [redact_endpoint(GATEWAY)]
    store.close()
    data = (tmp_path / "home" / "panel.db").read_bytes()
    assert not any(secret.encode() in data for secret in SECRETS)


def test_a_row_keyed_by_the_old_form_is_found_and_moved(
    httpx2_mock: respx.Router, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older registry's row (keyed by the raw URL) is reused, not uploaded again, and the
    raw key is gone from the store."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", GATEWAY)  # no route: an upload would fail the test
    doc = load_description("# Acme\nA tool.")
    store = Store(tmp_path / "home")
    store.remember_file(GATEWAY, doc.sha256, "file_old", "acme.txt", doc.mime, len(doc.data))
    registry = Registry(store, Client(api_key="sk-ant-unit", base_url=api.BASE), endpoint())
    file_id, uploaded = asyncio.run(registry.ensure(doc))
    assert (file_id, uploaded) == ("file_old", False)
    assert endpoints(store) == [redact_endpoint(GATEWAY)]
    store.close()
    data = (tmp_path / "home" / "panel.db").read_bytes()
    assert not any(secret.encode() in data for secret in SECRETS)


def test_sync_copies_an_old_row_under_the_redacted_key(tmp_path: Path) -> None:
    """`panel sync` never carries the token into the shared store."""
    source, target = Store(tmp_path / "a"), Store(tmp_path / "b")
    source.remember_file(GATEWAY, "ab" * 32, "file_old", "acme.txt", "text/plain", 10)
    report = sync_stores(source, target)
    assert report.files.copied == 1
    assert endpoints(target) == [redact_endpoint(GATEWAY)]
    assert sync_stores(source, target).files.copied == 0  # the second sync copies nothing
