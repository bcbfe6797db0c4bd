"""BATCH mode (``batch_config``) whose STATE never covers a record no BATCH message announced.

The SDK's ``Stream.get_batches`` (singer-sdk 0.54.9, streams/core.py) hands the stream's
records to a batcher that holds each chunk of ``batch_size`` records in memory and writes
its file once the chunk is full; ``_sync_batches`` then writes the BATCH message and a
STATE. The bookmark moves with every record read, though, so when the read fails halfway
the state reached covers the chunk in hand, whose file nobody announced: the tap's last
STATE then skips those records on the next run (Singer spec, "State": a target emits the
state once the records before it are loaded, https://hub.meltano.com/singer/spec#state).

Here a read that fails hands the batcher the records it has, so the chunk in hand becomes
a last (short) batch and is announced before the failure goes on, and the stream's state
is put back to what the last announced batch covers if anything else fails before the
chunk is announced (its file, the batcher, a signal).
"""

from __future__ import annotations

import copy
import typing as t

from singer_sdk.batch import Batcher

from tap_common.messages import signals

if t.TYPE_CHECKING:
    from singer_sdk import Stream
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context


def announced_batches(
    stream: Stream, batch_config: BatchConfig, context: Context | None = None
) -> t.Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
    """The SDK's batches of ``stream`` (``Stream.get_batches``), plus a last one of the
    records read before a failure, which is raised once that batch is announced."""
    failures: list[BaseException] = []

    def records() -> t.Iterator[dict]:
        try:
            # Private: the SDK's own record loop, as its ``get_batches`` calls it
            # (bookmarks, post_process, children); tests/test_sdk_private.py guards it.
            yield from stream._sync_records(context, write_messages=False)
        except (Exception, signals.SyncInterrupted) as exc:
            failures.append(exc)  # the batcher then closes the chunk in hand

    announced = copy.deepcopy(stream.stream_state)  # nothing read yet
    batcher = Batcher(tap_name=stream.tap_name, stream_name=stream.name, batch_config=batch_config)
    try:
        for manifest in batcher.get_batches(records=records()):
            # Every record read so far is in this batch or an earlier one: the SDK now
            # writes its BATCH message and then the STATE.
            yield batch_config.encoding, manifest
            announced = copy.deepcopy(stream.stream_state)
    except BaseException:
        # A batch file or a signal failed before the chunk in hand was announced.
        restore_stream_state(stream, announced)
        raise
    if failures:
        raise failures[0]


def restore_stream_state(stream: Stream, saved: dict) -> None:
    """Put the stream's state (its bookmarks and partitions) back to ``saved``, in the same
    dict the tap's state holds."""
    state = stream.stream_state
    state.clear()
    state.update(saved)
