"""Config, state and catalog input read with errors that say what is wrong and where.

The SDK reads these inputs with bare ``json.loads`` and ``dict[...]`` lookups, so a trailing
comma, a missing file or a wrong-typed ``--config ENV`` variable ends in a traceback that
names neither the file nor the setting. Everything here runs before the first request and
raises ``InputError`` with one line: the file (with line and column) or the variable.
"""

from __future__ import annotations

import json
import os
import typing as t
from pathlib import Path

from singer_sdk.helpers._typing import (
    is_array_type,
    is_boolean_type,
    is_integer_type,
    is_object_type,
)
from singer_sdk.helpers._util import load_json
from singer_sdk.singerlib import Catalog


class InputError(Exception):
    """A config, state or catalog input the tap cannot use; the message is the whole story."""


def read_json_object(path: str, what: str) -> dict[str, t.Any]:
    """The JSON object in ``path``; ``what`` names the input ("Config file", "State file")."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = f"{what} '{path}' does not exist."
        raise InputError(msg) from None
    except IsADirectoryError:
        msg = f"{what} '{path}' is a directory, not a JSON file."
        raise InputError(msg) from None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"{what} '{path}' cannot be read: {exc}."
        raise InputError(msg) from None
    if not text.strip():
        msg = f"{what} '{path}' is empty; it must hold a JSON object."
        raise InputError(msg)
    try:
        value = load_json(text)  # the SDK's own parser: decimals stay exact
    except ValueError as exc:
        # simplejson's and json's JSONDecodeError both carry msg, lineno and colno.
        reason = getattr(exc, "msg", str(exc))
        where = f"line {getattr(exc, 'lineno', '?')} column {getattr(exc, 'colno', '?')}"
        msg = f"{what} '{path}' is not valid JSON: {reason} at {where}."
        raise InputError(msg) from None
    if not isinstance(value, dict):
        msg = f"{what} '{path}' must hold a JSON object, not a {_json_type(value)}."
        raise InputError(msg)
    return value


def read_state(path: str) -> dict[str, t.Any]:
    """A Singer state file: an object whose ``bookmarks`` map stream names to objects."""
    state = read_json_object(path, "State file")
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        msg = f"State file '{path}': 'bookmarks' must be an object, not a {_json_type(bookmarks)}."
        raise InputError(msg)
    for stream, bookmark in bookmarks.items():
        if not isinstance(bookmark, dict):
            msg = (
                f"State file '{path}': bookmarks['{stream}'] must be an object, "
                f"not a {_json_type(bookmark)}."
            )
            raise InputError(msg)
    return state


def read_catalog(path: str) -> Catalog:
    """A Singer catalog file (https://hub.meltano.com/singer/spec#catalog-files)."""
    data = read_json_object(path, "Catalog file")
    streams = data.get("streams")
    if not isinstance(streams, list):
        msg = f"Catalog file '{path}' must have a 'streams' list, as `--discover` writes."
        raise InputError(msg)
    for index, entry in enumerate(streams):
        where = f"Catalog file '{path}': streams[{index}]"
        if not isinstance(entry, dict):
            msg = f"{where} must be an object, not a {_json_type(entry)}."
            raise InputError(msg)
        if not isinstance(entry.get("tap_stream_id"), str):
            msg = f"{where} has no 'tap_stream_id' string."
            raise InputError(msg)
        if not isinstance(entry.get("schema", {}), dict):
            msg = f"{where}: 'schema' must be an object."
            raise InputError(msg)
        metadata = entry.get("metadata", [])
        if not isinstance(metadata, list) or not all(
            isinstance(m, dict)
            and isinstance(m.get("breadcrumb"), list)
            and isinstance(m.get("metadata"), dict)
            for m in metadata
        ):
            msg = f"{where}: 'metadata' must be a list of {{'breadcrumb': [...], 'metadata': {{...}}}}."
            raise InputError(msg)
    try:
        return Catalog.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        msg = f"Catalog file '{path}' is not a Singer catalog ({type(exc).__name__}: {exc})."
        raise InputError(msg) from None


def check_environment(config_jsonschema: dict, prefix: str) -> None:
    """Each ``<PREFIX><SETTING>`` variable parses as its setting's type (``--config ENV``).

    Mirrors ``singer_sdk.configuration._dict_config.parse_environment_config``: integers
    with ``int()``, objects and arrays as JSON; numbers as ``float()`` (which the SDK leaves
    as strings for the JSON schema to reject, naming the setting but not the variable).
    """
    for name, schema in config_jsonschema.get("properties", {}).items():
        variable = prefix + name.upper().replace("-", "_")
        value = os.environ.get(variable)
        if value is None or is_boolean_type(schema):
            continue
        expected = None
        if is_integer_type(schema):
            expected = "an integer" if not _parses(int, value) else None
        elif "number" in _types(schema):
            expected = "a number" if not _parses(float, value) else None
        elif is_object_type(schema) or (
            is_array_type(schema) and _types(schema.get("items", {})) != {"string"}
        ):
            expected = "JSON" if not _parses(json.loads, value) else None
        if expected:
            # The value is echoed only for non-secret settings.
            shown = "" if schema.get("secret") else f", got {value!r}"
            msg = f"Environment variable {variable} (setting '{name}') must be {expected}{shown}."
            raise InputError(msg)


def _latin1(value: str) -> bool:
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _parses(parse: t.Callable[[str], t.Any], value: str) -> bool:
    try:
        parse(value)
    except ValueError:
        return False
    return True


def _types(schema: dict) -> set[str]:
    declared = schema.get("type", [])
    types = {declared} if isinstance(declared, str) else set(declared)
    for option in schema.get("anyOf", []):
        types |= _types(option)
    return types - {"null"}


def _json_type(value: t.Any) -> str:
    names = {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")


def check_required(config: t.Mapping[str, t.Any], config_jsonschema: dict, tap_name: str) -> None:
    """Required settings that are unset or empty, named in one line with where to set them.

    Under Meltano, an inherited extractor (``inherit_from``) whose own credentials are unset
    would fall back to its parent's and sync the wrong account; ``meltano.yml`` pins each
    account's credentials to its own variables (``username: $TAP_CRM_ACME_USERNAME``), so an
    unset one arrives here as missing. Meltano names the extractor in ``MELTANO_EXTRACTOR_NAME``.
    """
    for name, spec in config_jsonschema.get("properties", {}).items():
        value = config.get(name)
        if spec.get("secret") and isinstance(value, str) and not _latin1(value):
            # HTTP basic auth sends latin-1 (requests encodes it so): a pasted placeholder
            # such as "…" would fail at the first request with a UnicodeEncodeError.
            msg = (
                f"Setting '{name}' holds characters HTTP basic auth cannot send (only "
                "latin-1); is it still a placeholder?"
            )
            raise InputError(msg)
    missing = [
        name
        for name in config_jsonschema.get("required", [])
        if config.get(name) is None or config.get(name) == ""
    ]
    if not missing:
        return
    names = " and ".join(f"'{name}'" for name in missing)
    plural = "s" if len(missing) > 1 else ""
    verb = "are" if len(missing) > 1 else "is"
    extractor = os.environ.get("MELTANO_EXTRACTOR_NAME")
    prefix = (extractor or tap_name).upper().replace("-", "_")
    variables = " and ".join(f"{prefix}_{name.upper()}" for name in missing)
    if extractor:
        where = f"extractor '{extractor}' needs its own: set {variables}"
    else:
        where = f"set it in the config file, or {variables} with --config ENV"
        if len(missing) > 1:
            where = where.replace("set it", "set them")
    msg = f"Setting{plural} {names} {verb} not set; {where}."
    raise InputError(msg)
