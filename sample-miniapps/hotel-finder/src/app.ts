// Hotel Finder: the hotels near the user, from West Lake Travel's back-end;
// a booking paid from the user's wallet through the host's ledger; a
// cancellation refunded.
//
// - Where the user is comes from the identity capability's `location`
//   scope: the host asks the user once and remembers the answer. Refused,
//   the user picks an area instead.
// - The hotels come over the network capability (`fetch`; src/hotels.ts).
// - A booking is a payment request: the host shows the amount and the
//   agency's verified name, and the user confirms. The order id is the
//   booking's, so a retried payment never charges twice.

import { defineApp, Denied, errorMessage, fields, money, page } from '@plaza/sdk';
import type { Event, PageBuilder } from '@plaza/sdk';
import * as identity from '@plaza/sdk/identity';
import * as payment from '@plaza/sdk/payment';
import * as storage from '@plaza/sdk/storage';
import * as clock from '@plaza/sdk/clock';
import * as log from '@plaza/sdk/log';
import { distance, near, SearchFailed } from './hotels';
import type { Hotel, Point } from './hotels';

const TITLE = 'Hotel Finder';

/** Areas to search from when the user keeps their location to themselves. */
const AREAS: Record<string, [string, Point]> = {
  'west-lake': ['West Lake', { latitude: 30.2466, longitude: 120.1485 }],
  wulin: ['Wulin Square', { latitude: 30.2741, longitude: 120.1551 }],
  binjiang: ['Binjiang', { latitude: 30.2084, longitude: 120.2119 }],
};

/** A booking, kept in storage under `booking:<order id>`. */
interface Booking {
  orderId: string;
  hotel: string;
  checkIn: string;
  nights: number;
  /** Fen, as decimal text (JSON has no BigInt). */
  paid: string;
}

/** The last search's hotels (memory of the session). */
let results: Hotel[] = [];
/** The hotel whose page was shown last: the one the booking form books. */
let chosen: Hotel | undefined;

export const pages = defineApp(async (event: Event) => {
  switch (event.tag) {
    case 'launch':
      return nearMe();
    case 'tap': {
      const [what, arg = ''] = splitAction(event.val);
      if (what === 'near-me') return nearMe();
      if (what === 'area') return inArea(arg);
      if (what === 'hotel') return hotelPage(arg);
      if (what === 'bookings') return bookings();
      if (what === 'booking') return bookingPage(arg);
      if (what === 'cancel') return cancel(arg);
      break;
    }
    case 'submit':
      if (event.val.form === 'book') return book(fields(event.val.fields));
      break;
  }
  return nearMe();
});

function splitAction(action: string): [string, string?] {
  const at = action.indexOf(':');
  return at < 0 ? [action] : [action.slice(0, at), action.slice(at + 1)];
}

/** The hotels near where the user is, with their consent. */
async function nearMe(): Promise<PageBuilder> {
  let here: Point;
  try {
    here = identity.location('coarse');
  } catch (e) {
    const p = page(TITLE);
    if (e instanceof Denied) {
      p.notice('info', 'Without your location, pick an area to search.');
    } else {
      p.notice('warning', `Your location is not available: ${errorMessage(e)}`);
    }
    for (const [id, [name]] of Object.entries(AREAS)) p.item(name, '', `area:${id}`);
    return p.button('My bookings', 'bookings');
  }
  return search(page(TITLE), here, 'Hotels near you');
}

async function inArea(id: string): Promise<PageBuilder> {
  const area = AREAS[id];
  if (!area) return page(TITLE).notice('error', `There is no area \`${id}\`.`).button('Hotels near me', 'near-me');
  return search(page(TITLE), area[1], `Hotels near ${area[0]}`);
}

/** Lists the hotels near `at` under `heading`. */
async function search(p: PageBuilder, at: Point, heading: string): Promise<PageBuilder> {
  p.heading(heading);
  try {
    results = await near(at);
  } catch (e) {
    log.warn(`hotel search: ${errorMessage(e)}`);
    const why = e instanceof SearchFailed ? e.message : errorMessage(e);
    return p.notice('error', `Hotels cannot be listed now: ${why}. Try again later.`).button('My bookings', 'bookings');
  }
  if (results.length === 0) p.text('No hotel of ours is within 5 km.');
  for (const h of results) {
    p.item(h.name, `${distance(h.distanceM)} · ${money(h.priceFen)} a night · ${rooms(h.rooms)}`, `hotel:${h.id}`);
  }
  return p.button('My bookings', 'bookings');
}

function rooms(n: number): string {
  return n === 1 ? '1 room left' : `${n} rooms left`;
}

/** A hotel of the last search, with the booking form. */
function hotelPage(id: string): PageBuilder {
  const h = results.find((r) => r.id === id);
  if (!h) return page(TITLE).replace().notice('warning', 'Search again: that list is out of date.').button('Hotels near me', 'near-me');
  chosen = h;
  return page(h.name)
    .field('Address', h.address)
    .field('Distance', distance(h.distanceM))
    .field('Price a night', money(h.priceFen))
    .field('Rooms left', String(h.rooms))
    // The host refuses a date before today and more than 14 nights, with
    // the reason shown to the user, before the submission reaches `book`.
    .input('book', 'check-in', 'Check-in', { kind: 'date', value: clock.localDate(), required: true, min: clock.localDate() })
    .input('book', 'nights', 'Nights', { kind: 'number', value: '1', required: true, min: '1', max: '14' });
}

