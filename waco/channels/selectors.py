from waco.channels.models import PhoneNumber


def phone_number_by_display(*, waba_id: str | None, display_phone_number: str | None) -> PhoneNumber | None:
    """Meta names a number by its display form in quality webhooks; compare digits only."""
    digits = "".join(ch for ch in display_phone_number or "" if ch.isdigit())
    if not digits:
        return None
    numbers = PhoneNumber.objects.select_related("business_account")
    if waba_id:
        numbers = numbers.filter(business_account__waba_id=waba_id)
    return next((n for n in numbers if "".join(ch for ch in n.display_phone_number if ch.isdigit()) == digits), None)
