"""Money is integer minor units plus an ISO 4217 code; never floats."""

# Minor-unit exponents that are not 2 (ISO 4217). Everything else we sell in uses 2.
EXPONENTS = {
    "JPY": 0,
    "KRW": 0,
    "VND": 0,
    "CLP": 0,
    "ISK": 0,
    "UGX": 0,
    "XAF": 0,
    "XOF": 0,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "TND": 3,
    "LYD": 3,
    "IQD": 3,
}
# Codes we accept; a typo in a feed must fail loudly rather than price in a ghost currency.
KNOWN_CURRENCIES = frozenset(
    {
        "AED",
        "SAR",
        "QAR",
        "EGP",
        "INR",
        "KES",
        "NGN",
        "ZAR",
        "USD",
        "EUR",
        "GBP",
        "BRL",
        "MXN",
        "IDR",
        "PKR",
        "TRY",
        "MAD",
        "GHS",
        "TZS",
        "SGD",
        "MYR",
        "PHP",
        "THB",
        "CAD",
        "AUD",
        "CHF",
        *EXPONENTS,
    }
)


def currency_exponent(currency: str) -> int:
    return EXPONENTS.get(currency.upper(), 2)


def currency_is_valid(currency: str) -> bool:
    return currency.upper() in KNOWN_CURRENCIES


def amount_format(amount_minor: int, currency: str) -> str:
    """'12.50 AED' (the form Meta's catalog wants too), from integer minor units."""
    exponent = currency_exponent(currency)
    sign = "-" if amount_minor < 0 else ""
    whole, fraction = divmod(abs(int(amount_minor)), 10**exponent)
    text = f"{whole}.{fraction:0{exponent}d}" if exponent else str(whole)
    return f"{sign}{text} {currency.upper()}"


def amount_parse(text: str, currency: str) -> int:
    """'12.5' -> 1250 for AED, exactly (string arithmetic, no floats). Raises ValueError."""
    exponent = currency_exponent(currency)
    text = str(text).strip()
    whole, _, fraction = text.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()) or len(fraction) > exponent:
        raise ValueError(f"price {text!r} is not a plain amount with at most {exponent} decimals")
    return int(whole) * 10**exponent + int((fraction or "0").ljust(exponent, "0") or 0)
