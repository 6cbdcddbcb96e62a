from plaza_sdk import errors, payment
from wit_world.imports import refunds


def cancel(order_id: str) -> str:
    record = payment.query(order_id)
    left = record.receipt.amount - record.refunded
    # The refund id makes a retried cancellation refund once; `errors.call`
    # raises the host's error as its `HostError` class.
    r = errors.call(refunds.refund, order_id, f"cancel-{order_id}", left, "booking cancelled by the guest")
    return f"{payment.money(r.amount)} refunded"
