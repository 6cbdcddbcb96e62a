"""{{display_name}}: order, pay through the host's payment capability, see the
receipt and the payment history, cancel for a refund. Written with the Plaza
SDK for Python.

Amounts are in minor units (fen for CNY): `int` here. The order id is the
mini-app's own: paying the same order again returns the first receipt, so a
retry never charges twice. A payment's outcome is a WIT variant, one
dataclass per case (`payment.Paid`, `payment.InsufficientFunds`, ...); a
host call that fails raises a `HostError` subclass (`Denied`, `NotFound`,
...), with the host's message as `str(e)`.
"""

from plaza_sdk import HostError, Level, MiniApp, Page
from plaza_sdk import identity, log, payment, storage
from plaza_sdk.payment import money

# What the shop sells: id, name, price in fen.
MENU = [
    ("tea", "Longjing tea, 100 g", 6800),
    ("cup", "Celadon tea cup", 2500),
]


class Pages(MiniApp):
    title = "{{display_name}}"

    def home(self) -> Page:
        return shop()

    def on_tap(self, action: str) -> Page:
        if action.startswith("buy:"):
            return buy(action.removeprefix("buy:"))
        if action.startswith("refund:"):
            return refund(action.removeprefix("refund:"))
        if action == "orders":
            return orders()
        return shop()


def shop(notice: str = "", level: Level = "info") -> Page:
    """The shop's home page, with a notice on top if any."""
    page = Page("{{display_name}}")
    if notice:
        page.notice(notice, level).replace()
    # The host asks the user's consent at the first call and remembers it.
    try:
        page.text(f"Welcome, {identity.profile().nickname}.")
    except HostError:
        pass  # No consent: no greeting.
    for item_id, name, price in MENU:
        page.item(name, money(price), f"buy:{item_id}")
    return page.button("My orders", "orders")


def buy(item: str) -> Page:
    """Asks the user to pay for one item and shows the receipt."""
    entry = next((m for m in MENU if m[0] == item), None)
    if entry is None:
        return shop(f"There is no item `{item}`.", "error")
    item_id, name, price = entry
    # A new order id per order; kept so the order can be found again.
    number = storage.get_json("next-order", 0) + 1
    order_id = f"{item_id}-{number:04}"
    try:
        outcome = payment.pay(order_id, name, [payment.line(name, price)])
    except HostError as e:
        # A denial is data: the host's policy, a malformed request.
        return shop(f"The payment failed: {e}", "error")
    if isinstance(outcome, payment.Paid):
        storage.set_json("next-order", number)
        log.info(f"order {order_id} paid: {outcome.value.transaction_id}")
        return receipt(outcome.value)
    if isinstance(outcome, payment.TimedOut):
        return shop("The payment timed out. Nothing was charged; please try again.", "warning")
    if isinstance(outcome, payment.InsufficientFunds):
        needed = money(outcome.value.needed)
        return shop(f"Your wallet does not hold the {needed} needed. Top up your wallet and try again.", "error")
    # Declined or cancelled.
    return shop("You did not pay. Nothing was charged.", "warning")


def receipt(r: payment.Receipt) -> Page:
    return (
        Page("Receipt", "replace")
        .notice("Paid. Thank you!", "success")
        .field("Order", r.order_id)
        .field("Paid", money(r.amount))
        .field("Payee", r.payee)
        .field("Transaction", r.transaction_id)
        .button("Cancel and refund", f"refund:{r.order_id}", "danger")
        .button("My orders", "orders")
    )


def orders() -> Page:
    """The user's payments to this mini-app, newest first, from the host."""
    page = Page("My orders")
    try:
        history = payment.history(limit=20)
        if not history.payments:
            page.text("No orders yet.")
        for p in history.payments:
            state = "paid" if p.refunded == 0 else f"refunded {money(p.refunded)}"
            page.item(f"{p.receipt.order_id} {money(p.receipt.amount)}", state)
    except HostError as e:
        page.notice(f"Your orders cannot be shown: {e}", "error")
    return page.button("Back to the shop", "home")


def refund(order_id: str) -> Page:
    """Refunds the whole of an order (the host refuses more than was paid)."""
    page = Page("Refund", "replace")
    try:
        record = payment.query(order_id)
    except HostError as e:
        return page.notice(f"No such order: {e}", "error")
    try:
        r = payment.refund(order_id, record.receipt.amount - record.refunded, "cancelled by the customer")
    except HostError as e:
        return page.notice(f"The refund failed: {e}", "error")
    return (
        page.notice(f"{money(r.amount)} was refunded to your wallet.", "success")
        .field("Order", order_id)
        .button("My orders", "orders")
    )
