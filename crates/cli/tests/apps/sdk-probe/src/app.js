// Probes @plaza/sdk in a real host. Each tap shows what happened as fields,
// which the scenario checks.

import {
  choices,
  defineApp,
  Denied,
  errorMessage,
  fields,
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

export const pages = defineApp(async (event) => probes(await answer(event)));

async function answer(event) {
  if (event.tag === 'launch') return blocks(event.val.locale);
  if (event.tag === 'submit' && event.val.form === 'booking') return submitted(event.val.fields);
  if (event.tag === 'load-more') return form(event.val);
  if (event.tag === 'refresh') return form('refreshed');
  if (event.tag !== 'tap') return blocks();
  switch (event.val) {
    case 'form':
      return form('');
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
    .button('JSON in storage', 'json')
    .button('A form', 'form');
}

/** One block of each kind, as the page builder makes them. */
function blocks(locale) {
  const p = page('SDK probe');
  if (locale !== undefined) p.field('Locale', locale || '(none)');
  return p
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

/** Twelve cities: more than five options, so the host shows a picker. */
const CITIES = [
  ['bj', 'Beijing'],
  ['sh', 'Shanghai'],
  ['hz', 'Hangzhou'],
  ['gz', 'Guangzhou'],
  ['sz', 'Shenzhen'],
  ['cd', 'Chengdu'],
  ['wh', 'Wuhan'],
  ['xa', "Xi'an"],
  ['nj', 'Nanjing'],
  ['cq', 'Chongqing'],
  ['tj', 'Tianjin'],
  ['sy', 'Shenyang'],
];

/**
 * The inputs and list features of plaza:host@0.1.1, through the builder: a
 * picker, checkboxes, a switch, a hidden and a read-only field, constraints
 * the host checks, a section with trailing values and "load more" (`more`
 * is the load-more action that brought this page, if any), pull-to-refresh.
 */
function form(more) {
  const p = page('Form').replace().refreshable();
  if (more) p.notice('info', `Loaded: ${more}`);
  return p
    .choice('booking', 'city', 'City', CITIES, { value: 'hz', required: true })
    .choice('booking', 'room', 'Room', [{ value: 'single', label: 'Single' }, { value: 'double', label: 'Double' }])
    .multiChoice('booking', 'extras', 'Extras', [['breakfast', 'Breakfast'], ['parking', 'Parking'], ['late', 'Late check-out']], ['breakfast'])
    .switch('booking', 'invoice', 'Send an invoice', true)
    .hidden('booking', 'token', 't-42')
    .input('booking', 'guest', 'Guest', { value: 'Li Na', readOnly: true })
    .input('booking', 'plate', 'Plate number', { pattern: '[浙沪][A-Z][A-Z0-9]{5}', patternHint: 'a plate number such as 浙A12345' })
    .input('booking', 'nights', 'Nights', { kind: 'number', value: '1', min: '1', max: '14', required: true })
    .input('booking', 'note', 'Note', { kind: 'multiline', maxLength: 20 })
    .section('Rooms', [
      { title: 'Single', detail: 'One bed', trailing: 'CNY 300.00', action: 'room:single' },
      { title: 'Double', trailing: 'Full' },
    ], { loadMore: 'more:rooms' })
    .item('Suite', 'Top floor', undefined, { trailing: 'CNY 900.00' });
}

/** What the host let through, by name (multi-choice values as a list). */
function submitted(list) {
  const f = fields(list);
  return page('Submitted')
    .replace()
    .field('City', f.city)
    .field('Room', f.room || '(none)')
    .field('Extras', choices(f.extras).join(' + ') || '(none)')
    .field('Invoice', f.invoice)
    .field('Token', f.token)
    .field('Guest', f.guest)
    .field('Plate', f.plate || '(none)')
    .field('Nights', f.nights);
}
