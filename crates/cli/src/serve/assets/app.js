// The Plaza simulator's page. Everything a mini-app sends is data and is put
// on the page with DOM APIs (createElement, textContent, setAttribute of
// plain attributes), never parsed as HTML: no innerHTML, no inline handlers.
// The server's Content-Security-Policy forbids inline script besides.
'use strict';

const S = {
  pageSeq: -1,
  reloadSeq: null,
  dialogId: null,
  // Dialogs answered here: a poll that left before the answer reached the
  // host must not show one again.
  answered: new Set(),
  panels: '',
  inflight: false,
  lastExpired: 0,
  state: null,
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

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  };
  const r = await fetch(path, init);
  let data;
  try {
    data = await r.json();
  } catch (_) {
    data = { error: 'the simulator answered ' + r.status };
  }
  if (!r.ok) throw new Error(data.error || ('status ' + r.status));
  return data;
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

// Runs a phone action: one at a time; the page updates from the poll.
// Phone actions (`phone`) go one at a time; the host's panels are not held up
// by a mini-app waiting for a dialog.
async function act(path, body, phone = true) {
  if (phone && S.inflight) return;
  if (phone) S.inflight = true;
  try {
    await api(path, body);
  } catch (e) {
    toast(e.message);
  } finally {
    if (phone) S.inflight = false;
    poll();
  }
}

// ---- the phone ----------------------------------------------------------

const INPUT_TYPES = {
  text: 'text', number: 'number', date: 'date', time: 'time', phone: 'tel', email: 'email',
};

function renderBlock(b, forms, screen) {
  switch (b.type) {
    case 'heading': return el('h2', 'mp-heading', b.text);
    case 'text': return el('p', 'mp-text', b.text);
    case 'field': return el('div', 'mp-field', null, el('span', 'mp-label', b.label), el('span', 'mp-value', b.value));
    case 'item': {
      const item = el('div', 'mp-item', null, el('div', 'mp-item-title', b.title));
      if (b.detail) item.append(el('div', 'mp-item-detail', b.detail));
      if (b.action) {
        item.classList.add('tappable');
        item.setAttribute('role', 'button');
        item.tabIndex = 0;
        item.dataset.action = b.action;
      }
      return item;
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
      const id = 'in-' + forms.size + '-' + form.children.length;
      const label = el('label', 'mp-input-label', b.label + (b.required ? ' *' : ''));
      label.htmlFor = id;
      let input;
      if (b.kind === 'multiline') {
        input = el('textarea', 'mp-input');
        input.rows = 3;
      } else {
        input = el('input', 'mp-input');
        input.type = INPUT_TYPES[b.kind] || 'text';
      }
      input.id = id;
      input.name = b.name;
      input.value = b.value;
      input.required = b.required;
      form.append(el('div', 'mp-input-row', null, label, input));
      return placed;
    }
    case 'image': {
      // Only the package's own images, from the simulator: anything else is
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

function renderPage(page, screen) {
  const forms = new Map();
  for (const b of page.blocks) {
    const e = renderBlock(b, forms, screen);
    if (e) screen.append(e);
  }
  for (const [name, form] of forms) {
    const submit = el('button', 'mp-submit', 'Submit');
    submit.type = 'submit';
    form.append(submit);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const fields = [];
      for (const input of form.querySelectorAll('.mp-input')) fields.push([input.name, input.value]);
      act('/api/event', { kind: 'submit', form: name, fields });
    });
  }
}

function renderHome(s, screen) {
  screen.append(el('h2', 'mp-heading', 'Mini-apps'));
  if (s.apps.length === 0) {
    screen.append(el('p', 'mp-text', 'No mini-app is installed: start the simulator with a package or a project directory.'));
  }
  for (const a of s.apps) {
    const tile = el('div', 'app-tile tappable', null,
      el('div', 'mp-item-title', a.name),
      el('div', 'mp-item-detail', a.publisher_name + (a.publisher_verified ? ' \u2713 verified' : ' (unverified)') + ' \u00b7 ' + a.category));
    tile.setAttribute('role', 'button');
    tile.tabIndex = 0;
    tile.dataset.app = a.id;
    screen.append(tile);
  }
}

function renderPhone(s) {
  const screen = $('screen');
  screen.replaceChildren();
  $('status-user').textContent = s.user;
  const open = s.open;
  $('chatbar').hidden = !open;
  $('nav-back').disabled = !open;
  if (!open) {
    $('nav-title').textContent = 'Plaza';
    renderHome(s, screen);
  } else {
    $('nav-title').textContent = open.page ? open.page.title : open.app_name;
    if (open.error) {
      const n = el('div', 'mp-notice level-error host-error', open.error);
      n.id = 'phone-error';
      screen.append(n);
    }
    if (open.page) renderPage(open.page, screen);
  }
  const be = $('build-error');
  be.hidden = !s.build_error;
  be.textContent = s.build_error || '';
  screen.scrollTop = 0;
}

// ---- dialogs ------------------------------------------------------------

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

async function answer(id, ans) {
  S.answered.add(id);
  try {
    await api('/api/prompt', { id, answer: ans });
  } catch (e) {
    S.answered.delete(id);
    toast(e.message);
  }
  // The mini-app may have asked its next question meanwhile, and a poll
  // shown it: only this dialog closes.
  if (S.dialogId === id) {
    $('dialog-layer').hidden = true;
    S.dialogId = null;
  }
  poll();
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
      dialogButton('dialog-allow', 'Allow', 'primary', () => answer(d.id, 'allow')),
      dialogButton('dialog-deny', 'Deny', 'danger', () => answer(d.id, 'deny')),
      dialogButton('dialog-dismiss', 'Not now', 'secondary', () => answer(d.id, 'dismiss'))),
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
      dialogButton('dialog-confirm', 'Pay', 'primary', () => answer(d.id, 'confirm')),
      dialogButton('dialog-decline', 'Decline', 'danger', () => answer(d.id, 'decline')),
      dialogButton('dialog-cancel', 'Cancel', 'secondary', () => answer(d.id, 'cancel'))),
  ];
}

