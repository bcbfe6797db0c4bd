"""What this layer's stream mixins use of the stream they are mixed into.

``tap_common.stream.client.APIStream`` provides it; this layer may not import that module (it
lies above), so the mixins see the stream through this typing-only view.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    import requests
    from singer_sdk import RESTStream
    from singer_sdk.helpers.types import Context

    from tap_common.state.progress import StreamProgress

    class PagedStream(RESTStream):
        """A REST stream that pages, counts its progress and can send one request aside."""

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
