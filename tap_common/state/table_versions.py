"""Table versions: every record carries one, and ACTIVATE_VERSION follows a complete read.

The Singer ``ACTIVATE_VERSION`` message tells a target that the table now holds exactly
the records of one version: a target that supports it (MeltanoLabs target-postgres,
``activate_version``/``hard_delete``, https://github.com/MeltanoLabs/target-postgres#settings)
then marks with ``_sdc_deleted_at``, or deletes, every row of an older version. That is
how deletions, which neither API reports, reach the warehouse.

singer-sdk 0.54 sends the message once, before the records (``Stream.sync``), so a
target retires the whole table at the start of the read and a failed read leaves every
unread row retired. Here the SDK is told the setting is off (the public
``emit_activate_version_messages`` property) and ``TableVersions`` sends the message itself,
after the last record of a read that completed and that shows it missed nothing:

* one answer (an unpaginated list, or a list that fits one page) is one snapshot;
* a paged read must have emitted at least as many distinct records as the list holds
  once the read is over (one more request, one record per page), and, unless its
  paging cannot skip a record when another is deleted (``read_survives_deletions``),
  the list must hold as many records at the end as when the read began: a deletion
  during a page-number read shifts every later record one place forward and the first
  record of the next page is never seen.

A read that fails raises before the message is written; a read that cannot show it is
complete logs one line and sends no message, so the target changes nothing.

Every record, incremental ones included, carries the version of its sync (the sync's
start in seconds, as the SDK's own): rows written by incremental runs are then older
than a later reconcile's version on any target, not only on those that also retire
rows without a version (the SDK's generic SQL sink, ``singer_sdk/sql/sink.py``, does
not).
"""

from __future__ import annotations

import logging
import typing as t

import singer_sdk.singerlib as singer
from singer_sdk import typing as th
from singer_sdk.mapper import RemoveRecordTransform

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context

    from tap_common.state.paged_stream import PagedStream

SETTING = "emit_activate_version_messages"
FULL_TABLE = "FULL_TABLE"


class ReadCheck:
    """What one read saw: how many pages, the list's total at the start, distinct keys."""

    def __init__(self) -> None:
        self.pages = 0
        self.first_total: int | None = None
        self.keys: set[tuple] = set()
        self.open = True

    def saw_page(self, total: int | None) -> None:
        if not self.open:
            return
        self.pages += 1
        if self.first_total is None:
            self.first_total = total


