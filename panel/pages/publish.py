"""Publishing a site whole: each build goes into a new folder, then one rename makes it the site.

`OUT` is a symbolic link to the current build, `.OUT.builds/<id>/` beside it. A build writes a
staging folder `.OUT.builds/new-<id>/` (unchanged pages hard-linked from the current build), then
renames it to `<id>` and swaps the link with `os.replace`, which is atomic: a reader, or a `kill -9`
at any moment, sees the previous complete site or the new complete site, never a mix. Old builds
and interrupted staging folders are removed by the next build, under a lock that keeps two builds
of one site from running at once.

A folder that a panel older than this wrote (a plain directory of pages) is moved into the builds
folder once and replaced by the link; a folder holding anything but a site's pages is refused.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from panel.errors import InputError
from panel.pages import links
from panel.pages.manifest import manifest_path

# What a site folder holds at its top: anything else in a plain folder is the user's, not ours.
SITE_NAMES = {links.INDEX, links.METHODOLOGY, links.FEED, "tools", "compare"}
LOCK = "lock"
STAGING = "new-"


def builds_dir(outdir: Path) -> Path:
    return outdir.with_name(f".{outdir.name}.builds")


def current_build(outdir: Path) -> Path | None:
    """The folder whose pages are published at `outdir` now, if any."""
    if outdir.is_symlink():
        target = outdir.parent / os.readlink(outdir)
        return target if target.is_dir() else None
    return outdir if outdir.is_dir() else None


def check_target(outdir: Path) -> None:
    """Refuse what a build must not replace: a file, a link panel did not make, or a folder
    with files that are not a site's pages (a build replaces the folder, it does not add to it)."""
    if outdir.name in ("", ".", ".."):
        raise InputError(f"{outdir}: name a folder for the site, e.g. `site`")
    if outdir.is_symlink():
        target = Path(os.readlink(outdir))
        if target.parent != Path(builds_dir(outdir).name):
            raise InputError(
                f"{outdir}: is a link panel did not make (to {target}); give another folder"
            )
        return
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"{outdir}: exists and is not a directory")
    if outdir.is_dir():
        other = sorted(
            p.name for p in outdir.iterdir() if p.name not in SITE_NAMES and not _temp(p.name)
        )
        if other:
            raise InputError(
                f"{outdir}: holds files that are not a panel site ({', '.join(other[:3])}); "
                "a build replaces the whole folder, so give a new or empty one"
            )


def _temp(name: str) -> bool:
    """A temporary file an older panel's interrupted write left (`.index.html.XXXX.tmp`)."""
    return name.startswith(".") and name.endswith(".tmp")


@contextmanager
def locked(outdir: Path) -> Iterator[Path]:
    """The builds folder of `outdir`, held by this build alone while the block runs."""
    builds = builds_dir(outdir)
    builds.mkdir(parents=True, exist_ok=True)
    with open(builds / LOCK, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"{outdir}: another `panel site` is building it; try again") from None
        try:
            yield builds
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def staging(builds: Path) -> Path:
    """A new, empty folder for the next build, invisible to the published site; made with the
    usual permissions (the umask's), as the site's readers need, not a private temp folder's."""
    while True:
        path = builds / f"{STAGING}{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


def carry(old: Path, new: Path) -> None:
    """An unchanged page into the new build: a hard link (no copy, mtime kept), else a copy."""
    new.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(old, new)
    except OSError:
        shutil.copy2(old, new)


def put(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def publish(outdir: Path, staged: Path, manifest: str) -> Path:
    """Make the staged build the site: name it, write its manifest, swap the link; returns it."""
    build = staged.with_name(staged.name.removeprefix(STAGING))
    os.rename(staged, build)
    manifest_path(build).write_text(manifest, encoding="utf-8")
    link = build.with_name(f"link-{build.name}")
    os.symlink(Path(build.parent.name) / build.name, link)
    if outdir.is_dir() and not outdir.is_symlink():
        # a plain folder from an older panel (checked to hold only pages): moved aside once
        os.rename(outdir, build.with_name(f"old-{build.name}"))
    os.replace(link, outdir)
    return build


def tidy(outdir: Path, builds: Path) -> None:
    """Remove every build but the published one: older builds, interrupted staging folders."""
    current = current_build(outdir)
    keep = {LOCK} if current is None else {LOCK, current.name, manifest_path(current).name}
    for path in builds.iterdir():
        if path.name in keep:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
