import pytest

from catalog.money import amount_format, amount_parse


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1250, "AED", "12.50 AED"),
        (5, "SAR", "0.05 SAR"),
        (1500, "JPY", "1500 JPY"),
        (12345, "KWD", "12.345 KWD"),
        (99900, "INR", "999.00 INR"),
    ],
)
def test_amount_format_uses_the_currency_exponent(minor, currency, text):
    assert amount_format(minor, currency) == text


def test_amount_parse_is_exact_without_floats():
    assert amount_parse("0.29", "AED") == 29
    assert amount_parse("12.5", "AED") == 1250
    assert amount_parse("1.234", "BHD") == 1234
    assert amount_parse("700", "JPY") == 700


@pytest.mark.parametrize("text", ["12.505", "-1", "1e3", "12,50", ""])
def test_amount_parse_rejects_anything_but_a_plain_amount(text):
    with pytest.raises(ValueError):
        amount_parse(text, "AED")