/** Books and pays for the nights asked. */
function book(form: Record<string, string>): PageBuilder {
  const h = chosen;
  const p = page('Booking').replace();
  if (!h) return p.notice('warning', 'Search again: that list is out of date.').button('Hotels near me', 'near-me');
  const nights = Number.parseInt(form.nights ?? '', 10);
  if (!Number.isInteger(nights) || nights < 1 || nights > 14) {
    return p.notice('error', 'Book 1 to 14 nights.').button('Back to the hotel', `hotel:${h.id}`);
  }
  const checkIn = form['check-in'] ?? '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(checkIn) || checkIn < clock.localDate()) {
    return p.notice('error', 'Pick a check-in date from today on.').button('Back to the hotel', `hotel:${h.id}`);
  }
  const number = (storage.getJson<number>('next-booking') ?? 0) + 1;
  const orderId = `stay-${String(number).padStart(4, '0')}`;
  const description = `${h.name}, ${nights === 1 ? '1 night' : `${nights} nights`} from ${checkIn}`;
  let outcome: payment.PaymentOutcome;
  try {
    outcome = payment.pay({ orderId, description, items: [{ name: `${h.name}, a night`, quantity: nights, unitPrice: h.priceFen }] });
  } catch (e) {
    return p.notice('error', `The payment failed: ${errorMessage(e)}`).button('My bookings', 'bookings');
  }
  switch (outcome.tag) {
    case 'paid': {
      const r = outcome.val;
      storage.setJson('next-booking', number);
      const booking: Booking = { orderId, hotel: h.name, checkIn, nights, paid: r.amount.toString() };
      storage.setJson(`booking:${orderId}`, booking);
      log.info(`booking ${orderId} paid: ${r.transactionId}`);
      return page('Booking confirmed')
        .replace()
        .notice('success', `Booked: ${h.name}.`)
        .field('Booking', orderId)
        .field('Check-in', checkIn)
        .field('Nights', String(nights))
        .field('Paid', money(r.amount))
        .field('Payee', r.payee)
        .button('My bookings', 'bookings');
    }
    case 'insufficient-funds':
      return p
        .notice('error', `Your wallet does not hold the ${money(outcome.val.needed)} needed. Top up your wallet and try again.`)
        .button('Back to the hotel', `hotel:${h.id}`);
    case 'timed-out':
      return p
        .notice('warning', 'The payment timed out. Nothing was booked or charged; please try again.')
        .button('Back to the hotel', `hotel:${h.id}`);
    default:
      return p.notice('warning', 'You did not pay. Nothing was booked.').button('Back to the hotel', `hotel:${h.id}`).button('My bookings', 'bookings');
  }
}

/** The user's bookings, from storage. */
function bookings(): PageBuilder {
  const p = page('My bookings');
  const keys = storage.keys('booking:');
  if (keys.length === 0) p.text('No bookings yet.');
  for (const key of keys) {
    const b = storage.getJson<Booking>(key);
    if (b) p.item(`${b.hotel}, ${b.checkIn}`, `${b.nights === 1 ? '1 night' : `${b.nights} nights`} · ${money(BigInt(b.paid))}`, `booking:${b.orderId}`);
  }
  return p.button('Hotels near me', 'near-me');
}

/** One booking, with what the ledger says of its payment. */
function bookingPage(orderId: string): PageBuilder {
  const b = storage.getJson<Booking>(`booking:${orderId}`);
  if (!b) return page('My bookings').replace().notice('error', `There is no booking ${orderId}.`).button('Hotels near me', 'near-me');
  const p = page(`Booking ${orderId}`).field('Hotel', b.hotel).field('Check-in', b.checkIn).field('Nights', String(b.nights));
  try {
    const record = payment.query(orderId);
    p.field('Paid', money(record.receipt.amount));
    if (record.refunded > 0n) return p.field('Refunded', money(record.refunded)).button('My bookings', 'bookings');
  } catch (e) {
    return p.notice('error', `The payment cannot be shown: ${errorMessage(e)}`).button('My bookings', 'bookings');
  }
  return p.button('Cancel and refund', `cancel:${orderId}`, 'danger').button('My bookings', 'bookings');
}

/** Cancels a booking: the whole payment goes back to the wallet. */
function cancel(orderId: string): PageBuilder {
  const p = page('Booking cancelled').replace();
  try {
    const record = payment.query(orderId);
    const left = record.receipt.amount - record.refunded;
    // The refund id makes a retried cancellation refund once.
    const r = payment.refund(orderId, left, 'booking cancelled by the guest', `cancel-${orderId}`);
    return p.notice('success', `${money(r.amount)} was refunded to your wallet.`).field('Booking', orderId).button('My bookings', 'bookings');
  } catch (e) {
    return page('Booking').replace().notice('error', `The booking was not cancelled: ${errorMessage(e)}`).button('My bookings', 'bookings');
  }
}
