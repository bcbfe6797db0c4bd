"""The tap around the streams: ``APITap`` (shared session and pacer, one-line errors, exit
codes), the settings both taps share, and the checks of what an operator passes in (config,
catalog, state).

May import every layer below; nothing in ``tap_common`` imports it.
"""
