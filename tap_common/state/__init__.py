"""What a sync keeps and checks: bookmarks and the end of a window, the overlap of the next
run, guarded paging, table versions, short reads, batches, and each stream's progress counts.

May import ``tap_common.messages`` and ``tap_common.http``.
"""
