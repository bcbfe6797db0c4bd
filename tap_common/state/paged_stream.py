"""What this layer's collaborators use of the stream that holds them.

``tap_common.stream.client.APIStream`` provides it; this layer may not import that module (it
lies above), so they see the stream through this protocol: the SDK's ``RESTStream`` members
they read, and the hooks of ours they call.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    import logging
    from datetime import datetime

    import requests
    from singer_sdk import Tap
    from singer_sdk.helpers._batch import BatchConfig
    from singer_sdk.helpers.types import Context
    from singer_sdk.mapper import StreamMap

    from tap_common.state.progress import StreamProgress
    from tap_common.state.table_versions import ReadCheck


class PagedStream(t.Protocol):
    """A REST stream that pages, counts its progress and can send one request aside."""

    # The SDK's (singer_sdk.streams.core.Stream, 0.54.9).
    name: str
    _tap: Tap
    _stream_version: int | None
    forced_replication_method: str | None

    @property
    def logger(self) -> logging.Logger: ...

    @property
    def config(self) -> t.Mapping[str, t.Any]: ...

    @property
    def replication_method(self) -> str: ...

    @property
    def selected(self) -> bool: ...

    @property
    def primary_keys(self) -> t.Sequence[str]: ...

    @property
    def stream_maps(self) -> list[StreamMap]: ...

    def get_batch_config(self, config: t.Mapping) -> BatchConfig | None: ...

    def get_starting_replication_key_value(self, context: Context | None) -> t.Any | None: ...

    def get_starting_timestamp(self, context: Context | None) -> datetime | None: ...

    def get_context_state(self, context: Context | None) -> dict: ...

    # Ours (tap_common.stream.client.APIStream).
    read_survives_deletions: t.ClassVar[bool]

    @property
    def page_size(self) -> int: ...

    @property
    def progress(self) -> StreamProgress: ...

    def get_url_params(
        self, context: Context | None, next_page_token: t.Any
    ) -> dict[str, t.Any]: ...

    def request_once(
        self, params: dict[str, t.Any], context: Context | None = None
    ) -> requests.Response: ...

    def read_total(self, response: requests.Response) -> int | None: ...

    def incomplete_read(self, check: ReadCheck, context: Context | None) -> str | None: ...
