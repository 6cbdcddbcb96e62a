// Settings of this mini-app kept outside its package (`[[settings]]` of the
// manifest): the origin of its back-end, an API key. `Denied` for a setting
// the manifest does not declare, `NotFound` for one not set and without a
// default.

import { get as hostGet } from 'plaza:host/config@0.1.1';
import { hostCall, NotFound } from './errors';

/** The value of setting `name`. */
export function get(name: string): string {
  return hostCall(() => hostGet(name));
}

/** The value of setting `name`, or `fallback` when it is not set. */
export function getOr(name: string, fallback: string): string {
  try {
    return get(name);
  } catch (e) {
    if (e instanceof NotFound) return fallback;
    throw e;
  }
}
