"""How a user names a run: by id, tool name or slug, `TOOL~N`, or the start of an id.

Apart from the store's reading and writing so that the rules for resolving a reference (and for
telling one tool's name from another's) sit in one place, shared by the SQLite and PostgreSQL stores.
"""

from __future__ import annotations

import re
from contextlib import suppress
from typing import TYPE_CHECKING

from panel.errors import InputError
from panel.sources.documents import slugify
from panel.sources.names import name_key, previous_slugs
from panel.store.connection import Connection

if TYPE_CHECKING:
    from panel.model.run import Run

# How many candidates an ambiguous run-id prefix lists.
AMBIGUOUS_SHOWN = 5


class RunLookup:
    """The run-id queries of a store, and the resolution of a run reference; a mixin of `Store`."""

    db: Connection
    where: str
    _seq: str

    if TYPE_CHECKING:

        def load_run(self, run_id: str) -> Run: ...

    def run_ids(self, slug: str) -> list[str]:
        rows = self.db.execute(
            # created_at has whole seconds: ties go to the order the runs were recorded in
            f"SELECT run_id FROM runs WHERE slug = ? ORDER BY created_at, {self._seq}",
            (slug,),
        ).fetchall()
        return [r["run_id"] for r in rows]

    def all_run_ids(self) -> list[str]:
        """Every run id, in the order the runs were made (recorded, for ties)."""
        rows = self.db.execute(
            f"SELECT run_id FROM runs ORDER BY created_at, {self._seq}"
        ).fetchall()
        return [r["run_id"] for r in rows]

    def latest_run_id(self, slug: str) -> str | None:
        ids = self.run_ids(slug)
        return ids[-1] if ids else None

    def has_run(self, run_id: str) -> bool:
        row = self.db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return row is not None

    def slug_of(self, tool: str) -> str | None:
        """The stored slug a TOOL argument names: the slug itself, or a name slugified.

        A name is also looked up under the slug the older rule gave it (`C++` was `c`), but only
        when a run there bears that name, so `C++` never finds the runs of C.
        """
        keys = [tool]
        with suppress(InputError):  # nothing to slugify: only the literal argument can match
            keys.append(slugify(tool))
        found = next((key for key in keys if self.run_ids(key)), None)
        if found is None:  # under an older rule's slug (`C++` was `c`, `Café` was `caf`)
            found = next(
                (s for s in previous_slugs(tool) if same_name(tool, self.names_of(s))), None
            )
        return found

    def names_of(self, slug: str) -> list[str]:
        """Every name the runs under a slug were recorded with, oldest first."""
        rows = self.db.execute(
            f"""SELECT name FROM runs WHERE slug = ? GROUP BY name
                ORDER BY MIN(created_at), MIN({self._seq})""",
            (slug,),
        ).fetchall()
        return [r["name"] for r in rows]

    def check_name(self, slug: str, name: str) -> None:
        """A slug keys one tool: a name given for it must be a name its runs already have.

        `Node.js` and `Node JS` share `node-js`; the second is refused rather than filed with the
        first. Case and spacing do not count (`acme cli` is `Acme CLI`), and a rerun passes the
        name it was recorded with.
        """
        names = self.names_of(slug)
        if names and not same_name(name, names):
            raise InputError(
                f"--name {name!r}: its key {slug!r} is already the tool {names[0]!r}; "
                f"pass --name {names[0]!r} to review that tool again, or a name that differs "
                "in more than punctuation for a new tool"
            )

    def run_for(self, ref: str) -> Run:
        """A run named any way a user names one; an unknown or ambiguous one is a one-line error.

        In order: a whole run id; a tool's name or slug (its latest run); `TOOL~N`, the run N
        before the latest (as git's `HEAD~1`); a unique prefix of a run id.
        """
        return self.load_run(self.run_id_for(ref))

    def run_id_for(self, ref: str) -> str:
        if self.has_run(ref):
            return ref
        if self.slug_of(ref) is not None:
            return self.runs_of(ref)[-1]
        tool, tilde, back = ref.rpartition("~")
        if tilde and tool and back.isdigit() and self.slug_of(tool) is not None:
            ids = self.runs_of(tool)
            if int(back) >= len(ids):
                raise InputError(
                    f"{ref!r}: {tool!r} has {len(ids)} run(s), so ~{len(ids) - 1} is the oldest"
                )
            return ids[-1 - int(back)]
        matches = self.run_ids_starting(ref)
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            shown = ", ".join(matches[:AMBIGUOUS_SHOWN]) + (
                ", ..." if len(matches) > AMBIGUOUS_SHOWN else ""
            )
            raise InputError(
                f"{ref!r} is the start of {len(matches)} run ids ({shown}); give more of one"
            )
        raise InputError(
            f"no run or tool {ref!r} in {self.where}; give a tool's name or slug (`panel list`), "
            "TOOL~1 for its run before the latest, or a run id or its start (`panel history TOOL`)"
        )

    def run_ids_starting(self, prefix: str) -> list[str]:
        """Run ids that begin with `prefix`, oldest first."""
        if not prefix:
            return []
        rows = self.db.execute(
            "SELECT run_id FROM runs WHERE substr(run_id, 1, ?) = ? ORDER BY created_at, rowid",
            (len(prefix), prefix),
        ).fetchall()
        return [r["run_id"] for r in rows]

    def runs_of(self, tool: str) -> list[str]:
        """The run ids of a TOOL argument, oldest first; an unknown tool is a one-line error."""
        slug = self.slug_of(tool)
        if slug is None:
            raise InputError(
                f"no runs of {tool!r} in {self.where}; see `panel list` for the tools reviewed"
            )
        return self.run_ids(slug)


def same_name(name: str, names: list[str]) -> bool:
    """Whether `name` is one of `names`, ignoring case, runs of whitespace and the Unicode form
    (NFC or NFD)."""
    return name_key(name) in {name_key(n) for n in names}


def legacy_slug(name: str) -> str:
    """The slug `name` had before `+`, `#` and non-ASCII names were told apart (`C++` was `c`)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64].strip("-")
