// The Plaza simulator's page: a client of the Plaza server's API (/v1, see
// docs/server.md), as an embedding app's phone is, with the host's panels
// beside it. Everything a mini-app sends is data and is put on the page with
// DOM APIs (createElement, textContent, setAttribute of plain attributes),
// never parsed as HTML: no innerHTML, no inline handlers. The server's
// Content-Security-Policy forbids inline script besides.
'use strict';

const S = {
  // The user simulated, and their token from the simulator's issuer.
  user: null,
  token: null,
  tokenExpires: 0,
  // Per user, what their phone shows: {app, appName, path, page, error,
  // prompt, relaunch}; no entry (or no app): the home screen.
  phones: {},
  users: [],
  apps: [],
  reloadSeq: null,
  // A phone request under way (an event or an answer): one at a time.
  inflight: false,
  panels: '',
  dialogId: null,
};

const $ = (id) => document.getElementById(id);

// An element with a class and text; children are elements or strings (as
// text nodes).
function el(tag, cls, text, ...children) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// An error from the API or the simulator: {"error": {"kind", "message"}}.
class ApiError extends Error {
  constructor(status, data) {
    const err = (data && data.error) || {};
    super(err.message || ('the simulator answered ' + status));
    this.status = status;
    this.kind = err.kind || 'unknown';
    this.data = data;
  }
}

// A request to the simulator (`/simulator/...`) or, with the user's token,
// to the API (`/v1/...`). Every request but a GET carries JSON, or a file's
// bytes (a `Blob`) as `application/octet-stream`.
async function call(method, path, body) {
  const headers = {};
  if (path.startsWith('/v1/')) headers.Authorization = 'Bearer ' + await token();
  const init = { method, headers };
  if (body instanceof Blob) {
    headers['Content-Type'] = 'application/octet-stream';
    init.body = body;
  } else if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body === undefined ? {} : body);
  }
  const r = await fetch(path, init);
  let data = null;
  try {
    data = await r.json();
  } catch (_) {
    data = null;
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

const get = (path) => call('GET', path);
const post = (path, body) => call('POST', path, body);

// The user's token, minted again a minute before it expires.
async function token() {
  if (!S.token || Date.now() > S.tokenExpires - 60000) {
    const r = await fetch('/simulator/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user: S.user }),
    });
    const data = await r.json();
    if (!r.ok) throw new ApiError(r.status, data);
    S.token = data.token;
    S.tokenExpires = Date.now() + data.expires_in_ms;
  }
  return S.token;
}

let toastTimer = null;
function toast(message) {
  const t = $('toast');
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 6000);
}

