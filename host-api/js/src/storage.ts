// Key-value storage kept for the current user in this mini-app
// (`[capabilities.storage]`). Values are bytes in the contract; these
// helpers also keep text and JSON. A host error throws a typed exception
// (`LimitExceeded` for a full quota, `InvalidArgument` for a bad key).

import * as storage from 'plaza:host/storage@0.1.1';
import type { Usage } from 'plaza:host/storage@0.1.1';
import { hostCall } from './errors';

export type { Usage } from 'plaza:host/storage@0.1.1';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes stored under `key`; `undefined` if there are none. */
export function get(key: string): Uint8Array | undefined {
  return hostCall(() => storage.get(key));
}

/** Stores `value` under `key`, replacing what was there. */
export function set(key: string, value: Uint8Array): void {
  hostCall(() => storage.set(key, value));
}

/** The text stored under `key` (UTF-8); `undefined` if there is none. */
export function getString(key: string): string | undefined {
  const bytes = get(key);
  return bytes === undefined ? undefined : decoder.decode(bytes);
}

/** Stores `value` under `key` as UTF-8. */
export function setString(key: string, value: string): void {
  set(key, encoder.encode(value));
}

/**
 * The JSON value stored under `key` (by `setJson`); `undefined` if there is
 * none. Throws a `SyntaxError` if the value there is not JSON.
 */
export function getJson<T = unknown>(key: string): T | undefined {
  const text = getString(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

/** Stores `value` under `key` as JSON (a BigInt is stored as its decimal text). */
export function setJson(key: string, value: unknown): void {
  setString(key, JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v)));
}

/** Removes `key`; whether it was there. */
export function remove(key: string): boolean {
  return hostCall(() => storage.delete(key));
}

/** The keys starting with `prefix` (all by default), in byte order, at most `limit` (at most 1000). */
export function keys(prefix = '', limit = 1000): string[] {
  return hostCall(() => storage.listKeys(prefix, limit));
}

/** How much of its quota the current user's space uses. */
export function usage(): Usage {
  return hostCall(() => storage.getUsage());
}
