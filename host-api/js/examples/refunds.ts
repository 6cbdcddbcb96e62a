import { money } from '@plaza/sdk';
import * as payment from '@plaza/sdk/payment';

export function cancel(orderId: string): string {
  const record = payment.query(orderId);
  const left = record.receipt.amount - record.refunded;
  // The refund id makes a retried cancellation refund once.
  const r = payment.refund(orderId, left, 'booking cancelled by the guest', `cancel-${orderId}`);
  return `${money(r.amount)} refunded`;
}
