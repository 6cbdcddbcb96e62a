// {{display_name}}: a public service account on Plaza.
//
// Three ways to reach a citizen's inbox, each with the host's rules: a
// subscription message (the user accepts a template from a tap, then the
// account may send it), a broadcast to the account's followers (at most four a
// month each), and a reply to a user's own message (within 48 hours).
//
// A host call that returns an error throws one of the SDK's typed exceptions
// (`LimitExceeded` when the month's broadcasts are spent, ...); s64 values
// are BigInts.

import { defineApp, errorMessage, LimitExceeded, page } from '@plaza/sdk';
import * as messaging from '@plaza/sdk/messaging';
import * as clock from '@plaza/sdk/clock';
import * as log from '@plaza/sdk/log';

const REMINDER = 'appointment-reminder';

export const pages = defineApp((event) => {
  switch (event.tag) {
    case 'launch':
      return home(page('{{display_name}}'));
    case 'tap':
      if (event.val === 'remind') return remind();
      if (event.val === 'bulletin') return bulletin();
      break;
    case 'chat':
      return answer(event.val.text);
  }
  return home(page('{{display_name}}').replace());
});

function home(p) {
  return (
    p
      .text('Opening hours: Monday to Friday, 9:00 to 17:00.')
      .button('Remind me of my appointment', 'remind', 'primary')
      .text('Write to us any time: we answer within two days.')
      // In a real account, broadcasts come from your staff's tools; this
      // button sends one so that you can see it reach the followers.
      .button("Send this week's bulletin to followers", 'bulletin')
  );
}

/** Asks the user to accept the reminder template (only from a tap), then sends the first reminder. */
function remind() {
  const p = page('Reminders').replace();
  let answers;
  try {
    answers = messaging.subscribe([REMINDER]);
  } catch (e) {
    return p.notice('error', `Reminders are not available: ${errorMessage(e)}`);
  }
  if (!messaging.accepted(answers, REMINDER)) {
    return p.notice('info', 'No reminders then. You can turn them on here any time.');
  }
  // Tomorrow at 10:00 on the host's clock.
  const time = `${clock.localDate(clock.addDays(clock.now(), 1))} 10:00`;
  try {
    messaging.send(REMINDER, { service: 'Residence permit renewal', time });
    return p.notice('success', 'Done: your reminder is in your inbox.');
  } catch (e) {
    return p.notice('error', `The reminder was not sent: ${errorMessage(e)}`);
  }
}

/** Sends the weekly bulletin to every follower of the account. */
function bulletin() {
  const p = page('Bulletin').replace();
  try {
    const r = messaging.broadcast('This week at {{display_name}}', 'Passport photos are taken on site from Monday.');
    log.info(`bulletin: ${r.delivered} delivered, ${r.skipped} skipped`);
    return p.field('Delivered', String(r.delivered)).field('Skipped (monthly quota reached)', String(r.skipped));
  } catch (e) {
    if (e instanceof LimitExceeded) return p.notice('warning', e.reason);
    return p.notice('error', `The bulletin was not sent: ${errorMessage(e)}`);
  }
}

/** Answers a citizen's message in the conversation. */
function answer(question) {
  const reply = question.toLowerCase().includes('open')
    ? 'We are open Monday to Friday, 9:00 to 17:00.'
    : 'Thank you for your message: a member of staff will answer you here.';
  const p = page('Ask us').replace().text(`You: ${question}`);
  try {
    messaging.reply(reply);
    return p.text(`Us: ${reply}`);
  } catch (e) {
    return p.notice('error', `We could not answer: ${errorMessage(e)}`);
  }
}
