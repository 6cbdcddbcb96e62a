import { money } from '@plaza/sdk';
import * as log from '@plaza/sdk/log';
import * as payment from '@plaza/sdk/payment';

export function deposit(): void {
  const outcome = payment.pay({
    // The mini-app's own order id: paying it again returns the first receipt.
    orderId: 'B0001-deposit',
    description: 'Booking deposit',
    // The amount is the items' total: CNY 50.00, in fen.
    items: [{ name: 'Deposit, obstetrics', quantity: 1, unitPrice: 5000 }],
  });
  switch (outcome.tag) {
    case 'paid':
      // `payee` is the publisher's verified name, from the host.
      log.info(`paid ${money(outcome.val.amount)} to ${outcome.val.payee}`);
      break;
    case 'insufficient-funds':
      // What the wallet had to pay; the host never tells the balance.
      log.info(`${money(outcome.val.needed)} needed from the wallet`);
      break;
    default: // 'declined', 'cancelled', 'timed-out'
      return;
  }
  // Later: give part of it back (never more than was paid).
  payment.refund('B0001-deposit', 2000, 'cancelled a day ahead');
}