function when(ms) {
  const d = new Date(ms);
  return d.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

function phone(user = S.user) {
  if (!S.phones[user]) S.phones[user] = { app: null };
  return S.phones[user];
}

function appName(id) {
  const a = S.apps.find((x) => x.id === id);
  return a ? a.name : id;
}

// ---- the phone's requests ------------------------------------------------

// What an event or an answer came back with: a page, a prompt, the home
// screen, or an error (shown on the phone above the page it had).
function outcome(p, answer) {
  p.prompt = null;
  // A scanned link the user chose to open: the phone shows its mini-app.
  if (answer.opened && answer.app_id) Object.assign(p, { app: answer.app_id, appName: appName(answer.app_id) });
  if (answer.page) {
    p.page = answer.page;
    p.error = null;
    p.fieldError = null;
    p.draft = null;
  } else if (answer.prompt) {
    p.prompt = answer.prompt;
    p.promptShown = Date.now();
  } else if (answer.home) {
    p.app = null;
  }
}

// Runs a phone request (an event or an answer to a prompt) for the user
// simulated now: one at a time; its answer goes to that user's phone.
async function phoneRequest(path, body, app) {
  if (S.inflight) return null;
  S.inflight = true;
  $('busy').hidden = false;
  const user = S.user;
  const p = phone(user);
  let answer = null;
  try {
    answer = await post(path, body);
    outcome(p, answer);
  } catch (e) {
    answer = e.data || { error: { kind: e.kind, message: e.message } };
    if (e.kind === 'prompt-timed-out' || e.kind === 'prompt-answered' || e.kind === 'no-such-prompt') {
      p.prompt = null;
      toast(e.message);
    } else if (p.app === app) {
      p.error = e.message;
      // A value the host refused: its reason goes under the field, and the
      // form keeps what the user entered.
      p.fieldError = e.kind === 'field-refused' ? { field: e.data.error.field, reason: e.data.error.reason } : null;
    } else {
      toast(e.message);
    }
  } finally {
    S.inflight = false;
    $('busy').hidden = true;
  }
  if (user === S.user) renderPhone();
  refresh();
  return answer;
}

// Sends an event to the mini-app open on the phone.
function sendEvent(event) {
  const p = phone();
  if (!p.app) return Promise.resolve(null);
  return phoneRequest('/v1/apps/' + encodeURIComponent(p.app) + '/events', event, p.app);
}

// Opens a mini-app at `path` (a launch), as tapping its tile does; answers
// what the API answered.
function openApp(app, path = '/') {
  if (S.inflight) return Promise.resolve(null);
  const p = phone();
  Object.assign(p, { app, appName: appName(app), path, page: null, error: null, fieldError: null, draft: null, prompt: null, relaunch: false });
  renderPhone();
  return sendEvent(launchEvent(path));
}

// A launch at `path`, whose query (`?a=1&b=2`) the API takes apart, with
// the browser's language as the user's locale.
function launchEvent(path) {
  const locale = navigator.language || '';
  const i = path.indexOf('?');
  if (i < 0) return { launch: { path, query: {}, locale } };
  const query = {};
  for (const [k, v] of new URLSearchParams(path.slice(i + 1))) query[k] = v;
  return { launch: { path: path.slice(0, i), query, locale } };
}

// Opens a tab of the mini-app's tab bar: a launch at the tab's path.
function openTab(path) {
  const p = phone();
  p.path = path;
  return sendEvent(launchEvent(path));
}

// Lets the test scripts open a mini-app as the page does.
window.plazaSimulator = { openApp };

// ---- the phone -----------------------------------------------------------

const INPUT_TYPES = {
  text: 'text', number: 'number', date: 'date', time: 'time', phone: 'tel', email: 'email',
};

// A list item: its thumbnail (only the package's, from the API), its
// lines, its trailing value.
function renderItem(b) {
  const lines = el('div', 'mp-item-lines', null, el('div', 'mp-item-title', b.title));
  if (b.detail) lines.append(el('div', 'mp-item-detail', b.detail));
  const item = el('div', 'mp-item');
  if (b.thumbnail_src) {
    const img = document.createElement('img');
    img.className = 'mp-thumbnail';
    img.referrerPolicy = 'no-referrer';
    img.alt = '';
    img.src = b.thumbnail_src;
    item.append(img);
  }
  item.append(lines);
  if (b.trailing) item.append(el('div', 'mp-trailing', b.trailing));
  if (b.action) {
    item.classList.add('tappable');
    item.setAttribute('role', 'button');
    item.tabIndex = 0;
    item.dataset.action = b.action;
  }
  return item;
}

// The control of an input: a text box, a date, time or number picker with
// the input's bounds, radio buttons or a picker for a choice, checkboxes,
// a switch. Its value as the user left it after a refusal (`draft`).
function renderControl(b, id, draft) {
  const value = draft !== undefined ? draft : b.value;
  if (b.kind === 'choice' && b.display === 'radio') {
    const group = el('div', 'mp-choices mp-control');
    group.id = id;
    group.setAttribute('role', 'radiogroup');
    group.dataset.name = b.name;
    group.dataset.kind = 'radio';
    for (const o of b.options) {
      const r = el('input');
      r.type = 'radio';
      r.name = id;
      r.value = o.value;
      r.checked = o.value === value;
      r.disabled = b.read_only;
      group.append(el('label', 'mp-choice', null, r, ' ' + o.label));
    }
    return group;
  }
  if (b.kind === 'choice') {
    const select = el('select', 'mp-input mp-control');
    select.dataset.name = b.name;
    select.name = b.name;
    select.append(el('option', null, '\u2014'));
    select.firstChild.value = '';
    for (const o of b.options) {
      const opt = el('option', null, o.label);
      opt.value = o.value;
      select.append(opt);
    }
    select.value = value;
    select.disabled = b.read_only;
    select.id = id;
    return select;
  }
  if (b.kind === 'multi-choice') {
    const chosen = value ? value.split(',') : [];
    const group = el('div', 'mp-choices mp-control');
    group.id = id;
    group.dataset.name = b.name;
    group.dataset.kind = 'checkboxes';
    for (const o of b.options) {
      const c = el('input');
      c.type = 'checkbox';
      c.value = o.value;
      c.checked = chosen.includes(o.value);
      c.disabled = b.read_only;
      group.append(el('label', 'mp-choice', null, c, ' ' + o.label));
    }
    return group;
  }
  if (b.kind === 'switch') {
    const sw = el('input', 'mp-switch mp-control');
    sw.type = 'checkbox';
    sw.setAttribute('role', 'switch');
    sw.dataset.name = b.name;
    sw.name = b.name;
    sw.dataset.kind = 'switch';
    sw.checked = value === 'true';
    sw.disabled = b.read_only;
    sw.id = id;
    return sw;
  }
  let input;
  if (b.kind === 'multiline') {
    input = el('textarea', 'mp-input mp-control');
    input.rows = 3;
  } else {
    input = el('input', 'mp-input mp-control');
    input.type = INPUT_TYPES[b.kind] || 'text';
    if (b.min !== null) input.min = b.min;
    if (b.max !== null) input.max = b.max;
  }
  if (b.max_length !== null) input.maxLength = b.max_length;
  if (b.pattern_hint) input.placeholder = b.pattern_hint;
  input.id = id;
  input.name = b.name;
  input.dataset.name = b.name;
  input.value = value;
  input.required = b.required;
  input.readOnly = b.read_only;
  return input;
}

// What a control holds, as the API takes it.
function controlValue(c) {
  switch (c.dataset.kind) {
    case 'radio': {
      const r = c.querySelector('input:checked');
      return r ? r.value : '';
    }
    case 'checkboxes':
      return Array.from(c.querySelectorAll('input:checked'), (x) => x.value).join(',');
    case 'switch':
      return c.checked ? 'true' : 'false';
    default:
      return c.value;
  }
}

function renderBlock(b, forms, p) {
  switch (b.type) {
    case 'heading': return el('h2', 'mp-heading', b.text);
    case 'text': return el('p', 'mp-text', b.text);
    case 'field': return el('div', 'mp-field', null, el('span', 'mp-label', b.label), el('span', 'mp-value', b.value));
    case 'item': return renderItem(b);
    case 'section': {
      const section = el('section', 'mp-section');
      if (b.heading) section.append(el('h3', 'mp-section-heading', b.heading));
      for (const i of b.items) section.append(renderItem(i));
      if (b.load_more) {
        // The end of the list: tapping (or scrolling onto) it asks for more.
        const more = el('button', 'mp-load-more', 'Load more');
        more.type = 'button';
        more.dataset.loadMore = b.load_more;
        section.append(more);
      }
      return section;
    }
    case 'button': {
      const btn = el('button', 'mp-button style-' + b.style, b.label);
      btn.type = 'button';
      btn.dataset.action = b.action;
      return btn;
    }
    case 'input': {
      let form = forms.get(b.form);
      let placed = null;
      if (!form) {
        form = el('form', 'mp-form');
        form.dataset.form = b.form;
        forms.set(b.form, form);
        placed = form;
      }
      // A hidden input is not shown: the host submits the value it gave.
      if (b.kind === 'hidden') return placed;
      const id = 'in-' + forms.size + '-' + form.children.length;
      const label = el('label', 'mp-input-label', b.label + (b.required ? ' *' : ''));
      label.htmlFor = id;
      const draft = p && p.draft && p.draft.form === b.form ? p.draft.fields[b.name] : undefined;
      const control = renderControl(b, id, draft);
      const row = el('div', 'mp-input-row', null, label, control);
      row.dataset.field = b.name;
      if (b.read_only) row.classList.add('read-only');
      if (p && p.fieldError && p.fieldError.field === b.name && (!p.draft || p.draft.form === b.form)) {
        const why = el('div', 'mp-field-error', b.label + ' ' + p.fieldError.reason);
        why.setAttribute('role', 'alert');
        row.append(why);
      }
      form.append(row);
      return placed;
    }
    case 'image': {
      // A photo the user gave the mini-app: fetched with the user's token.
      if (b.src && b.url.startsWith('media:')) return mediaImage(b);
      // Only the package's own images, from the API: anything else is
      // named, not loaded.
      if (!b.src) return el('p', 'mp-text', '[image: ' + b.alt + '] ' + b.url + ' (not loaded: the simulator shows only images of the package)');
      const img = document.createElement('img');
      img.className = 'mp-image';
      img.referrerPolicy = 'no-referrer';
      img.alt = b.alt;
      img.src = b.src;
      return img;
    }
    case 'notice': {
      const n = el('div', 'mp-notice level-' + b.level, b.text);
      n.setAttribute('role', 'status');
      return n;
    }
    default:
      return el('p', 'mp-text', '[a block this simulator does not know: ' + b.type + ']');
  }
}

function renderPage(page, screen, p) {
  if (page.refreshable) {
    // Pulling the page down (the wheel or a drag at its top), or tapping
    // this bar, refreshes it.
    const pull = el('button', 'mp-pull-refresh', '\u21bb Pull to refresh');
    pull.type = 'button';
    pull.id = 'pull-refresh';
    screen.append(pull);
  }
  const forms = new Map();
  for (const b of page.blocks) {
    const e = renderBlock(b, forms, p);
    if (e) screen.append(e);
  }
  for (const [name, form] of forms) {
    const submit = el('button', 'mp-submit', 'Submit');
    submit.type = 'submit';
    form.append(submit);
    // The host checks every value and says what is wrong: the browser's
    // own checks would stop some values before the host sees them.
    form.noValidate = true;
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const fields = {};
      for (const c of form.querySelectorAll('.mp-control')) {
        // Read-only values are the page's: the host keeps them.
        if (c.readOnly || c.disabled) continue;
        fields[c.dataset.name] = controlValue(c);
      }
      phone().draft = { form: name, fields };
      sendEvent({ submit: { form: name, fields } });
    });
  }
}

