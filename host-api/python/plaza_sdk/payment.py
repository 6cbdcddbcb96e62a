"""Payments from the user's host wallet to the publisher
(`[capabilities.payment]`).

Amounts are in minor units (fen for CNY). The host asks the user to confirm
each payment; one order id pays at most once (paying it again returns the
first receipt), and refunds never exceed what was paid.

    outcome = payment.pay("tea-0001", "Longjing tea", [payment.line("Longjing tea, 100 g", 6800)])
    if isinstance(outcome, payment.Paid):
        receipt = outcome.value
"""

from __future__ import annotations

from typing import Optional, Sequence

try:
    from wit_world.imports import payment as _wit
except ImportError:
    raise ImportError(
        "plaza_sdk.payment needs [capabilities.payment] in plaza.toml: `plaza build` makes the world "
        "from the capabilities it declares, and only those"
    ) from None

from .errors import InvalidArgument, call

__all__ = [
    "line",
    "pay",
    "refund",
    "query",
    "history",
    "money",
    "Paid",
    "Declined",
    "TimedOut",
    "Cancelled",
    "InsufficientFunds",
    "Outcome",
    "LineItem",
    "Receipt",
    "PaymentRecord",
    "RefundReceipt",
    "HistoryPage",
]

LineItem = _wit.LineItem
Receipt = _wit.Receipt
PaymentRecord = _wit.PaymentRecord
RefundReceipt = _wit.RefundReceipt
HistoryPage = _wit.HistoryPage
#: The outcome's cases (a WIT variant: one dataclass per case).
Paid = _wit.PaymentOutcome_Paid
Declined = _wit.PaymentOutcome_Declined
TimedOut = _wit.PaymentOutcome_TimedOut
Cancelled = _wit.PaymentOutcome_Cancelled
InsufficientFunds = _wit.PaymentOutcome_InsufficientFunds
Outcome = _wit.PaymentOutcome


def line(name: str, unit_price: int, quantity: int = 1, insurance_eligible: bool = False) -> LineItem:
    """One line of an order: `quantity` × `unit_price` (minor units)."""
    return _wit.LineItem(name=name, quantity=quantity, unit_price=unit_price, insurance_eligible=insurance_eligible)


def pay(order_id: str, description: str, items: Sequence[LineItem], currency: str = "CNY") -> Outcome:
    """Asks the user to pay for `items` (the amount is their total) and
    answers the outcome: `Paid(receipt)`, `Declined()`, `TimedOut()`,
    `Cancelled()` or `InsufficientFunds(needed, available)`."""
    if not items:
        raise InvalidArgument("an order has at least one line item")
    amount = sum(i.unit_price * i.quantity for i in items)
    request = _wit.PaymentRequest(
        order_id=order_id, amount=amount, currency=currency, description=description, items=list(items)
    )
    return call(_wit.request, request)


def refund(order_id: str, amount: int, reason: str) -> RefundReceipt:
    """Refunds `amount` of the order to the user."""
    return call(_wit.refund, order_id, amount, reason)


def query(order_id: str) -> PaymentRecord:
    """The payment of an order and how much of it was refunded (`NotFound`: none)."""
    return call(_wit.query, order_id)


def history(cursor: Optional[str] = None, limit: int = 20) -> HistoryPage:
    """The user's payments to this mini-app, newest first."""
    return call(_wit.history, cursor, limit)


def money(minor: int, currency: str = "CNY") -> str:
    """`CNY 68.00` for 6800."""
    sign = "-" if minor < 0 else ""
    minor = abs(minor)
    return f"{currency} {sign}{minor // 100}.{minor % 100:02}"
