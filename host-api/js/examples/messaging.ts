import * as messaging from '@plaza/sdk/messaging';

export function remind(): void {
  // While handling a tap: ask the user to accept a template of the manifest ...
  const answers = messaging.subscribe(['appointment-reminder']);
  if (messaging.accepted(answers, 'appointment-reminder')) {
    // ... then send a message with it, filling every field it declares.
    messaging.send('appointment-reminder', { doctor: 'Dr. Chen Li', time: '2026-11-22 10:00' });
  }
  // To every follower of the account: at most four a month each.
  messaging.broadcast('Sunday clinic', 'We are open this Sunday.');
  // In a conversation, within 48 hours of the user's last message.
  messaging.reply('The doctor will call you back today.');
}
