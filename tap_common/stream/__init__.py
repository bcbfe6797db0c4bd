"""``APIStream``, the base of every stream of both taps: the SDK's ``RESTStream`` with the
behaviours of the layers below, the SDK private methods it must override, and ``declare``
(a stream that differs from its base only in data).

May import ``tap_common.messages``, ``tap_common.http`` and ``tap_common.state``.
"""