// The tab bar of the open mini-app (its manifest's `[[tabs]]`), the tab of
// the path it was opened at marked.
function renderTabs(p) {
  const bar = $('tabbar');
  bar.replaceChildren();
  const app = S.apps.find((a) => a.id === p.app);
  const tabs = (app && app.tabs) || [];
  bar.hidden = !p.app || tabs.length === 0;
  for (const t of tabs) {
    const b = el('button', 'tab' + (t.path === p.path ? ' active' : ''), t.title);
    b.type = 'button';
    b.dataset.tab = t.path;
    bar.append(b);
  }
}

function renderHome(screen) {
  screen.append(el('h2', 'mp-heading', 'Mini-apps'));
  if (S.apps.length === 0) {
    screen.append(el('p', 'mp-text', 'No mini-app is installed: start the simulator with a package or a project directory.'));
  }
  for (const a of S.apps) {
    const tile = el('div', 'app-tile tappable', null,
      el('div', 'mp-item-title', a.name),
      el('div', 'mp-item-detail', a.publisher_name + (a.publisher_verified ? ' \u2713 verified' : ' (unverified)') + ' \u00b7 ' + a.category));
    tile.setAttribute('role', 'button');
    tile.tabIndex = 0;
    tile.dataset.app = a.id;
    screen.append(tile);
  }
}

function renderPhone() {
  const p = phone();
  const screen = $('screen');
  screen.replaceChildren();
  $('status-user').textContent = S.user;
  $('chatbar').hidden = !p.app;
  $('nav-back').disabled = !p.app;
  if (!p.app) {
    $('nav-title').textContent = 'Plaza';
    renderHome(screen);
  } else {
    $('nav-title').textContent = p.page ? p.page.title : p.appName;
    if (p.error) {
      const n = el('div', 'mp-notice level-error host-error', p.error);
      n.id = 'phone-error';
      screen.append(n);
    }
    if (p.page) renderPage(p.page, screen, p);
  }
  renderTabs(p);
  screen.scrollTop = 0;
  renderDialog(p);
}

