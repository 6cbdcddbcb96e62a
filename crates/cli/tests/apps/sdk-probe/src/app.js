// Probes @plaza/sdk in a real host. Each tap shows what happened as fields,
// which the scenario checks.

import {
  defineApp,
  Denied,
  errorMessage,
  HostError,
  InvalidArgument,
  LimitExceeded,
  NotFound,
  page,
} from '@plaza/sdk';
import * as storage from '@plaza/sdk/storage';
import * as payment from '@plaza/sdk/payment';
import * as identity from '@plaza/sdk/identity';
import * as config from '@plaza/sdk/config';

/** The agency back-end's origin, declared in plaza.toml. */
const DECLARED = 'http://localhost:47180';
/** The same server by another name: not declared. */
const UNDECLARED = 'http://127.0.0.1:47180';

export const app = defineApp(async (event) => probes(await answer(event)));

async function answer(event) {
  if (event.tag !== 'tap') return blocks();
  switch (event.val) {
    case 'fetch:declared':
      return fetched(`${DECLARED}/health`);
    case 'fetch:undeclared':
      return fetched(`${UNDECLARED}/health`);
    case 'errors':
      return errors();
    case 'json':
      return json();
    default:
      return blocks();
  }
}

/** A button for each probe (the host delivers only the taps a page offers). */
function probes(p) {
  return p
    .button('Fetch the declared origin', 'fetch:declared')
    .button('Fetch an undeclared origin', 'fetch:undeclared')
    .button('Host errors', 'errors')
    .button('JSON in storage', 'json');
}

/** One block of each kind, as the page builder makes them. */
function blocks() {
  return page('SDK probe')
    .heading('Blocks')
    .text('A paragraph.')
    .field('Label', 'Value')
    .item('An item', 'Its detail', 'item-action')
    .item('A plain item')
    .button('Primary', 'errors', 'primary')
    .input('form', 'count', 'Count', { kind: 'number', value: '7', required: true })
    .notice('info', 'A notice.')
    .replace();
}

/** Fetches `url`; the status and body, or what was thrown. */
async function fetched(url) {
  const p = page('Fetch');
  try {
    const response = await fetch(url);
    const body = await response.text();
    return p.field('Status', String(response.status)).field('Body', body.trim());
  } catch (e) {
    return p.field('Refused', e instanceof Error ? e.name : typeof e).text(errorMessage(e));
  }
}

/** Which class each host error comes as. */
function errors() {
  const p = page('Errors');
  const probe = (label, call) => {
    try {
      call();
      p.field(label, 'no error');
    } catch (e) {
      const typed = e instanceof HostError ? `${e.name} (${e.kind})` : `untyped: ${String(e)}`;
      p.field(label, typed);
    }
  };
  probe('Empty key', () => storage.set('', new Uint8Array([1])));
  probe('Over quota', () => storage.setString('big', 'x'.repeat(2048)));
  probe('Unknown order', () => payment.query('no-such-order'));
  probe('Undeclared setting', () => config.get('not-declared'));
  probe('Refused location', () => identity.location());
  // instanceof the classes the mini-app catches.
  const classes = [];
  for (const [name, cls, call] of [
    ['InvalidArgument', InvalidArgument, () => storage.set('', new Uint8Array([1]))],
    ['LimitExceeded', LimitExceeded, () => storage.setString('big', 'x'.repeat(2048))],
    ['NotFound', NotFound, () => payment.query('no-such-order')],
    ['Denied', Denied, () => config.get('not-declared')],
  ]) {
    try {
      call();
    } catch (e) {
      if (e instanceof cls && e instanceof Error) classes.push(name);
    }
  }
  return p.field('Caught as', classes.join(' ')).field('Declared setting', config.get('greeting'));
}

/** JSON in storage, round-tripped. */
function json() {
  storage.setJson('probe', { n: 1, big: 12345678901234567890n, list: ['a', 'b'] });
  const back = storage.getJson('probe');
  return page('JSON').field('Stored', JSON.stringify(back)).field('Keys', storage.keys().join(' '));
}
