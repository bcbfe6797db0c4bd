"""Singer message writer: msgspec's JSON encoder, with a text fallback for in-process runs."""

from __future__ import annotations

import logging
import sys
import typing as t

from singer_sdk.contrib import msgspec as msgspec_encoding
from singer_sdk.contrib.msgspec import MsgSpecWriter
from typing_extensions import override

from tap_common.messages.values import valid_text

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message

logger = logging.getLogger(__name__)


class FastSingerWriter(MsgSpecWriter):
    """The SDK's ``MsgSpecWriter`` (faster than simplejson), safe when stdout is text-only.

    ``MsgSpecWriter`` writes bytes to ``sys.stdout.buffer``. In-process runners (the SDK's
    standard tests, ``tests/singer_io.py``) swap stdout for a ``StringIO`` that has no
    buffer; there the same line is written as text. Output is identical either way:
    compact JSON, Decimals as numbers, one message per line, flushed per message as
    the SDK's default writer does.

    Output is always valid UTF-8: JSON may escape a lone surrogate (``"\\ud800"``), which
    Python decodes into a string no UTF-8 encoder accepts. Such a message is written with
    U+FFFD in its place, and said once per stream.
    """

    @property
    def _line(self) -> bytearray:
        """This writer's line buffer, reused for every message (no allocation per line)."""
        line = self.__dict__.get("_line_buffer")
        if line is None:
            line = self.__dict__["_line_buffer"] = bytearray(1024)
        return line

    @override
    def serialize_message(self, message: Message) -> bytearray:
        try:
            return super().serialize_message(message)
        except UnicodeEncodeError:
            stream = getattr(message, "stream", None)
            warned: set = self.__dict__.setdefault("_warned_text", set())
            if stream not in warned:
                warned.add(stream)
                logger.warning(
                    "Stream '%s': a value held text that is not valid Unicode (a lone "
                    "surrogate); written with U+FFFD in its place.",
                    stream,
                )
            return super().serialize_message(t.cast("Message", _ValidText(message)))

    @override
    def write_message(self, message: Message) -> None:
        # The SDK's serialize_message, inlined for the usual case (one message per record:
        # two calls fewer); its own encoder, so the bytes are the same.
        line = self._line
        try:
            msgspec_encoding.encoder.encode_into(message.to_dict(), line)
        except UnicodeEncodeError:
            line = self.serialize_message(message)
        else:
            line.extend(b"\n")
        stdout = sys.stdout
        buffer = getattr(stdout, "buffer", None)
        if buffer is not None:
            buffer.write(line)
        else:
            stdout.write(line.decode())
        stdout.flush()


class _ValidText:
    """A message whose ``to_dict()`` has every string (keys included) made valid text."""

    def __init__(self, message: Message) -> None:
        self._message = message

    def to_dict(self) -> dict:
        return _valid(self._message.to_dict())


def _valid(value: t.Any) -> t.Any:
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {_valid(k): _valid(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_valid(v) for v in value]
    return value