// ---- dialogs -------------------------------------------------------------

function badge(verified) {
  return el('span', verified ? 'badge verified' : 'badge unverified',
    verified ? '\u2713 verified by the host' : 'not verified');
}

function dialogButton(id, label, cls, onClick) {
  const b = el('button', cls, label);
  b.type = 'button';
  b.id = id;
  b.addEventListener('click', onClick);
  return b;
}

// Answers the prompt: the API answers the mini-app's next page or prompt.
function answer(d, ans) {
  return phoneRequest('/v1/prompts/' + encodeURIComponent(d.id), { answer: ans }, d.app_id);
}

// A scan: the simulator has no camera, so the user types what the code
// holds (a Plaza link such as plaza://cn.hz.maternity/checkin?clinic=obstetrics,
// or any text).
function scanDialog(d) {
  const purpose = el('blockquote', null, d.purpose);
  purpose.id = 'dialog-purpose';
  const text = el('input');
  text.id = 'dialog-scan-text';
  text.type = 'text';
  text.placeholder = 'The code\'s text';
  const kind = el('select');
  kind.id = 'dialog-scan-kind';
  for (const k of d.kinds) {
    kind.append(el('option', null, k === 'qr' ? 'QR code' : 'Barcode'));
    kind.lastChild.value = k;
  }
  return [
    el('h3', null, 'Scan a code'),
    el('p', null, null, el('strong', null, d.app_name), ' asks you to scan a code.'),
    el('p', 'hint', 'Why, in its words:'), purpose,
    el('p', 'hint', 'The simulator has no camera: type the text the code holds.'),
    el('p', null, null, text, ' ', kind),
    el('div', 'dialog-buttons', null,
      dialogButton('dialog-scan', 'Scan', 'primary', () => {
        if (text.value) answer(d, { text: text.value, kind: kind.value });
      }),
      dialogButton('dialog-cancel', 'Cancel', 'secondary', () => answer(d, 'cancel'))),
  ];
}

// The host offers to open a Plaza link a scan read.
function linkDialog(d) {
  const link = el('blockquote', null, d.link);
  link.id = 'dialog-link';
  return [
    el('h3', null, 'Open this link?'),
    el('p', null, null, el('strong', null, d.app_name), ' scanned a link:'),
    link,
    el('p', null, null, 'It opens ', el('strong', null, d.target_app_name), ' at ', el('code', null, d.target), '.'),
    el('div', 'dialog-buttons', null,
      dialogButton('dialog-open', 'Open', 'primary', () => answer(d, 'open')),
      dialogButton('dialog-stay', 'Stay here', 'secondary', () => answer(d, 'stay'))),
  ];
}

function consentDialog(d) {
  const scopeNames = {
    'real-name': 'verified real name and ID number',
    'insurance-card': 'medical insurance card',
    'phone': 'phone number',
    'profile': 'nickname and avatar',
    'location': 'approximate location',
    'precise-location': 'precise location',
  };
  const pub = el('strong', null, d.publisher_name);
  pub.id = 'dialog-publisher';
  const purpose = el('blockquote', null, d.purpose);
  purpose.id = 'dialog-purpose';
  const scope = el('strong', null, scopeNames[d.scope] || d.scope);
  scope.id = 'dialog-scope';
  return [
    el('h3', null, 'Allow access?'),
    el('p', null, null, pub, ' ', badge(d.publisher_verified)),
    el('p', null, null, el('span', null, d.app_name), ' asks for your ', scope, '.'),
    el('p', 'hint', 'Why, in its words:'), purpose,
    el('div', 'dialog-buttons', null,
      dialogButton('dialog-allow', 'Allow', 'primary', () => answer(d, 'allow')),
      dialogButton('dialog-deny', 'Deny', 'danger', () => answer(d, 'deny')),
      dialogButton('dialog-dismiss', 'Not now', 'secondary', () => answer(d, 'dismiss'))),
  ];
}

function paymentDialog(d) {
  const payee = el('strong', null, d.payee);
  payee.id = 'dialog-payee';
  const amount = el('div', 'amount', d.amount);
  amount.id = 'dialog-amount';
  const items = el('table', 'items');
  items.id = 'dialog-items';
  for (const i of d.items) {
    items.append(el('tr', null, null,
      el('td', null, i.name + (i.quantity > 1 ? ' \u00d7 ' + i.quantity : '')),
      el('td', 'num', i.total),
      el('td', 'hint', i.insurance_eligible ? 'insurance' : '')));
  }
  const ins = el('td', 'num', d.insurance_part);
  ins.id = 'dialog-insurance';
  const wal = el('td', 'num', d.wallet_part);
  wal.id = 'dialog-wallet';
  const split = el('table', 'split', null,
    el('tr', null, null, el('td', null, 'Medical insurance pays'), ins),
    el('tr', null, null, el('td', null, 'Your wallet pays'), wal),
    el('tr', 'hint', null, el('td', null, 'Wallet balance'), el('td', 'num', d.wallet_balance)));
  return [
    el('h3', null, 'Confirm payment'),
    amount,
    el('p', null, null, 'To ', payee, ' ', badge(d.payee_verified)),
    el('p', 'hint', d.description + ' (order ' + d.order_id + ', ' + d.app_name + ')'),
    items,
    split,
    el('div', 'dialog-buttons', null,
      dialogButton('dialog-confirm', 'Pay', 'primary', () => answer(d, 'confirm')),
      dialogButton('dialog-decline', 'Decline', 'danger', () => answer(d, 'decline')),
      dialogButton('dialog-cancel', 'Cancel', 'secondary', () => answer(d, 'dismiss'))),
  ];
}

