// Host errors as typed exceptions: one class per case of the contract's
// `error` variant (host-api/wit/types.wit).
//
// A host call that cannot do what was asked returns the WIT error as data;
// jco's bindings throw it (an exception whose `payload` is `{ tag, val }`).
// The SDK's wrappers turn that into one of the classes below, so a mini-app
// catches what it means: `catch (e) { if (e instanceof Denied) ... }`.

/** The case of the WIT `error` variant, as jco spells it. */
export type HostErrorKind = 'denied' | 'invalid-argument' | 'limit-exceeded' | 'not-found' | 'unavailable';

/** A host call did not do what was asked. `reason` is the host's message for people. */
export class HostError extends Error {
  /** The case of the WIT `error` variant. */
  readonly kind: HostErrorKind;
  /** The host's message: what happened and what to do. Show it; do not parse it. */
  readonly reason: string;

  constructor(kind: HostErrorKind, reason: string) {
    super(`${kind}: ${reason}`);
    this.name = 'HostError';
    this.kind = kind;
    this.reason = reason;
  }
}

/**
 * The mini-app may not do this for this user now: the manifest does not
 * declare it, the host's policy does not allow it, or the user refused consent.
 */
export class Denied extends HostError {
  constructor(reason: string) {
    super('denied', reason);
    this.name = 'Denied';
  }
}

/** An argument is malformed or out of range. */
export class InvalidArgument extends HostError {
  constructor(reason: string) {
    super('invalid-argument', reason);
    this.name = 'InvalidArgument';
  }
}

/** A limit was reached (a quota, a size, a rate); nothing was written. */
export class LimitExceeded extends HostError {
  constructor(reason: string) {
    super('limit-exceeded', reason);
    this.name = 'LimitExceeded';
  }
}

/** The thing asked for does not exist. */
export class NotFound extends HostError {
  constructor(reason: string) {
    super('not-found', reason);
    this.name = 'NotFound';
  }
}

/** The capability is not available in this host now; try later or offer another way. */
export class Unavailable extends HostError {
  constructor(reason: string) {
    super('unavailable', reason);
    this.name = 'Unavailable';
  }
}

const CLASSES: Record<HostErrorKind, new (reason: string) => HostError> = {
  denied: Denied,
  'invalid-argument': InvalidArgument,
  'limit-exceeded': LimitExceeded,
  'not-found': NotFound,
  unavailable: Unavailable,
};

/**
 * The typed exception for a WIT error (`{ tag, val }`), or for what jco threw
 * with one as its `payload`; `undefined` for anything else.
 */
export function toHostError(thrown: unknown): HostError | undefined {
  if (thrown instanceof HostError) return thrown;
  const payload = (thrown as { payload?: unknown } | null | undefined)?.payload ?? thrown;
  const { tag, val } = (payload ?? {}) as { tag?: unknown; val?: unknown };
  if (typeof tag === 'string' && tag in CLASSES && typeof val === 'string') {
    return new CLASSES[tag as HostErrorKind](val);
  }
  return undefined;
}

/** Runs a host call, rethrowing its WIT error as a typed exception. */
export function hostCall<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    throw toHostError(e) ?? e;
  }
}

/** A message for people: a host error's reason, an error's message, or the text of anything thrown. */
export function errorMessage(thrown: unknown): string {
  const host = toHostError(thrown);
  if (host) return host.reason;
  if (thrown instanceof Error) return thrown.message;
  return String(thrown);
}
