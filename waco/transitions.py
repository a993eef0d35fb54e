"""One way to change a status and record it, for every app (imports no app).

A status is a django-fsm field changed only by its model's `@transition`
methods. `transition_apply` runs one on a row the caller has locked, saves the
row and writes one history row, all in the caller's transaction. Each app's
history is a concrete `StateChange` with its own table, the FK to its subject
and its own cause TextChoices.
"""

from datetime import datetime

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django_fsm import TransitionNotAllowed, can_proceed


class StateChange(models.Model):
    """One status change of a subject: from, to, which transition, why, who asked, when."""

    transition = models.CharField(max_length=64, blank=True, help_text="The transition applied, by name.")
    from_state = models.CharField(max_length=32, blank=True, help_text="Blank when the subject was created.")
    to_state = models.CharField(max_length=32)
    cause = models.CharField(max_length=16)  # each concrete model gives it its app's TextChoices
    detail = models.TextField(blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The staff member who asked; blank when the system did.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.from_state or '-'} -> {self.to_state} ({self.transition}, {self.cause})"


def transition_apply(
    obj: models.Model,
    *,
    transition,
    history: str,
    cause: str,
    detail: str = "",
    actor=None,
    now: datetime | None = None,
    record: dict | None = None,
    **kwargs,
) -> StateChange:
    """Run `transition` (a django-fsm transition of obj's model, or its name) with `kwargs` on `obj`,
    whose row the caller has locked; save obj and write one row to its history (`history` is the
    related name of its StateChange model, `record` any extra columns of that row).

    Raises TransitionNotAllowed, having changed nothing, when the transition does not fit obj's status.
    """
    name = transition if isinstance(transition, str) else transition.__name__
    method = getattr(obj, name)
    field = method._django_fsm.field  # AttributeError for a method that is not a transition
    rows = getattr(obj, history)
    causes = rows.model._meta.get_field("cause").choices
    if causes and cause not in dict(causes):
        raise ValueError(f"{str(cause)!r} is not a cause of {rows.model.__name__}")
    from_state = field.get_state(obj)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            f"{obj._meta.verbose_name} {obj.pk} is {from_state}: {name} is not allowed", object=obj, method=method
        )
    with transaction.atomic(savepoint=False):
        method(**kwargs)
        obj.save()
        return rows.create(
            transition=name,
            from_state=from_state,
            to_state=field.get_state(obj),
            cause=cause,
            detail=detail,
            actor=actor,
            created_at=now or timezone.now(),
            **(record or {}),
        )