function subscriptionDialog(d) {
  const list = el('div', 'templates');
  const selects = [];
  d.templates.forEach((t, i) => {
    const sel = el('select');
    sel.id = 'dialog-template-' + i;
    sel.append(el('option', null, 'Accept one message'));
    sel.lastChild.value = 'once';
    if (t.long_term) {
      sel.append(el('option', null, 'Always accept'));
      sel.lastChild.value = 'long-term';
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
      dialogButton('dialog-accept', 'OK', 'primary', () => answer(d.id, selects.map((s) => s.value))),
      dialogButton('dialog-reject', 'Refuse all', 'secondary', () => answer(d.id, selects.map(() => 'reject')))),
  ];
}

function renderDialog(s) {
  const d = s.prompts.find((p) => !S.answered.has(p.id));
  const layer = $('dialog-layer');
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
    : d.kind === 'payment' ? paymentDialog(d) : subscriptionDialog(d);
  if (d.user !== s.user) parts.unshift(el('p', 'banner', 'For ' + d.user + ', who is not the user simulated now.'));
  parts.push(el('p', 'hint', 'Waits ' + d.timeout_s + ' s for an answer.'));
  box.replaceChildren(...parts);
  layer.hidden = false;
}

// ---- panels -------------------------------------------------------------

function row(...cells) {
  return el('tr', null, null, ...cells.map((c) => (c instanceof Node ? el('td', null, null, c) : el('td', null, c))));
}

function renderPanels(s) {
  const h = s.host;
  $('user-name').textContent = s.user;
  $('user-real-name').textContent = h.real_name
    ? '(' + h.real_name.name + (h.real_name.verified ? ', verified' : '') + ')' : '(no real name set)';
  const dl = $('user-list');
  dl.replaceChildren(...s.users.map((u) => { const o = el('option'); o.value = u; return o; }));

  $('wallet-balance').textContent = h.wallet.balance;
  $('insurance-card').textContent = h.insurance
    ? 'Insurance: ' + h.insurance.scheme + ' \u00b7\u00b7\u00b7\u00b7' + h.insurance.card_number.slice(-4) + ', '
      + h.insurance.coverage_percent + ' % of eligible items, ' + h.insurance.cap_left + ' of ' + h.insurance.annual_cap + ' left this year'
    : 'No insurance card bound.';
  $('ledger').tBodies[0].replaceChildren(...h.wallet.history.map((e) =>
    row(when(e.at_ms), e.memo || e.kind, e.app || '', e.amount)));

  const unread = h.inbox.filter((m) => !m.read).length;
  $('inbox-unread').textContent = unread ? unread + ' unread' : '';
  $('inbox').replaceChildren(...(h.inbox.length ? h.inbox.map((m) => {
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

  $('grants').replaceChildren(...(h.grants.length ? h.grants.map((g) => {
    const b = el('button', 'revoke', 'Revoke');
    b.type = 'button';
    b.dataset.app = g.app;
    b.dataset.scope = g.scope;
    const li = el('li', 'grant', null,
      el('strong', null, g.app_name), ': ', el('span', 'scope', g.scope), ' ',
      el('span', g.granted ? 'allowed' : 'denied', g.granted ? 'allowed' : 'denied'),
      el('span', 'hint', ' ' + when(g.decided_at_ms) + ' '), b);
    li.dataset.app = g.app;
    li.dataset.scope = g.scope;
    return li;
  }) : [el('li', 'hint', 'No consent decisions.')]));

  $('audit').tBodies[0].replaceChildren(...h.audit.map((a) => {
    const r = row(when(a.at_ms), a.app, a.capability, a.outcome, a.detail);
    r.className = a.outcome;
    return r;
  }));
}

function renderClock(s) {
  const now = when(s.clock.now_ms);
  $('clock-now').textContent = now;
  $('status-clock').textContent = now.slice(11, 16);
  const h = Math.round(s.clock.offset_ms / 3600000);
  $('clock-offset').textContent = h ? '(' + (h >= 24 ? Math.floor(h / 24) + ' d ' + (h % 24) + ' h' : h + ' h') + ' ahead of real time)' : '(real time)';
}

// ---- the loop -----------------------------------------------------------

let polling = false;
async function poll() {
  if (polling) return;
  polling = true;
  try {
    const s = await api('/api/state');
    if (S.reloadSeq !== null && s.reload_seq !== S.reloadSeq) {
      location.reload();
      return;
    }
    S.reloadSeq = s.reload_seq;
    S.state = s;
    if (s.page_seq !== S.pageSeq) {
      S.pageSeq = s.page_seq;
      renderPhone(s);
    }
    $('busy').hidden = !s.busy;
    renderDialog(s);
    const panels = JSON.stringify([s.user, s.users, s.host]);
    if (panels !== S.panels) {
      S.panels = panels;
      renderPanels(s);
    }
    renderClock(s);
    if (s.expired.length > S.lastExpired) {
      const d = s.expired[s.expired.length - 1];
      toast('A ' + d.kind + ' question from ' + d.app_name + ' timed out without an answer.');
    }
    S.lastExpired = s.expired.length;
    document.body.dataset.ready = 'true';
  } catch (e) {
    toast('The simulator is not answering: ' + e.message);
  } finally {
    polling = false;
  }
}

function wire() {
  document.addEventListener('click', (ev) => {
    const t = ev.target instanceof Element ? ev.target : null;
    if (!t) return;
    const action = t.closest('#screen [data-action]');
    if (action) return act('/api/event', { kind: 'tap', action: action.dataset.action });
    const app = t.closest('#screen [data-app]');
    if (app) return act('/api/open', { app: app.dataset.app, path: '/' });
    const revoke = t.closest('button.revoke');
    if (revoke) return act('/api/grants/revoke', { app: revoke.dataset.app, scope: revoke.dataset.scope }, false);
    const read = t.closest('button.mark-read');
    if (read) return act('/api/inbox/read', { id: read.dataset.id }, false);
    const adv = t.closest('button.advance');
    if (adv) return act('/api/clock', { advance_ms: Number(adv.dataset.advance) }, false);
    return undefined;
  });
  document.addEventListener('keydown', (ev) => {
    const t = ev.target instanceof Element ? ev.target.closest('#screen [role=button]') : null;
    if (t && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); t.click(); }
  });
  $('nav-back').addEventListener('click', () => act('/api/event', { kind: 'back' }));
  $('nav-home').addEventListener('click', () => act('/api/home', {}));
  $('chatbar').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = $('chat-text').value;
    if (!text.trim()) return;
    $('chat-text').value = '';
    act('/api/event', { kind: 'chat', text });
  });
  $('user-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act('/api/user', { user: $('user-input').value });
    $('user-input').value = '';
  });
  $('citizen-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act('/api/citizen', { name: $('citizen-name').value }, false);
  });
  $('topup-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    act('/api/wallet/topup', { amount: $('topup-amount').value }, false);
  });
  poll();
  setInterval(poll, 400);
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
    renderPrivacy(await api('/api/privacy/report', {}));
  } catch (e) {
    toast(e.message);
  }
}

async function exportPrivacy() {
  try {
    const data = await api('/api/privacy/export', {});
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
      await api('/api/privacy/erase', { app: b.dataset.app });
      toast('Erased what ' + b.dataset.app + ' held about you: it now sees a new user.');
    } catch (e) {
      toast(e.message);
    }
    showPrivacy();
    poll();
  });
}

document.addEventListener('DOMContentLoaded', wire);
document.addEventListener('DOMContentLoaded', wirePrivacy);