function subscriptionDialog(d) {
  const list = el('div', 'templates');
  const selects = [];
  d.templates.forEach((t, i) => {
    const sel = el('select');
    sel.id = 'dialog-template-' + i;
    sel.append(el('option', null, 'Accept one message'));
    sel.lastChild.value = 'accept';
    if (t.long_term) {
      sel.append(el('option', null, 'Always accept'));
      sel.lastChild.value = 'accept-long-term';
    }
    sel.append(el('option', null, 'Refuse'));
    sel.lastChild.value = 'reject';
    selects.push(sel);
    list.append(el('div', 'template', null,
      el('div', 'mp-item-title', t.title),
      el('div', 'hint', t.fields.join(', ')), sel));
  });
  const pub = el('strong', null, d.publisher_name);
  pub.id = 'dialog-publisher';
  return [
    el('h3', null, 'Get messages?'),
    el('p', null, null, pub, ' (', d.app_name, ') would like to send you:'),
    list,
    el('div', 'dialog-buttons', null,
      dialogButton('dialog-accept', 'OK', 'primary', () => answer(d, selects.map((s) => s.value))),
      dialogButton('dialog-reject', 'Refuse all', 'secondary', () => answer(d, selects.map(() => 'reject')))),
  ];
}

// Shows the prompt the user's phone waits on, if any, until its timeout.
function renderDialog(p) {
  const d = p.prompt;
  const layer = $('dialog-layer');
  if (d && Date.now() > p.promptShown + d.timeout_ms) {
    p.prompt = null;
    toast('A ' + d.kind + ' question from ' + d.app_name + ' timed out without an answer.');
    renderDialog(p);
    return;
  }
  if (!d && p.mediaRefused) {
    mediaRefusedDialog(p);
    return;
  }
  if (!d) {
    layer.hidden = true;
    S.dialogId = null;
    return;
  }
  if (S.dialogId === d.id) return;
  S.dialogId = d.id;
  const box = $('dialog');
  box.className = 'dialog-' + d.kind;
  box.dataset.kind = d.kind;
  const parts = d.kind === 'consent' ? consentDialog(d)
    : d.kind === 'payment' ? paymentDialog(d)
      : d.kind === 'media' ? mediaDialog(d, p)
      : d.kind === 'scan' ? scanDialog(d) : d.kind === 'link' ? linkDialog(d) : subscriptionDialog(d);
  parts.push(el('p', 'hint', 'Waits ' + Math.round(d.timeout_ms / 1000) + ' s for an answer.'));
  box.replaceChildren(...parts);
  layer.hidden = false;
}

// ---- photos and files (media prompts, `media:ID` images) -----------------

// A size in bytes, as people read it.
function byteSize(n) {
  if (n >= 1048576) return (n / 1048576).toFixed(1).replace(/\.0$/, '') + ' MiB';
  if (n >= 1024) return (n / 1024).toFixed(1).replace(/\.0$/, '') + ' KiB';
  return n + ' bytes';
}

const MEDIA_KINDS = { jpeg: 'JPEG', png: 'PNG', pdf: 'PDF' };
const MEDIA_SOURCES = {
  camera: 'a photo from the camera',
  album: 'a photo from the photo album',
  either: 'a photo from the camera or the photo album',
  files: 'a file',
};

// The phone's picker for a media prompt: who asks and why, what the host
// takes (the kinds, the size cap), a file input, Send and Cancel. The
// host's answer to an upload it refused is shown here too.
function mediaDialog(d, p) {
  const pub = el('strong', null, d.publisher_name);
  pub.id = 'dialog-publisher';
  const purpose = el('blockquote', null, d.purpose);
  purpose.id = 'dialog-purpose';
  const kinds = d.kinds.map((k) => MEDIA_KINDS[k] || k).join(' or ');
  const limits = el('p', 'hint', kinds + ', at most ' + byteSize(d.max_bytes) + '. The host checks the file by its content.');
  limits.id = 'dialog-media-limits';
  const input = el('input', 'media-file');
  input.type = 'file';
  input.id = 'dialog-file';
  input.accept = d.accept;
  // A photo taken now: a phone opens its camera.
  if (d.source === 'camera') input.setAttribute('capture', 'environment');
  const label = el('label', 'media-choose', 'Choose ' + (d.source === 'files' ? 'a file' : 'a photo') + ': ');
  label.htmlFor = input.id;
  const why = el('div', 'mp-field-error');
  why.id = 'dialog-error';
  why.setAttribute('role', 'alert');
  why.hidden = true;
  const send = dialogButton('dialog-send', 'Send', 'primary', () => {
    const file = input.files && input.files[0];
    if (!file) {
      why.textContent = 'Choose a file first.';
      why.hidden = false;
      return;
    }
    sendMedia(d, file, why);
  });
  const parts = [
    el('h3', null, d.source === 'files' ? 'Choose a file' : 'Choose a photo'),
    el('p', null, null, el('span', null, d.app_name), ' (', pub, ') asks for ', MEDIA_SOURCES[d.source] || 'a file', '.'),
    el('p', 'hint', 'Why, in its words:'), purpose,
    limits,
  ];
  // The host refused the last file: the mini-app asked again.
  if (p.mediaRefused) {
    const refused = el('div', 'mp-notice level-error', 'The host refused the last file: ' + p.mediaRefused.reason);
    refused.id = 'dialog-refused';
    parts.push(refused);
    p.mediaRefused = null;
  }
  parts.push(
    el('p', null, null, label, input),
    why,
    el('div', 'dialog-buttons', null, send,
      dialogButton('dialog-cancel', 'Cancel', 'secondary', () => answer(d, 'cancel'))));
  return parts;
}

