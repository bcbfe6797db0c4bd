"""What tap-crm and tap-calltracker share, in five layers; each imports only those below it.

    program   the tap around the streams: CLI, settings, operator checks, one-line errors
    stream    APIStream, the base of every stream: the SDK's page loop with our behaviours
    state     what a sync remembers and checks: bookmarks, overlap, paging, table versions
    http      the request path: pacing, rate control, fetch-ahead, responses, errors
    messages  a record into a Singer message: conform, values, timestamps, the writer

Nothing here imports the taps (tap_crm, tap_calltracker) or the orchestration;
tests/test_layers.py checks the direction of every import.
"""
