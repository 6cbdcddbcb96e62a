// {{display_name}}: order, pay through the host's payment capability, see the
// receipt and the payment history, cancel for a refund.
//
// Amounts are in minor units (fen for CNY), u64 in WIT: BigInts here (`6800n`).
// The order id is the mini-app's own: paying the same order again returns the
// first receipt, so a retry never charges twice. A payment's outcome is a WIT
// variant, `{ tag: 'paid', val: receipt }`; a host error throws, with the WIT
// error in `e.payload`.

import * as payment from 'plaza:host/payment@0.1.0';
import * as storage from 'plaza:host/storage@0.1.0';
import { getProfile } from 'plaza:host/identity@0.1.0';
import { write } from 'plaza:host/log@0.1.0';

/** What the shop sells: id, name, price in fen. */
const MENU = [
  ['tea', 'Longjing tea, 100 g', 6800n],
  ['cup', 'Celadon tea cup', 2500n],
];

export const app = {
  handle(event) {
    const action = event.tag === 'tap' ? event.val : '';
    if (action.startsWith('buy:')) return buy(action.slice(4));
    if (action.startsWith('refund:')) return refund(action.slice(7));
    if (action === 'orders') return orders();
    return page('{{display_name}}', home());
  },
};

function home(...first) {
  const blocks = [...first];
  // The host asks the user's consent at the first call and remembers it.
  try {
    blocks.push({ tag: 'text', val: `Welcome, ${getProfile().nickname}.` });
  } catch {
    // No consent: no greeting.
  }
  for (const [id, name, price] of MENU) {
    blocks.push({ tag: 'item', val: { title: name, detail: money(price), action: `buy:${id}` } });
  }
  blocks.push(button('My orders', 'orders'));
  return blocks;
}

/** Asks the user to pay for one item and shows the receipt. */
function buy(item) {
  const entry = MENU.find(([id]) => id === item);
  if (!entry) return page('{{display_name}}', home(notice('error', `There is no item \`${item}\`.`)));
  const [id, name, price] = entry;
  // A new order id per order; kept so the order can be found again.
  const number = readNumber('next-order') + 1;
  const orderId = `${id}-${String(number).padStart(4, '0')}`;
  let outcome;
  try {
    outcome = payment.request({
      orderId,
      amount: price,
      currency: 'CNY',
      description: name,
      items: [{ name, quantity: 1, unitPrice: price, insuranceEligible: false }],
    });
  } catch (e) {
    // A denial is data: the host's policy, a malformed request.
    return page('{{display_name}}', home(notice('error', `The payment failed: ${errorText(e)}`)), 'replace');
  }
  switch (outcome.tag) {
    case 'paid': {
      storage.set('next-order', new TextEncoder().encode(String(number)));
      write('info', `order ${orderId} paid: ${outcome.val.transactionId}`);
      return receipt(outcome.val);
    }
    case 'timed-out':
      return page('{{display_name}}', home(notice('warning', 'The payment timed out. Nothing was charged; please try again.')), 'replace');
    case 'insufficient-funds':
      return page(
        '{{display_name}}',
        home(notice('error', `Your wallet does not hold the ${money(outcome.val.needed)} needed. Top up your wallet and try again.`)),
        'replace',
      );
    default: // declined, cancelled
      return page('{{display_name}}', home(notice('warning', 'You did not pay. Nothing was charged.')), 'replace');
  }
}

function receipt(r) {
  return page(
    'Receipt',
    [
      notice('success', 'Paid. Thank you!'),
      field('Order', r.orderId),
      field('Paid', money(r.amount)),
      field('Payee', r.payee),
      field('Transaction', r.transactionId),
      button('Cancel and refund', `refund:${r.orderId}`, 'danger'),
      button('My orders', 'orders'),
    ],
    'replace',
  );
}

/** The user's payments to this mini-app, newest first, from the host. */
function orders() {
  const blocks = [];
  try {
    const history = payment.history(undefined, 20);
    if (history.payments.length === 0) blocks.push({ tag: 'text', val: 'No orders yet.' });
    for (const p of history.payments) {
      const state = p.refunded === 0n ? 'paid' : `refunded ${money(p.refunded)}`;
      blocks.push({
        tag: 'item',
        val: { title: `${p.receipt.orderId} ${money(p.receipt.amount)}`, detail: state, action: undefined },
      });
    }
  } catch (e) {
    blocks.push(notice('error', `Your orders cannot be shown: ${errorText(e)}`));
  }
  blocks.push(button('Back to the shop', 'home'));
  return page('My orders', blocks);
}

/** Refunds the whole of an order (the host refuses more than was paid). */
function refund(orderId) {
  let paid;
  try {
    const record = payment.query(orderId);
    paid = record.receipt.amount - record.refunded;
  } catch (e) {
    return page('Refund', [notice('error', `No such order: ${errorText(e)}`)], 'replace');
  }
  try {
    const r = payment.refund(orderId, paid, 'cancelled by the customer');
    return page(
      'Refund',
      [notice('success', `${money(r.amount)} was refunded to your wallet.`), field('Order', orderId), button('My orders', 'orders')],
      'replace',
    );
  } catch (e) {
    return page('Refund', [notice('error', `The refund failed: ${errorText(e)}`)], 'replace');
  }
}

/** `CNY 68.00` for 6800 fen. */
function money(fen) {
  return `CNY ${fen / 100n}.${String(fen % 100n).padStart(2, '0')}`;
}

/** A number kept in storage as text; 0 when absent. */
function readNumber(key) {
  try {
    const value = storage.get(key);
    return value ? Number.parseInt(new TextDecoder().decode(value), 10) || 0 : 0;
  } catch {
    return 0;
  }
}

function page(title, blocks, navigation = 'push') {
  return { title, blocks, navigation };
}

function field(label, value) {
  return { tag: 'field', val: { label, value } };
}

function button(label, action, style = 'secondary') {
  return { tag: 'button', val: { label, action, style } };
}

function notice(level, text) {
  return { tag: 'notice', val: { level, text } };
}

/** The message of a host error (`e.payload.val`), or of anything else thrown. */
function errorText(e) {
  return e?.payload?.val ?? String(e);
}
