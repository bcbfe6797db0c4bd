"""A record into a Singer message: conformance to the schema, value converters, timestamps,
the odd-value report, the message writer, and the signal handling that keeps every message
whole (SIGTERM and SIGINT are held until a line is written).

The lowest layer: imports nothing of ``tap_common`` outside this package.
"""