// What the host refused after the upload: its newest `media` refusal of
// the mini-app among the audit entries that are new since `before`.
function mediaRefusal(app, before, after) {
  let fresh = after;
  if (before.length) {
    const last = JSON.stringify(before[before.length - 1]);
    for (let i = after.length - 1; i >= 0; i--) {
      if (JSON.stringify(after[i]) === last) {
        fresh = after.slice(i + 1);
        break;
      }
    }
  }
  const refusals = fresh.filter((e) => e.app === app && e.capability === 'media' && e.outcome === 'denied');
  return refusals.length ? refusals[refusals.length - 1].detail : null;
}

// Answers the media prompt with the file's bytes. A refusal of the request
// (over the server's cap, say) stays in the dialog, which stays open; a
// file the host refused (its kind, its size, the quota) is told to the
// mini-app, and the dialog shows the host's reason too.
async function sendMedia(d, file, why) {
  if (S.inflight) return;
  S.inflight = true;
  $('busy').hidden = false;
  why.hidden = true;
  const user = S.user;
  const p = phone(user);
  try {
    const audit = '/v1/me/audit?limit=100';
    const before = (await get(audit)).entries;
    const data = await call('POST', '/v1/prompts/' + encodeURIComponent(d.id) + '/file?name=' + encodeURIComponent(file.name), file);
    const reason = mediaRefusal(d.app_id, before, (await get(audit)).entries);
    outcome(p, data);
    p.mediaRefused = reason ? { app_name: d.app_name, reason } : null;
  } catch (e) {
    if (e.kind === 'prompt-timed-out' || e.kind === 'prompt-answered' || e.kind === 'no-such-prompt') {
      p.prompt = null;
      toast(e.message);
    } else {
      why.textContent = 'Not sent: ' + e.message;
      why.hidden = false;
    }
  } finally {
    S.inflight = false;
    $('busy').hidden = true;
  }
  if (user === S.user) renderPhone();
  refresh();
}

// The host refused the file and the mini-app did not ask again: the reason,
// until the user closes it.
function mediaRefusedDialog(p) {
  const layer = $('dialog-layer');
  if (S.dialogId === 'media-refused') return;
  S.dialogId = 'media-refused';
  const box = $('dialog');
  box.className = 'dialog-media-refused';
  box.dataset.kind = 'media-refused';
  const reason = el('blockquote', null, p.mediaRefused.reason);
  reason.id = 'dialog-refused';
  box.replaceChildren(
    el('h3', null, 'File refused'),
    el('p', null, p.mediaRefused.app_name + ' did not get the file. The host says:'),
    reason,
    el('div', 'dialog-buttons', null,
      dialogButton('dialog-ok', 'OK', 'primary', () => {
        p.mediaRefused = null;
        renderDialog(p);
      })));
  layer.hidden = false;
}

// An image of a file the user gave the mini-app (`media:ID`): the API
// serves it to the user alone, with their token, so the page fetches it
// and shows the bytes as a `blob:` URL (the policy allows no other).
function mediaImage(b) {
  const img = document.createElement('img');
  img.className = 'mp-image mp-media';
  img.referrerPolicy = 'no-referrer';
  img.alt = b.alt;
  img.dataset.media = b.url;
  const user = S.user;
  const notShown = (why) => img.replaceWith(el('p', 'mp-text mp-media-missing', '[image: ' + b.alt + '] ' + b.url + ' (not shown: ' + why + ')'));
  (async () => {
    if (!b.src.startsWith('/v1/apps/')) throw new Error('not a file of the API');
    const r = await fetch(b.src, { headers: { Authorization: 'Bearer ' + await token() } });
    if (!r.ok) {
      let data = null;
      try {
        data = await r.json();
      } catch (_) {
        data = null;
      }
      throw new ApiError(r.status, data);
    }
    const blob = await r.blob();
    if (!blob.type.startsWith('image/')) throw new Error('the file is not an image');
    if (user !== S.user) return;
    const url = URL.createObjectURL(blob);
    const done = () => URL.revokeObjectURL(url);
    img.addEventListener('load', done, { once: true });
    img.addEventListener('error', done, { once: true });
    img.src = url;
  })().catch((e) => notShown(e.message));
  return img;
}

// ---- panels --------------------------------------------------------------

function row(...cells) {
  return el('tr', null, null, ...cells.map((c) => (c instanceof Node ? el('td', null, null, c) : el('td', null, c))));
}

