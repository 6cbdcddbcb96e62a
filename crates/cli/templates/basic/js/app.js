// {{display_name}}: a Plaza mini-app.
//
// The host delivers one event at a time (a launch, a tap, a form submit) and
// shows the page `handle` answers. Module variables live as long as the
// session; what must survive it goes to `storage`.
//
// How WIT looks here (jco): a variant is `{ tag, val }`, an enum a string, a
// record an object with camelCase fields, an option a value or `undefined`,
// u64/s64 a BigInt, list<u8> a Uint8Array; a host call that returns an error
// throws, with the WIT error in `e.payload` (`{ tag: 'denied', val: '...' }`).

import * as storage from 'plaza:host/storage@0.1.0';
import { write } from 'plaza:host/log@0.1.0';

/** Notes are stored under `note:<number>`; the visit count under `visits`. */
const NOTE_PREFIX = 'note:';

/** Whether this session counted its visit yet (memory of the session). */
let counted = false;

export const app = {
  handle(event) {
    switch (event.tag) {
      case 'launch':
        if (!counted) {
          counted = true;
          try {
            storage.set('visits', encode(String(readNumber('visits') + 1)));
          } catch (e) {
            write('warn', `could not count the visit: ${errorText(e)}`);
          }
        }
        return page(home());
      case 'submit': {
        if (event.val.form !== 'note') break;
        const text = (event.val.fields.find((f) => f.name === 'text')?.value ?? '').trim();
        if (!text) return page(home(notice('warning', 'Type a note first.')), 'replace');
        const number = readNumber('next-note') + 1;
        try {
          storage.set(NOTE_PREFIX + String(number).padStart(6, '0'), encode(text));
          storage.set('next-note', encode(String(number)));
          return page(home(notice('success', 'Saved your note.')), 'replace');
        } catch (e) {
          // A denial is data, not a crash: show it (a full quota, say).
          return page(home(notice('error', `Your note was not saved: ${errorText(e)}`)), 'replace');
        }
      }
      case 'tap':
        if (event.val === 'clear') {
          const keys = storage.listKeys(NOTE_PREFIX, 1000);
          for (const key of keys) storage.delete(key);
          write('info', `cleared ${keys.length} notes`);
          return page(home(notice('info', 'Your notes are cleared.')), 'replace');
        }
        break;
    }
    return page(home(), 'replace');
  },
};

/** The home page's blocks: the visit count, the notes, a form to add one. */
function home(...first) {
  const blocks = [...first, { tag: 'field', val: { label: 'Visits', value: String(readNumber('visits')) } }];
  blocks.push({ tag: 'heading', val: 'Your notes' });
  const keys = storage.listKeys(NOTE_PREFIX, 1000);
  if (keys.length === 0) blocks.push({ tag: 'text', val: 'No notes yet.' });
  for (const key of keys) {
    const value = storage.get(key);
    if (value) blocks.push({ tag: 'item', val: { title: decode(value), detail: '', action: undefined } });
  }
  blocks.push({
    tag: 'input',
    val: { form: 'note', name: 'text', kind: 'text', label: 'New note', value: '', required: true },
  });
  if (readNumber('next-note') > 0) {
    blocks.push({ tag: 'button', val: { label: 'Clear notes', action: 'clear', style: 'danger' } });
  }
  return blocks;
}

function page(blocks, navigation = 'push') {
  return { title: '{{display_name}}', blocks, navigation };
}

function notice(level, text) {
  return { tag: 'notice', val: { level, text } };
}

/** A number kept in storage as text; 0 when absent. */
function readNumber(key) {
  try {
    const value = storage.get(key);
    return value ? Number.parseInt(decode(value), 10) || 0 : 0;
  } catch {
    return 0;
  }
}

/** The message of a host error (`e.payload.val`), or of anything else thrown. */
function errorText(e) {
  return e?.payload?.val ?? String(e);
}

function encode(text) {
  return new TextEncoder().encode(text);
}

function decode(bytes) {
  return new TextDecoder().decode(bytes);
}
