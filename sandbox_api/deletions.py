"""Deleting records between (or during) runs, and restoring them, in either fake API.

Neither API reports deletions in its lists: a deleted record is simply no longer listed.
OnePageCRM keeps deleted items restorable for a while (its help centre: "Restore deleted
items"); whether a restore changes ``modified_at`` is not documented, so ``restore`` can
do either (``touch``).
"""

from __future__ import annotations

import typing as t
from datetime import datetime, timezone

from sandbox_api import fake


def record_key(record: dict) -> t.Any:
    """A record's key: ``webhook_id`` for the call API's webhooks (which also carry a
    deprecated integer ``id``), else ``id``."""
    return record["webhook_id"] if "webhook_id" in record else record.get("id")


class Deletions:
    """Mixin for a fake API holding ``records: {resource: [record, ...]}`` and an ``_index``."""

    records: dict[str, list[dict]]
    _index: dict

    def delete(self, resource: str, ids: t.Iterable[t.Any]) -> list[dict]:
        """Remove records by id from a resource's list; returns them (for ``restore``)."""
        wanted = set(ids)
        kept: list[dict] = []
        gone: list[dict] = []
        for record in self.records[resource]:
            (gone if record_key(record) in wanted else kept).append(record)
        missing = wanted - {record_key(r) for r in gone}
        if missing:
            msg = f"no {resource} with ids {sorted(missing)}"
            raise KeyError(msg)
        self.records[resource] = kept
        self.__dict__.setdefault("deleted", {}).setdefault(resource, []).extend(gone)
        self._index.clear()
        return gone

    def restore(self, resource: str, ids: t.Iterable[t.Any], *, touch: bool = False) -> list[dict]:
        """Put deleted records back; ``touch`` stamps ``modified_at``/``updated_at`` now."""
        wanted = set(ids)
        deleted = self.__dict__.setdefault("deleted", {}).setdefault(resource, [])
        back = [r for r in deleted if record_key(r) in wanted]
        deleted[:] = [r for r in deleted if record_key(r) not in wanted]
        for record in back:
            if touch and "modified_at" in record:
                record["modified_at"] = fake.iso_z(datetime.now(timezone.utc))
            if touch and "updated_at" in record:
                record["updated_at"] = int(datetime.now(timezone.utc).timestamp())
        self.records[resource].extend(back)
        self._index.clear()
        return back
