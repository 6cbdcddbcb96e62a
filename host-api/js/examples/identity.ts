import { Denied } from '@plaza/sdk';
import * as identity from '@plaza/sdk/identity';
import * as log from '@plaza/sdk/log';

export function register(): string {
  // No consent needed: the user's pseudonym in this mini-app.
  const openid = identity.openid();
  // Needs `real-name` in the manifest's scopes, a verified publisher in a
  // category the policy allows, and the user's consent (the host asks).
  try {
    const person = identity.realName();
    log.info(`registering ${person.name} as ${openid}`);
  } catch (e) {
    // Refused or not allowed: let the user type the name instead.
    if (!(e instanceof Denied)) throw e;
    log.info(`no real name: ${e.reason}`);
  }
  // A code for the mini-app's own backend to exchange for the openid.
  return identity.login().code;
}
