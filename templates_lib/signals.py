"""Signals other apps listen to (outbound raises alerts from them); this app imports none of them.

All are sent inside the transaction that made the change, after the row is
saved: a receiver's writes commit or roll back with it, so it must do no slow
work there (enqueue a task with transaction.on_commit instead).
"""

from django.dispatch import Signal

# kwargs: template, old, new, reason, cause, at, and unserved_purposes: the keys of
# purposes of this template's account left with no usable template after the change.
template_status_changed = Signal()

# kwargs: template, old, new (TemplateQuality values), at.
template_quality_changed = Signal()

# kwargs: template, old, new (TemplateCategory values), impending (True for Meta's
# notice before the change, when `new` is the category it will take), at.
template_category_changed = Signal()
