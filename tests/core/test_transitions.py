"""waco.transitions.transition_apply: a status and its history row change together, or neither does."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django_fsm import TransitionNotAllowed

from checkout.models import OrderStatus
from checkout.services import order_transition
from conversations import staff
from conversations.models import Thread, ThreadState, ThreadTransition, TransitionCause
from templates_lib.models import ChangeCause, Template, TemplateStatus, TemplateStatusChange
from tests.checkout.factories import OrderFactory
from tests.conversations.factories import ThreadFactory
from tests.templates_lib.factories import TemplateFactory
from waco.transitions import transition_apply

T = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def locked(thread: Thread) -> Thread:
    return Thread.objects.select_for_update().get(pk=thread.pk)


def stored_state(thread: Thread) -> str:
    return Thread.objects.get(pk=thread.pk).state


@pytest.fixture
def user():
    return get_user_model().objects.create_user("alice", is_staff=True)


@pytest.mark.django_db
def test_a_transition_saves_the_status_and_writes_one_row_with_from_to_cause_detail_actor_and_time(user):
    thread = ThreadFactory(state=ThreadState.BUILDING_CART)
    row = transition_apply(
        locked(thread),
        transition=Thread.request_payment,
        history="transitions",
        cause=TransitionCause.CUSTOMER,
        detail="wamid.1",
        actor=user,
        now=T,
    )
    assert stored_state(thread) == ThreadState.AWAITING_PAYMENT
    assert list(ThreadTransition.objects.filter(thread=thread)) == [row]
    row.refresh_from_db()
    assert (row.transition, row.from_state, row.to_state, row.cause, row.detail, row.actor, row.created_at) == (
        "request_payment",
        ThreadState.BUILDING_CART,
        ThreadState.AWAITING_PAYMENT,
        "customer",
        "wamid.1",
        user,
        T,
    )


@pytest.mark.django_db
def test_a_transition_named_by_string_gets_its_arguments_and_the_row_its_extra_columns():
    template = TemplateFactory(status=TemplateStatus.SUBMITTED)
    row = transition_apply(
        Template.objects.select_for_update().get(pk=template.pk),
        transition="reject",
        history="status_changes",
        cause=ChangeCause.WEBHOOK,
        detail="INVALID_FORMAT",
        now=T,
        reason="INVALID_FORMAT",
        record={"version_id": template.current_version_id},
    )
    template.refresh_from_db()
    assert (template.status, template.rejection_reason) == (TemplateStatus.REJECTED, "INVALID_FORMAT")
    assert list(TemplateStatusChange.objects.filter(template=template)) == [row]
    assert (row.transition, row.version_id, row.actor) == ("reject", template.current_version_id, None)


@pytest.mark.django_db
def test_a_refused_transition_raises_and_writes_nothing():
    thread = ThreadFactory(state=ThreadState.BROWSING)
    subject = locked(thread)
    with pytest.raises(TransitionNotAllowed, match="is browsing: request_payment is not allowed"):
        transition_apply(subject, transition="request_payment", history="transitions", cause=TransitionCause.CUSTOMER)
    assert subject.state == stored_state(thread) == ThreadState.BROWSING
    assert not ThreadTransition.objects.exists()


@pytest.mark.django_db
def test_a_cause_of_another_app_is_refused_before_anything_changes():
    thread = ThreadFactory(state=ThreadState.BUILDING_CART)
    with pytest.raises(ValueError, match="'webhook' is not a cause of ThreadTransition"):
        transition_apply(locked(thread), transition="empty_cart", history="transitions", cause=ChangeCause.WEBHOOK)
    assert stored_state(thread) == ThreadState.BUILDING_CART
    assert not ThreadTransition.objects.exists()


@pytest.mark.django_db
def test_a_failure_after_the_transition_rolls_back_the_status_and_its_row_together():
    thread = ThreadFactory(state=ThreadState.BUILDING_CART)
    with pytest.raises(RuntimeError), transaction.atomic():
        transition_apply(locked(thread), transition="empty_cart", history="transitions", cause=TransitionCause.CUSTOMER)
        assert ThreadTransition.objects.filter(thread=thread).count() == 1
        raise RuntimeError("the caller's next step failed")
    assert stored_state(thread) == ThreadState.BUILDING_CART
    assert not ThreadTransition.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_history_row_that_cannot_be_written_leaves_the_status_unsaved_even_without_a_callers_transaction():
    thread = ThreadFactory(state=ThreadState.BUILDING_CART)
    with pytest.raises(IntegrityError):  # detail is NOT NULL: the INSERT fails after the status's UPDATE
        transition_apply(
            thread, transition="empty_cart", history="transitions", cause=TransitionCause.CUSTOMER, detail=None
        )
    assert stored_state(thread) == ThreadState.BUILDING_CART
    assert not ThreadTransition.objects.exists()


@pytest.mark.django_db
def test_staff_taking_a_thread_is_recorded_with_them_as_actor(user):
    thread = staff.thread_take(thread=ThreadFactory(state=ThreadState.BROWSING), user=user)
    assert ThreadTransition.objects.get(thread=thread).actor == user


@pytest.mark.django_db
def test_an_order_change_records_the_staff_user_who_asked(user):
    order = order_transition(order=OrderFactory(status=OrderStatus.PAID), name="pack", cause="staff", actor=user)
    change = order.changes.get()
    assert (change.transition, change.from_state, change.to_state, change.actor) == ("pack", "paid", "packed", user)