function renderPanels(sim, h) {
  $('user-name').textContent = S.user;
  $('user-real-name').textContent = sim.real_name
    ? '(' + sim.real_name.name + (sim.real_name.verified ? ', verified' : '') + ')' : '(no real name set)';
  const dl = $('user-list');
  dl.replaceChildren(...sim.users.map((u) => { const o = el('option'); o.value = u; return o; }));

  $('wallet-balance').textContent = h.wallet.balance;
  const card = h.wallet.insurance;
  $('insurance-card').textContent = card
    ? 'Insurance: ' + card.scheme + ' \u00b7\u00b7\u00b7\u00b7' + card.card_number.slice(-4) + ', '
      + card.coverage_percent + ' % of eligible items, ' + card.cap_left + ' of ' + card.annual_cap + ' left this year'
    : 'No insurance card bound.';
  $('ledger').tBodies[0].replaceChildren(...h.wallet.history.map((e) =>
    row(when(e.at_ms), e.memo || e.kind, e.app_id ? appName(e.app_id) : '', e.amount)));

  const inbox = h.inbox.messages;
  $('inbox-unread').textContent = h.inbox.unread ? h.inbox.unread + ' unread' : '';
  $('inbox').replaceChildren(...(inbox.length ? inbox.map((m) => {
    const li = el('li', m.read ? 'message' : 'message unread', null,
      el('div', 'msg-head', null, el('strong', null, m.title), ' \u00b7 ', m.app_name, ' (', m.publisher_name, ')'),
      el('div', 'msg-body', m.body),
      el('div', 'hint', when(m.sent_at_ms) + ' \u00b7 ' + m.kind));
    li.dataset.id = m.id;
    if (!m.read) {
      const b = el('button', 'mark-read', 'Mark read');
      b.type = 'button';
      b.dataset.id = m.id;
      li.append(b);
    }
    return li;
  }) : [el('li', 'hint', 'No messages.')]));

  const grants = h.grants.grants;
  $('grants').replaceChildren(...(grants.length ? grants.map((g) => {
    const b = el('button', 'revoke', 'Revoke');
    b.type = 'button';
    b.dataset.app = g.app;
    b.dataset.scope = g.scope;
    const li = el('li', 'grant', null,
      el('strong', null, appName(g.app)), ': ', el('span', 'scope', g.scope), ' ',
      el('span', g.granted ? 'allowed' : 'denied', g.granted ? 'allowed' : 'denied'),
      el('span', 'hint', ' ' + when(g.decided_at_ms) + ' '), b);
    li.dataset.app = g.app;
    li.dataset.scope = g.scope;
    return li;
  }) : [el('li', 'hint', 'No consent decisions.')]));

  // The newest first, as a log panel reads.
  $('audit').tBodies[0].replaceChildren(...h.audit.entries.slice().reverse().map((a) => {
    const r = row(when(a.at_ms), a.app, a.capability, a.outcome, a.detail);
    r.className = a.outcome;
    return r;
  }));
}

function renderClock(sim) {
  const now = when(sim.clock.now_ms);
  $('clock-now').textContent = now;
  $('status-clock').textContent = now.slice(11, 16);
  const h = Math.round(sim.clock.offset_ms / 3600000);
  $('clock-offset').textContent = h ? '(' + (h >= 24 ? Math.floor(h / 24) + ' d ' + (h % 24) + ' h' : h + ' h') + ' ahead of real time)' : '(real time)';
}

// ---- the loop ------------------------------------------------------------

const SAVED = 'plaza-simulator';

// A watched mini-app was rebuilt: the page reloads, keeping the user and
// each phone, whose open mini-app launches again where it was.
function reload() {
  for (const p of Object.values(S.phones)) {
    if (p.app) p.relaunch = true;
    p.prompt = null;
  }
  sessionStorage.setItem(SAVED, JSON.stringify({ user: S.user, phones: S.phones, reloadSeq: S.reloadSeq }));
  location.reload();
}

let refreshing = false;
// Reads what the panels show (the simulator's state and the user's views in
// the API) and renders what changed.
async function refresh() {
  if (refreshing) return;
  refreshing = true;
  try {
    const user = S.user;
    const sim = await get('/simulator/state?user=' + encodeURIComponent(user));
    if (S.reloadSeq !== null && sim.reload_seq !== S.reloadSeq) {
      S.reloadSeq = sim.reload_seq;
      reload();
      return;
    }
    S.reloadSeq = sim.reload_seq;
    const [apps, wallet, inbox, grants, audit] = await Promise.all([
      get('/v1/apps'), get('/v1/me/wallet'), get('/v1/me/inbox'), get('/v1/me/grants'), get('/v1/me/audit?limit=60'),
    ]);
    if (user !== S.user) return;
    const appsChanged = JSON.stringify(apps.apps) !== JSON.stringify(S.apps);
    S.apps = apps.apps;
    if (appsChanged && !phone().app) renderPhone();
    const be = $('build-error');
    be.hidden = !sim.build_error;
    be.textContent = sim.build_error || '';
    const host = { wallet, inbox, grants, audit };
    const panels = JSON.stringify([user, sim.users, sim.real_name, host, S.apps]);
    if (panels !== S.panels) {
      S.panels = panels;
      renderPanels(sim, host);
    }
    renderClock(sim);
    renderDialog(phone());
    document.body.dataset.ready = 'true';
  } catch (e) {
    toast('The simulator is not answering: ' + e.message);
  } finally {
    refreshing = false;
  }
}

// Simulates `user` from now on: their token, their phone as they left it
// (a mini-app open after a reload launches again where it was).
async function switchUser(user) {
  user = user.trim();
  if (!user || user === S.user) return;
  const before = { user: S.user, token: S.token, tokenExpires: S.tokenExpires };
  Object.assign(S, { user, token: null, tokenExpires: 0, panels: '', dialogId: null });
  try {
    await token();
  } catch (e) {
    Object.assign(S, before);
    toast(e.message);
    return;
  }
  const p = phone();
  renderPhone();
  await refresh();
  if (p.app && p.relaunch) await openApp(p.app, p.path);
}

