// The host's clock (`[capabilities.clock]`): deterministic in tests, with
// the host's time zone. Use it for anything the user sees.

import { now as hostNow } from 'plaza:host/clock@0.1.1';
import type { Datetime } from 'plaza:host/clock@0.1.1';

export type { Datetime } from 'plaza:host/clock@0.1.1';

/** The current time, with the host's UTC offset. */
export function now(): Datetime {
  return hostNow();
}

/** The local wall-clock time of `at` (the host's time zone), as a `Date` read with its UTC getters. */
function local(at: Datetime): Date {
  return new Date(Number(at.unixMs) + at.utcOffsetMinutes * 60_000);
}

const two = (n: number): string => String(n).padStart(2, '0');

/** `YYYY-MM-DD` of `at` (default now) in the host's time zone. */
export function localDate(at: Datetime = now()): string {
  const d = local(at);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}`;
}

/** `HH:MM` of `at` (default now) in the host's time zone. */
export function localTime(at: Datetime = now()): string {
  const d = local(at);
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}`;
}

/** `at` moved by `days` whole days. */
export function addDays(at: Datetime, days: number): Datetime {
  return { unixMs: at.unixMs + BigInt(days) * 86_400_000n, utcOffsetMinutes: at.utcOffsetMinutes };
}