class TableVersions:
    """A stream's record versions, and ACTIVATE_VERSION after a full read that shows it is
    complete: the collaborator ``APIStream`` holds.

    Of the stream it asks ``read_total(response)`` (the total a list page announces, each
    API's client), ``incomplete_read(check, context)`` (a stream may know more) and
    ``read_survives_deletions``.
    """

    def __init__(self, stream: PagedStream) -> None:
        self.stream = stream
        self._check: ReadCheck | None = None  # the read under way, if it may activate

    @property
    def activates(self) -> bool:
        """Whether this read ends with ACTIVATE_VERSION: the setting, on a full-table read."""
        stream = self.stream
        return (
            bool(stream.config.get(SETTING, False))
            and stream.replication_method == FULL_TABLE
            and stream.selected
        )

    @property
    def version(self) -> int:
        """The sync's start in seconds, as the SDK's own version (``Stream.sync``)."""
        return int(self.stream._tap.initialized_at) // 1000

    def note_page(self, response: requests.Response) -> None:
        """Every accepted response of the read (``APIStream.validate_response``)."""
        check = self._check
        if check is not None and check.open:
            # An unpaginated endpoint answers once and has no total: one snapshot.
            paged = getattr(self.stream, "paginated", True)
            check.saw_page(self.stream.read_total(response) if paged else None)

    def read(self, records: t.Iterable[dict], context: Context | None) -> t.Iterator[dict]:
        """``records``, each of this sync's version; ACTIVATE_VERSION after the last one
        when the read activates and shows it is complete."""
        stream = self.stream
        # The SDK sets the version only on FULL_TABLE reads with the setting on; every
        # record gets one here. Both the SDK's _generate_record_messages and ours
        # (tap_common.messages.conform) read it from ``_stream_version``;
        # tests/test_table_versions.py fails if the SDK stops doing so.
        stream._stream_version = self.version
        activating = self.activates
        if activating and stream.get_batch_config(stream.config):
            # BATCH messages are written after the records are read, so the message
            # would come before the last batch: not supported, said once per stream.
            stream.logger.warning(
                "Stream '%s': no ACTIVATE_VERSION with batch_config; nothing is marked deleted.",
                stream.name,
            )
            activating = False
        check = self._check = ReadCheck() if activating else None
        keys = stream.primary_keys or ()
        for record in records:
            if check is not None:
                check.keys.add(tuple(record.get(key) for key in keys))
            yield record
        # The last record was written to stdout before the generator was resumed here,
        # so the message follows every record of the read.
        if check is not None:
            check.open = False
            problem = stream.incomplete_read(check, context)
            if problem:
                stream.logger.warning(
                    "Stream '%s': no ACTIVATE_VERSION, nothing is marked deleted: %s",
                    stream.name,
                    problem,
                )
            else:
                self.write_activate_version(self.version)

    def incomplete_read(self, check: ReadCheck, context: Context | None) -> str | None:
        """Why the read cannot be shown complete, or None when it is."""
        if check.pages == 0:
            # Every read asks at least once; none answered means the read was cut short.
            return "no answer of the API was read."
        if check.pages <= 1:
            return None  # one answer: one snapshot of the list
        final = self.final_total(context)
        read = len(check.keys)
        if final is None:
            return "the API gave no total to check the read against."
        if read < final:
            return f"the read returned {read} distinct records, the list now holds {final}."
        if not self.stream.read_survives_deletions and check.first_total != final:
            return (
                f"the list changed during the read ({check.first_total} records at its start, "
                f"{final} at its end), so a record may have moved between pages unread; "
                "the next full read tries again."
            )
        return None

    def final_total(self, context: Context | None) -> int | None:
        """The list's total now: the read's first query again, one record per page."""
        stream = self.stream
        params = {**stream.get_url_params(context, None), "page": 1, "per_page": 1}
        return stream.read_total(stream.request_once(params, context))

    def write_activate_version(self, version: int) -> None:
        """ACTIVATE_VERSION for the stream and each of its stream-map aliases."""
        stream = self.stream
        for stream_map in stream.stream_maps:
            if isinstance(stream_map, RemoveRecordTransform):
                continue  # a map that drops the stream: no table to activate
            stream._tap.write_message(
                singer.ActivateVersionMessage(stream=stream_map.stream_alias, version=version)
            )
        stream.logger.log(
            logging.INFO,
            "Stream '%s': read complete, ACTIVATE_VERSION %d sent.",
            stream.name,
            version,
        )


def apply_forced_replication_method(stream: PagedStream, catalog: singer.Catalog) -> None:
    """After the SDK's ``apply_catalog``: ``forced-replication-method`` in the stream's
    metadata (Meltano's ``metadata`` extra) wins over the entry's ``replication_method``.

    The SDK's discovered catalog writes ``replication_method: INCREMENTAL`` at the entry
    level, and its ``apply_catalog`` prefers that to the metadata, so a Meltano project
    could not make an incremental stream full table (the reconcile).
    """
    entry = catalog.get_stream(stream.name)
    root = entry.metadata.get(()) if entry else None
    forced = getattr(root, "forced_replication_method", None)
    if forced:
        stream.forced_replication_method = forced


def activate_version_setting() -> th.Property:
    """The setting, declared: the SDK does not add it to a tap's settings itself."""
    return th.Property(
        SETTING,
        th.BooleanType,
        default=False,
        description=(
            "Send ACTIVATE_VERSION after every complete full-table read, so a target that "
            "supports it (target-postgres: activate_version) marks deleted, or deletes "
            "(hard_delete), the rows the read did not return. A failed read, or one that "
            "cannot show it missed nothing, sends none."
        ),
    )
