"""Money at the Stripe boundary: Decimal in the shop, integer minor units at Stripe (R8).

This is the one converter. Stripe counts most currencies in hundredths, some in
whole units ("zero-decimal": JPY, KRW, ...) and a few in thousandths, of which
it only accepts multiples of ten (BHD, JOD, KWD, OMR, TND).
See https://docs.stripe.com/currencies#zero-decimal.
"""

from decimal import ROUND_HALF_UP, Decimal

from oscar.templatetags.currency_filters import currency as currency_filter

ZERO_DECIMAL = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
THREE_DECIMAL = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])


class AmountError(ValueError):
    """An amount that cannot be expressed exactly in the currency's minor units."""


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point in Stripe's minor unit for `currency`."""
    code = currency.upper()
    if code in ZERO_DECIMAL:
        return 0
    if code in THREE_DECIMAL:
        return 3
    return 2


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` in `currency` as Stripe's integer minor units, exactly.

    An amount with more precision than the currency has (12.345 EUR, 100.5 JPY) is an
    error rather than silently rounded: a payment must be for exactly the order total.
    """
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise AmountError(f"Amount must be a finite Decimal, not {amount!r}.")
    exponent = minor_exponent(currency)
    minor = amount.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise AmountError(f"{amount} {currency.upper()} has more decimals than the currency.")
    value = int(minor)
    if exponent == 3 and value % 10:
        raise AmountError(f"Stripe charges {currency.upper()} in multiples of 0.010.")
    return value


def from_minor(value: int, currency: str) -> Decimal:
    """Stripe's integer minor units as a Decimal with the currency's decimals."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise AmountError(f"Minor units must be an int, not {value!r}.")
    exponent = minor_exponent(currency)
    return Decimal(value).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def quantize(amount: Decimal, currency: str) -> Decimal:
    """`amount` shown with the currency's decimals (12.5 EUR -> 12.50, 1000.000 JPY -> 1000)."""
    return amount.quantize(Decimal(1).scaleb(-minor_exponent(currency)))


def round_to_currency(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half-up to what the currency can be charged in."""
    exponent = minor_exponent(currency)
    step = Decimal(10 if exponent == 3 else 1).scaleb(-exponent)
    return (amount / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def money_display(amount: Decimal, currency: str) -> str:
    """`amount` as people read it in the active language: "€12.90" in English, "12,90 €" in
    French (Oscar's currency filter, as the templates show prices), never "12.90 EUR"."""
    return currency_filter(amount, currency)
