// {{display_name}}: order, pay through the host's payment capability, see the
// receipt and the payment history, cancel for a refund.
//
// Amounts are in minor units (fen for CNY), u64 in WIT: BigInts here (`6800n`).
// The order id is the mini-app's own: paying the same order again returns the
// first receipt, so a retry never charges twice. A payment's outcome is a WIT
// variant, `{ tag: 'paid', val: receipt }`; a host error throws one of the
// SDK's typed exceptions (`Denied`, `NotFound`, ...).

import { defineApp, errorMessage, money, page } from '@plaza/sdk';
import * as payment from '@plaza/sdk/payment';
import * as storage from '@plaza/sdk/storage';
import * as identity from '@plaza/sdk/identity';
import * as log from '@plaza/sdk/log';

/** What the shop sells: id, name, price in fen. */
const MENU = [
  ['tea', 'Longjing tea, 100 g', 6800n],
  ['cup', 'Celadon tea cup', 2500n],
];

export const pages = defineApp((event) => {
  const action = event.tag === 'tap' ? event.val : '';
  if (action.startsWith('buy:')) return buy(action.slice(4));
  if (action.startsWith('refund:')) return refund(action.slice(7));
  if (action === 'orders') return orders();
  return home(page('{{display_name}}'));
});

function home(p) {
  // The host asks the user's consent at the first call and remembers it.
  try {
    p.text(`Welcome, ${identity.profile().nickname}.`);
  } catch {
    // No consent: no greeting.
  }
  for (const [id, name, price] of MENU) p.item(name, money(price), `buy:${id}`);
  return p.button('My orders', 'orders');
}

/** Asks the user to pay for one item and shows the receipt. */
function buy(item) {
  const shop = page('{{display_name}}').replace();
  const entry = MENU.find(([id]) => id === item);
  if (!entry) return home(shop.notice('error', `There is no item \`${item}\`.`));
  const [id, name, price] = entry;
  // A new order id per order; kept so the order can be found again.
  const number = (storage.getJson('next-order') ?? 0) + 1;
  const orderId = `${id}-${String(number).padStart(4, '0')}`;
  let outcome;
  try {
    outcome = payment.pay({ orderId, description: name, items: [{ name, unitPrice: price }] });
  } catch (e) {
    // A denial is data: the host's policy, a malformed request.
    return home(shop.notice('error', `The payment failed: ${errorMessage(e)}`));
  }
  switch (outcome.tag) {
    case 'paid':
      storage.setJson('next-order', number);
      log.info(`order ${orderId} paid: ${outcome.val.transactionId}`);
      return receipt(outcome.val);
    case 'timed-out':
      return home(shop.notice('warning', 'The payment timed out. Nothing was charged; please try again.'));
    case 'insufficient-funds':
      return home(
        shop.notice('error', `Your wallet does not hold the ${money(outcome.val.needed)} needed. Top up your wallet and try again.`),
      );
    default: // declined, cancelled
      return home(shop.notice('warning', 'You did not pay. Nothing was charged.'));
  }
}

function receipt(r) {
  return page('Receipt')
    .replace()
    .notice('success', 'Paid. Thank you!')
    .field('Order', r.orderId)
    .field('Paid', money(r.amount))
    .field('Payee', r.payee)
    .field('Transaction', r.transactionId)
    .button('Cancel and refund', `refund:${r.orderId}`, 'danger')
    .button('My orders', 'orders');
}

/** The user's payments to this mini-app, newest first, from the host. */
function orders() {
  const p = page('My orders');
  try {
    const history = payment.history(undefined, 20);
    if (history.payments.length === 0) p.text('No orders yet.');
    for (const { receipt, refunded } of history.payments) {
      const state = refunded === 0n ? 'paid' : `refunded ${money(refunded)}`;
      p.item(`${receipt.orderId} ${money(receipt.amount)}`, state);
    }
  } catch (e) {
    p.notice('error', `Your orders cannot be shown: ${errorMessage(e)}`);
  }
  return p.button('Back to the shop', 'home');
}

/** Refunds the whole of an order (the host refuses more than was paid). */
function refund(orderId) {
  const p = page('Refund').replace();
  let left;
  try {
    const record = payment.query(orderId);
    left = record.receipt.amount - record.refunded;
  } catch (e) {
    return p.notice('error', `No such order: ${errorMessage(e)}`);
  }
  try {
    const r = payment.refund(orderId, left, 'cancelled by the customer');
    return p
      .notice('success', `${money(r.amount)} was refunded to your wallet.`)
      .field('Order', orderId)
      .button('My orders', 'orders');
  } catch (e) {
    return p.notice('error', `The refund failed: ${errorMessage(e)}`);
  }
}