// A panel action: the API or a simulator tool, then the panels again.
async function panelAction(f) {
  try {
    await f();
  } catch (e) {
    toast(e.message);
  }
  refresh();
}

function wire() {
  document.addEventListener('click', (ev) => {
    const t = ev.target instanceof Element ? ev.target : null;
    if (!t) return undefined;
    const action = t.closest('#screen [data-action]');
    if (action) return sendEvent({ tap: action.dataset.action });
    const more = t.closest('#screen [data-load-more]');
    if (more) return sendEvent({ load_more: more.dataset.loadMore });
    if (t.closest('#pull-refresh')) return sendEvent({ refresh: {} });
    const tab = t.closest('#tabbar [data-tab]');
    if (tab) return openTab(tab.dataset.tab);
    const app = t.closest('#screen [data-app]');
    if (app) return openApp(app.dataset.app, '/');
    const revoke = t.closest('button.revoke');
    if (revoke) {
      return panelAction(() => call('DELETE', '/v1/me/grants/' + encodeURIComponent(revoke.dataset.app) + '/' + encodeURIComponent(revoke.dataset.scope)));
    }
    const read = t.closest('button.mark-read');
    if (read) return panelAction(() => post('/v1/me/inbox/' + encodeURIComponent(read.dataset.id) + '/read'));
    const adv = t.closest('button.advance');
    if (adv) return panelAction(() => post('/simulator/clock', { advance_ms: Number(adv.dataset.advance) }));
    return undefined;
  });
  document.addEventListener('keydown', (ev) => {
    const t = ev.target instanceof Element ? ev.target.closest('#screen [role=button]') : null;
    if (t && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); t.click(); }
  });
  $('nav-back').addEventListener('click', () => sendEvent({ back: {} }));
  // Pulling down at the top of a refreshable page: the wheel turned up
  // while the screen is scrolled to its top.
  $('screen').addEventListener('wheel', (ev) => {
    const p = phone();
    if (ev.deltaY < -40 && $('screen').scrollTop === 0 && p.page && p.page.refreshable && !S.inflight) {
      sendEvent({ refresh: {} });
    }
  }, { passive: true });
  $('nav-home').addEventListener('click', () => {
    // The session lives on; the phone shows the home screen.
    phone().app = null;
    renderPhone();
  });
  $('chatbar').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('chat-text').value;
    if (!text.trim()) return;
    $('chat-text').value = '';
    sendEvent({ chat: text });
  });
  $('user-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    switchUser($('user-input').value);
    $('user-input').value = '';
  });
  $('citizen-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    panelAction(() => post('/simulator/citizen', { user: S.user, name: $('citizen-name').value }));
  });
  $('topup-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    panelAction(() => post('/simulator/top-up', { user: S.user, amount: $('topup-amount').value }));
  });
}

async function start() {
  wire();
  wirePrivacy();
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(SAVED) || 'null');
  } catch (_) {
    saved = null;
  }
  sessionStorage.removeItem(SAVED);
  let first;
  try {
    first = await get('/simulator/state');
  } catch (e) {
    toast('The simulator is not answering: ' + e.message);
    return;
  }
  if (saved) {
    S.phones = saved.phones || {};
    S.reloadSeq = saved.reloadSeq;
  }
  await switchUser((saved && saved.user) || first.first_user);
  setInterval(refresh, 500);
}

// ---- privacy: the user's report, export and erasure ----------------------

function renderPrivacy(report) {
  $('privacy').replaceChildren(...(report.apps.length ? report.apps.map((a) => {
    const erase = el('button', 'erase', 'Erase its data');
    erase.type = 'button';
    erase.dataset.app = a.app_id;
    const lines = el('ul', 'privacy-lines', null, ...a.lines.map((l) => el('li', null,
      (l.scope ? l.capability + '.' + l.scope : l.capability) + ': ' + l.count + '\u00d7 ('
        + l.allowed + ' allowed, ' + l.denied + ' denied), last ' + when(l.last_at_ms))));
    const li = el('li', 'privacy-app', null, el('strong', null, a.name || a.app_id), ' ', erase, lines);
    li.dataset.app = a.app_id;
    return li;
  }) : [el('li', 'hint', 'No mini-app accessed anything for this user.')]));
}

async function showPrivacy() {
  try {
    renderPrivacy(await post('/v1/me/privacy/report', {}));
  } catch (e) {
    toast(e.message);
  }
}

async function exportPrivacy() {
  try {
    const data = await post('/v1/me/privacy/export', {});
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' });
    const a = el('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'plaza-' + data.user + '.json';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  } catch (e) {
    toast(e.message);
  }
}

function wirePrivacy() {
  $('privacy-report').addEventListener('click', showPrivacy);
  $('privacy-export').addEventListener('click', exportPrivacy);
  $('privacy').addEventListener('click', async (ev) => {
    const b = ev.target instanceof Element ? ev.target.closest('button.erase') : null;
    if (!b) return;
    try {
      await post('/v1/me/privacy/erase', { app: b.dataset.app });
      toast('Erased what ' + b.dataset.app + ' held about you: it now sees a new user.');
    } catch (e) {
      toast(e.message);
    }
    showPrivacy();
    refresh();
  });
}

document.addEventListener('DOMContentLoaded', start);
