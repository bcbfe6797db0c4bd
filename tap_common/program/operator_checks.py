"""Operator mistakes a tap can see before its first request, each in one line that names
what to change: a setting that does not exist, a catalog that selects a stream the tap
does not have, a selected stream whose catalog schema lost its key or replication key.

The SDK accepts all of these silently (its config schema allows additional properties; its
catalog lookup skips unknown entries; a stream without its key in the schema emits records
the target cannot merge), so a run "succeeds" with nothing or the wrong thing loaded.
"""

from __future__ import annotations

import difflib
import logging
import typing as t

from tap_common.program.input_errors import InputError

if t.TYPE_CHECKING:
    from singer_sdk import Stream
    from singer_sdk.singerlib import Catalog

logger = logging.getLogger(__name__)


def nearest(name: str, known: t.Iterable[str]) -> str | None:
    """The known name closest to ``name`` (difflib's ratio of at least 0.6), if any."""
    matches = difflib.get_close_matches(name, list(known), n=1)
    return matches[0] if matches else None


def warn_unknown_settings(
    config: t.Mapping[str, t.Any], config_jsonschema: dict, tap_name: str
) -> list[str]:
    """One WARNING per config key that is no setting of the tap, naming the nearest one;
    returns those keys."""
    known = config_jsonschema.get("properties", {})
    unknown = [name for name in config if name not in known]
    for name in unknown:
        guess = nearest(name, known)
        hint = f"did you mean '{guess}'?" if guess else "see `--about` for the settings."
        logger.warning(
            "Setting '%s' is not a setting of %s and is ignored; %s", name, tap_name, hint
        )
    return unknown


def check_catalog(catalog: Catalog, streams: t.Mapping[str, Stream], source: str) -> None:
    """Streams of ``catalog`` (read from ``source``) the tap has, and the key and replication
    key of every selected one in its schema; raises ``InputError`` when the run would load
    nothing or records without their key, warns when only part of the catalog is unknown."""
    unknown = [
        entry.tap_stream_id for entry in catalog.streams if entry.tap_stream_id not in streams
    ]
    if unknown:
        named = ", ".join(_with_guess(name, streams) for name in unknown)
        selected = [stream.name for stream in streams.values() if stream.selected]
        if not selected:
            msg = (
                f"{source} selects no stream this tap has: {named} "
                f"{'is' if len(unknown) == 1 else 'are'} not among its streams (listed by "
                "--discover); fix the name or select a stream."
            )
            raise InputError(msg)
        logger.warning(
            "%s names streams this tap does not have, which are skipped: %s.", source, named
        )
    for stream in streams.values():
        found = catalog.get_stream(stream.name)
        if stream.selected and found is not None:
            _check_schema(stream, found.schema.to_dict(), source)


def _with_guess(name: str, streams: t.Iterable[str]) -> str:
    guess = nearest(name, streams)
    return f"'{name}' (did you mean '{guess}'?)" if guess else f"'{name}'"


def _check_schema(stream: Stream, schema: dict, source: str) -> None:
    """The catalog's ``schema`` of a selected stream (what its records are conformed to)."""
    properties = schema.get("properties") or {}
    needed = [(key, "key property") for key in stream.primary_keys or ()]
    if stream.replication_key and stream.replication_method == "INCREMENTAL":
        needed.append((stream.replication_key, "replication key"))
    for name, role in needed:
        if name not in properties:
            msg = (
                f"{source}: stream '{stream.name}' is selected, but its schema has no "
                f"'{name}', its {role}; put the property back (--discover writes it) or "
                "deselect the stream."
            )
            raise InputError(msg)
