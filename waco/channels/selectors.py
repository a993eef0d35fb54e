from waco.channels.models import PhoneNumber


def phone_number_by_graph_id(graph_id: str) -> PhoneNumber | None:
    """The number Meta calls `graph_id`, or None when Waco does not know it."""
    return PhoneNumber.objects.select_related("business_account").filter(graph_id=graph_id).first()


def known_phone_number_ids() -> set[str]:
    return set(PhoneNumber.objects.values_list("graph_id", flat=True))
