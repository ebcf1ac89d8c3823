"""Signals other apps listen to, so that `matchmaking` never imports them.

`organizations_changed` is sent by matchmaking services *inside* the
transaction that changed the data (profile, offer/need, membership,
visibility, agreement, deletion), with `organization_ids`. Receivers that
must not lose the change (the search index) record it durably in the same
transaction and act on it after commit: the transactional-outbox pattern.
Receivers must not do network I/O synchronously here.

`calls_changed` is the same contract for calls, with `call_ids`.
"""

from django.dispatch import Signal

organizations_changed = Signal()
calls_changed = Signal()
