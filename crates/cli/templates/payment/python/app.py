"""{{display_name}}: order, pay through the host's payment capability, see the
receipt and the payment history, cancel for a refund.

Amounts are in minor units (fen for CNY), u64 in WIT: `int` here. The order
id is the mini-app's own: paying the same order again returns the first
receipt, so a retry never charges twice. A payment's outcome is a WIT variant:
one dataclass per case (`payment.PaymentOutcome_Paid(value=receipt)`); a host
error raises `Err`, with the WIT error in `e.value`.
"""

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports import app
from wit_world.imports import identity, log, payment, storage

# What the shop sells: id, name, price in fen.
MENU = [
    ("tea", "Longjing tea, 100 g", 6800),
    ("cup", "Celadon tea cup", 2500),
]


class App(exports.App):
    def handle(self, event: app.Event) -> app.Page:
        action = event.value if isinstance(event, app.Event_Tap) else ""
        if action.startswith("buy:"):
            return buy(action.removeprefix("buy:"))
        if action.startswith("refund:"):
            return refund(action.removeprefix("refund:"))
        if action == "orders":
            return orders()
        return page("{{display_name}}", home())


def home(*first: app.Block) -> list[app.Block]:
    blocks = list(first)
    # The host asks the user's consent at the first call and remembers it.
    try:
        blocks.append(app.Block_Text(f"Welcome, {identity.get_profile().nickname}."))
    except Err:
        pass  # No consent: no greeting.
    for item_id, name, price in MENU:
        blocks.append(app.Block_Item(app.ListItem(name, money(price), f"buy:{item_id}")))
    blocks.append(button("My orders", "orders"))
    return blocks


def shop(level: app.NoticeLevel, text: str) -> app.Page:
    """The shop's home page with a notice on top, replacing the current page."""
    return page("{{display_name}}", home(notice(level, text)), app.Navigation.REPLACE)


def buy(item: str) -> app.Page:
    """Asks the user to pay for one item and shows the receipt."""
    entry = next((m for m in MENU if m[0] == item), None)
    if entry is None:
        return page("{{display_name}}", home(notice(app.NoticeLevel.ERROR, f"There is no item `{item}`.")))
    item_id, name, price = entry
    # A new order id per order; kept so the order can be found again.
    number = read_number("next-order") + 1
    order_id = f"{item_id}-{number:04}"
    request = payment.PaymentRequest(
        order_id=order_id,
        amount=price,
        currency="CNY",
        description=name,
        items=[payment.LineItem(name=name, quantity=1, unit_price=price, insurance_eligible=False)],
    )
    try:
        outcome = payment.request(request)
    except Err as e:
        # A denial is data: the host's policy, a malformed request.
        return shop(app.NoticeLevel.ERROR, f"The payment failed: {error_text(e)}")
    if isinstance(outcome, payment.PaymentOutcome_Paid):
        storage.set("next-order", str(number).encode())
        log.write(log.Level.INFO, f"order {order_id} paid: {outcome.value.transaction_id}")
        return receipt(outcome.value)
    if isinstance(outcome, payment.PaymentOutcome_TimedOut):
        return shop(app.NoticeLevel.WARNING, "The payment timed out. Nothing was charged; please try again.")
    if isinstance(outcome, payment.PaymentOutcome_InsufficientFunds):
        return shop(
            app.NoticeLevel.ERROR,
            f"Your wallet does not hold the {money(outcome.value.needed)} needed. Top up your wallet and try again.",
        )
    # Declined or cancelled.
    return shop(app.NoticeLevel.WARNING, "You did not pay. Nothing was charged.")


def receipt(r: payment.Receipt) -> app.Page:
    return page(
        "Receipt",
        [
            notice(app.NoticeLevel.SUCCESS, "Paid. Thank you!"),
            field("Order", r.order_id),
            field("Paid", money(r.amount)),
            field("Payee", r.payee),
            field("Transaction", r.transaction_id),
            button("Cancel and refund", f"refund:{r.order_id}", app.ButtonStyle.DANGER),
            button("My orders", "orders"),
        ],
        app.Navigation.REPLACE,
    )


def orders() -> app.Page:
    """The user's payments to this mini-app, newest first, from the host."""
    blocks: list[app.Block] = []
    try:
        history = payment.history(None, 20)
        if not history.payments:
            blocks.append(app.Block_Text("No orders yet."))
        for p in history.payments:
            state = "paid" if p.refunded == 0 else f"refunded {money(p.refunded)}"
            blocks.append(
                app.Block_Item(app.ListItem(f"{p.receipt.order_id} {money(p.receipt.amount)}", state, None))
            )
    except Err as e:
        blocks.append(notice(app.NoticeLevel.ERROR, f"Your orders cannot be shown: {error_text(e)}"))
    blocks.append(button("Back to the shop", "home"))
    return page("My orders", blocks)


def refund(order_id: str) -> app.Page:
    """Refunds the whole of an order (the host refuses more than was paid)."""
    try:
        record = payment.query(order_id)
    except Err as e:
        return page("Refund", [notice(app.NoticeLevel.ERROR, f"No such order: {error_text(e)}")], app.Navigation.REPLACE)
    try:
        r = payment.refund(order_id, record.receipt.amount - record.refunded, "cancelled by the customer")
    except Err as e:
        return page("Refund", [notice(app.NoticeLevel.ERROR, f"The refund failed: {error_text(e)}")], app.Navigation.REPLACE)
    return page(
        "Refund",
        [
            notice(app.NoticeLevel.SUCCESS, f"{money(r.amount)} was refunded to your wallet."),
            field("Order", order_id),
            button("My orders", "orders"),
        ],
        app.Navigation.REPLACE,
    )


def money(fen: int) -> str:
    """`CNY 68.00` for 6800 fen."""
    return f"CNY {fen // 100}.{fen % 100:02}"


def read_number(key: str) -> int:
    """A number kept in storage as text; 0 when absent."""
    try:
        value = storage.get(key)
        return int(value.decode()) if value is not None else 0
    except (Err, ValueError):
        return 0


def page(title: str, blocks: list[app.Block], navigation: app.Navigation = app.Navigation.PUSH) -> app.Page:
    return app.Page(title, blocks, navigation)


def field(label: str, value: str) -> app.Block:
    return app.Block_Field(app.KeyValue(label, value))


def button(label: str, action: str, style: app.ButtonStyle = app.ButtonStyle.SECONDARY) -> app.Block:
    return app.Block_Button(app.Button(label, action, style))


def notice(level: app.NoticeLevel, text: str) -> app.Block:
    return app.Block_Notice(app.Notice(level, text))


def error_text(e: Err) -> str:
    """The message of a host error (`e.value.value`)."""
    return str(getattr(e.value, "value", e.value))
