// Payments from the user's host wallet to the publisher
// (`[capabilities.payment]`). Amounts are minor units (fen for CNY): BigInts
// in the contract; these helpers also take whole numbers. The host asks the
// user to confirm; what the user answered is the outcome, a WIT variant:
// `{ tag: 'paid', val: receipt }`, `{ tag: 'declined' }`, ...

import * as payment from 'plaza:host/payment@0.1.1';
import * as refunds from 'plaza:host/refunds@0.1.1';
import type {
  HistoryPage,
  PaymentOutcome,
  PaymentRecord,
  RefundReceipt,
} from 'plaza:host/payment@0.1.1';
import { hostCall } from './errors';

export type {
  HistoryPage,
  InsufficientFunds,
  LineItem,
  PaymentOutcome,
  PaymentRecord,
  Receipt,
  RefundReceipt,
} from 'plaza:host/payment@0.1.1';

/** One line of a bill. */
export interface Item {
  /** What is charged. */
  name: string;
  /** The price of one, in minor units. */
  unitPrice: bigint | number;
  /** How many (default 1). */
  quantity?: number;
  /** Whether to ask medical insurance to pay for it (default false; the host decides). */
  insuranceEligible?: boolean;
}

/** What to ask the user to pay; the amount is the sum of the items. */
export interface Order {
  /** The mini-app's own id of the order (1 to 64 characters); paying it again returns the first receipt. */
  orderId: string;
  /** What the payment is for, shown to the user. */
  description: string;
  /** The bill. */
  items: Item[];
  /** The ISO 4217 code (default `CNY`). */
  currency?: string;
}

/** Asks the user to pay for `order` and pays if the user confirms. */
export function pay(order: Order): PaymentOutcome {
  const items = order.items.map((i) => ({
    name: i.name,
    quantity: i.quantity ?? 1,
    unitPrice: BigInt(i.unitPrice),
    insuranceEligible: i.insuranceEligible ?? false,
  }));
  const amount = items.reduce((sum, i) => sum + i.unitPrice * BigInt(i.quantity), 0n);
  return hostCall(() =>
    payment.request({
      orderId: order.orderId,
      amount,
      currency: order.currency ?? 'CNY',
      description: order.description,
      items,
    }),
  );
}

/**
 * Refunds `amount` of the payment of `orderId`. With a `refundId` the refund
 * is idempotent: the same id again returns the first refund and moves nothing.
 */
export function refund(orderId: string, amount: bigint | number, reason: string, refundId?: string): RefundReceipt {
  const minor = BigInt(amount);
  return hostCall(() =>
    refundId === undefined
      ? payment.refund(orderId, minor, reason)
      : refunds.refund(orderId, refundId, minor, reason),
  );
}

/** The payment of `orderId` for the current user, with what was refunded (`NotFound` if none). */
export function query(orderId: string): PaymentRecord {
  return hostCall(() => payment.query(orderId));
}

/** The current user's payments to this mini-app, newest first, `limit` (at most 100) a page. */
export function history(cursor?: string, limit = 20): HistoryPage {
  return hostCall(() => payment.history(cursor, limit));
}
