// {{display_name}}: a Plaza mini-app.
//
// The host delivers one event at a time (a launch, a tap, a form submit) and
// shows the page `handle` answers. Module variables live as long as the
// session; what must survive it goes to `storage`.
//
// `@plaza/sdk` is the Plaza SDK (`plaza build` writes it into .plaza/sdk and
// bundles what you import): a page builder, typed host errors, and a module
// per capability plaza.toml declares. How WIT looks here (the types are in
// .plaza/types, made by `plaza build` from plaza.toml): a variant is
// `{ tag, val }`, an enum a string, a record an object with camelCase fields,
// an option a value or `undefined`, u64/s64 a BigInt, list<u8> a Uint8Array;
// a host call that returns an error throws one of the SDK's `HostError`
// classes (`Denied`, `InvalidArgument`, `LimitExceeded`, `NotFound`,
// `Unavailable`).

import { defineApp, errorMessage, fields, page } from '@plaza/sdk';
import type { PageBuilder } from '@plaza/sdk';
import * as storage from '@plaza/sdk/storage';
import * as log from '@plaza/sdk/log';

/** Notes are stored under `note:<number>`; the visit count under `visits`. */
const NOTE_PREFIX = 'note:';

/** Whether this session counted its visit yet (memory of the session). */
let counted = false;

export const pages = defineApp((event) => {
  switch (event.tag) {
    case 'launch':
      if (!counted) {
        counted = true;
        try {
          storage.setJson('visits', readNumber('visits') + 1);
        } catch (e) {
          log.warn(`could not count the visit: ${errorMessage(e)}`);
        }
      }
      return home(page('{{display_name}}'));
    case 'submit': {
      if (event.val.form !== 'note') break;
      const text = (fields(event.val.fields).text ?? '').trim();
      if (!text) return home(page('{{display_name}}').replace().notice('warning', 'Type a note first.'));
      const number = readNumber('next-note') + 1;
      try {
        storage.setString(NOTE_PREFIX + String(number).padStart(6, '0'), text);
        storage.setJson('next-note', number);
        return home(page('{{display_name}}').replace().notice('success', 'Saved your note.'));
      } catch (e) {
        // A denial is data, not a crash: show it (a full quota, say).
        return home(page('{{display_name}}').replace().notice('error', `Your note was not saved: ${errorMessage(e)}`));
      }
    }
    case 'tap':
      if (event.val === 'clear') {
        const keys = storage.keys(NOTE_PREFIX);
        for (const key of keys) storage.remove(key);
        log.info(`cleared ${keys.length} notes`);
        return home(page('{{display_name}}').replace().notice('info', 'Your notes are cleared.'));
      }
      break;
  }
  return home(page('{{display_name}}').replace());
});

/** The home page: the visit count, the notes, a form to add one. */
function home(p: PageBuilder): PageBuilder {
  p.field('Visits', String(readNumber('visits'))).heading('Your notes');
  const keys = storage.keys(NOTE_PREFIX);
  if (keys.length === 0) p.text('No notes yet.');
  for (const key of keys) {
    const note = storage.getString(key);
    if (note !== undefined) p.item(note);
  }
  p.input('note', 'text', 'New note', { required: true });
  if (readNumber('next-note') > 0) p.button('Clear notes', 'clear', 'danger');
  return p;
}

/** A number kept in storage; 0 when absent. */
function readNumber(key: string): number {
  try {
    return storage.getJson<number>(key) ?? 0;
  } catch {
    return 0;
  }
}
