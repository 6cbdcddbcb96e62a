// Codes the user scans (`[capabilities.scan]`): ask while handling the
// user's tap or form; the embedding app opens its scanner. A scanned Plaza
// link to an installed mini-app is also offered to the user by the host,
// who opens it after this event's page if the user accepts.

import { scanCode as hostScan } from 'plaza:host/scan@0.1.1';
import type { CodeKind, Scanned } from 'plaza:host/scan@0.1.1';
import { Denied, Unavailable } from './errors';

export type { CodeKind, Scanned } from 'plaza:host/scan@0.1.1';

/** The user closed the scanner without scanning. */
export class ScanCancelled extends Error {
  constructor() {
    super('the user closed the scanner');
    this.name = 'ScanCancelled';
  }
}

/**
 * Asks the user to scan a code of one of `kinds` (`'qr'`, `'barcode'`; both
 * when empty); `purpose` is shown to the user. Throws `ScanCancelled` when
 * the user closes the scanner, `Denied` outside a tap or form, `Unavailable`
 * when the phone cannot scan.
 */
export function scanCode(purpose: string, kinds: CodeKind[] = []): Scanned {
  try {
    return hostScan(purpose, kinds);
  } catch (e) {
    const payload = (e as { payload?: unknown } | null | undefined)?.payload ?? e;
    const { tag, val } = (payload ?? {}) as { tag?: unknown; val?: unknown };
    if (tag === 'cancelled') throw new ScanCancelled();
    if (tag === 'denied' && typeof val === 'string') throw new Denied(val);
    if (tag === 'unavailable' && typeof val === 'string') throw new Unavailable(val);
    throw e;
  }
}
