"""The request path: pacing to the account's budget, the learned rate, requests sent ahead,
response bodies (decoded once, depth capped) and the errors a request can end in.

May import ``tap_common.messages`` (a wait between requests is where a signal is honoured).
"""
