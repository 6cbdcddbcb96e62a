from plaza_sdk import log, payment


def deposit() -> None:
    outcome = payment.pay(
        # The mini-app's own order id: paying it again returns the first receipt.
        "B0001-deposit",
        "Booking deposit",
        # The amount is the items' total: CNY 50.00, in fen.
        [payment.line("Deposit, obstetrics", 5000)],
    )
    if isinstance(outcome, payment.Paid):
        # `payee` is the publisher's verified name, from the host.
        log.info(f"paid {payment.money(outcome.value.amount)} to {outcome.value.payee}")
    elif isinstance(outcome, payment.InsufficientFunds):
        # What the wallet had to pay; the host never tells the balance.
        log.info(f"{payment.money(outcome.value.needed)} needed from the wallet")
    else:  # Declined, Cancelled, TimedOut
        return
    # Later: give part of it back (never more than was paid).
    payment.refund("B0001-deposit", 2000, "cancelled a day ahead")
