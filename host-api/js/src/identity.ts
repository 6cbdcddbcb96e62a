// Who the user is, as far as the user lets this mini-app know
// (`[capabilities.identity]`). `openid` and `unionid` need no consent; every
// other call reads a scope the manifest names, and the host asks the user the
// first time. A refusal throws `Denied`.

import * as identity from 'plaza:host/identity@0.1.1';
import type {
  InsuranceCard,
  Location,
  LocationPrecision,
  LoginCode,
  Profile,
  RealName,
} from 'plaza:host/identity@0.1.1';
import { hostCall } from './errors';

export type {
  InsuranceCard,
  Location,
  LocationPrecision,
  LoginCode,
  Profile,
  RealName,
} from 'plaza:host/identity@0.1.1';

/** The user's pseudonymous id in this mini-app. */
export function openid(): string {
  return hostCall(() => identity.openid());
}

/** The user's pseudonymous id for this publisher. */
export function unionid(): string {
  return hostCall(() => identity.unionid());
}

/** A single-use login code for the mini-app's own back-end. */
export function login(): LoginCode {
  return hostCall(() => identity.login());
}

/** The nickname and avatar (scope `profile`). */
export function profile(): Profile {
  return hostCall(() => identity.getProfile());
}

/** The phone number (scope `phone`). */
export function phone(): string {
  return hostCall(() => identity.getPhone());
}

/** The verified legal name (scope `real-name`). */
export function realName(): RealName {
  return hostCall(() => identity.getRealName());
}

/**
 * Where the user is: `coarse` (scope `location`, about a kilometre) or
 * `precise` (scope `precise-location`).
 */
export function location(precision: LocationPrecision = 'coarse'): Location {
  return hostCall(() => identity.getLocation(precision));
}

/** The bound medical insurance card (scope `insurance-card`). */
export function insuranceCard(): InsuranceCard {
  return hostCall(() => identity.getInsuranceCard());
}
