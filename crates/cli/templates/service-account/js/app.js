// {{display_name}}: a public service account on Plaza.
//
// Three ways to reach a citizen's inbox, each with the host's rules: a
// subscription message (the user accepts a template from a tap, then the
// account may send it), a broadcast to the account's followers (at most four a
// month each), and a reply to a user's own message (within 48 hours).
//
// A host call that returns an error throws, with the WIT error in `e.payload`
// (`{ tag: 'limit-exceeded', val: '...' }`); s64 values are BigInts.

import * as messaging from 'plaza:host/messaging@0.1.0';
import { now } from 'plaza:host/clock@0.1.0';
import { write } from 'plaza:host/log@0.1.0';

const REMINDER = 'appointment-reminder';

export const app = {
  handle(event) {
    switch (event.tag) {
      case 'launch':
        return page('{{display_name}}', home());
      case 'tap':
        if (event.val === 'remind') return remind();
        if (event.val === 'bulletin') return bulletin();
        break;
      case 'chat':
        return answer(event.val.text);
    }
    return page('{{display_name}}', home(), 'replace');
  },
};

function home() {
  return [
    text('Opening hours: Monday to Friday, 9:00 to 17:00.'),
    button('Remind me of my appointment', 'remind', 'primary'),
    text('Write to us any time: we answer within two days.'),
    // In a real account, broadcasts come from your staff's tools; this button
    // sends one so that you can see it reach the followers.
    button("Send this week's bulletin to followers", 'bulletin'),
  ];
}

/** Asks the user to accept the reminder template (only from a tap), then sends the first reminder. */
function remind() {
  let answers;
  try {
    answers = messaging.subscribe([REMINDER]);
  } catch (e) {
    return page('Reminders', [notice('error', `Reminders are not available: ${errorText(e)}`)], 'replace');
  }
  const accepted = answers.some((a) => a.templateId === REMINDER && a.answer !== 'rejected');
  if (!accepted) {
    return page('Reminders', [notice('info', 'No reminders then. You can turn them on here any time.')], 'replace');
  }
  const fields = [
    { name: 'service', value: 'Residence permit renewal' },
    { name: 'time', value: tomorrowAtTen() },
  ];
  try {
    messaging.send(REMINDER, fields);
    return page('Reminders', [notice('success', 'Done: your reminder is in your inbox.')], 'replace');
  } catch (e) {
    return page('Reminders', [notice('error', `The reminder was not sent: ${errorText(e)}`)], 'replace');
  }
}

/** Sends the weekly bulletin to every follower of the account. */
function bulletin() {
  try {
    const r = messaging.broadcast('This week at {{display_name}}', 'Passport photos are taken on site from Monday.');
    write('info', `bulletin: ${r.delivered} delivered, ${r.skipped} skipped`);
    return page('Bulletin', [field('Delivered', String(r.delivered)), field('Skipped (monthly quota reached)', String(r.skipped))], 'replace');
  } catch (e) {
    const level = e?.payload?.tag === 'limit-exceeded' ? 'warning' : 'error';
    const why = level === 'warning' ? errorText(e) : `The bulletin was not sent: ${errorText(e)}`;
    return page('Bulletin', [notice(level, why)], 'replace');
  }
}

/** Answers a citizen's message in the conversation. */
function answer(question) {
  const reply = question.toLowerCase().includes('open')
    ? 'We are open Monday to Friday, 9:00 to 17:00.'
    : 'Thank you for your message: a member of staff will answer you here.';
  const blocks = [text(`You: ${question}`)];
  try {
    messaging.reply(reply);
    blocks.push(text(`Us: ${reply}`));
  } catch (e) {
    blocks.push(notice('error', `We could not answer: ${errorText(e)}`));
  }
  return page('Ask us', blocks, 'replace');
}

/** Tomorrow at 10:00 on the host's clock, as `YYYY-MM-DD 10:00`. */
function tomorrowAtTen() {
  const t = now();
  const local = new Date(Number(t.unixMs) + t.utcOffsetMinutes * 60_000 + 86_400_000);
  const two = (n) => String(n).padStart(2, '0');
  return `${local.getUTCFullYear()}-${two(local.getUTCMonth() + 1)}-${two(local.getUTCDate())} 10:00`;
}

function page(title, blocks, navigation = 'push') {
  return { title, blocks, navigation };
}

function text(val) {
  return { tag: 'text', val };
}

function field(label, value) {
  return { tag: 'field', val: { label, value } };
}

function button(label, action, style = 'secondary') {
  return { tag: 'button', val: { label, action, style } };
}

function notice(level, text) {
  return { tag: 'notice', val: { level, text } };
}

/** The message of a host error (`e.payload.val`), or of anything else thrown. */
function errorText(e) {
  return e?.payload?.val ?? String(e);
}
