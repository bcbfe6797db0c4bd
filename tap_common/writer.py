"""Singer message writer: msgspec's JSON encoder, with a text fallback for in-process runs."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message


class FastSingerWriter(MsgSpecWriter):
    """The SDK's ``MsgSpecWriter`` (faster than simplejson), safe when stdout is text-only.

    ``MsgSpecWriter`` writes bytes to ``sys.stdout.buffer``. In-process runners (the SDK's
    standard tests, ``tests/singer_io.py``) swap stdout for a ``StringIO`` that has no
    buffer; there the same line is written as text. Output is identical either way:
    compact JSON, Decimals as numbers, one message per line, flushed per message as
    the SDK's default writer does.
    """

    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        stdout = sys.stdout
        buffer = getattr(stdout, "buffer", None)
        if buffer is not None:
            buffer.write(line)
        else:
            stdout.write(line.decode())
        stdout.flush()
