// Messages to the user's inbox in the host (`[capabilities.messaging]`):
// subscription messages with the manifest's templates, broadcasts to the
// account's followers, replies in a conversation. A host error throws a
// typed exception (`LimitExceeded` for a spent monthly broadcast quota).

import * as messaging from 'plaza:host/messaging@0.1.1';
import type { BroadcastResult, SubscriptionResult } from 'plaza:host/messaging@0.1.1';
import { hostCall } from './errors';
import { fieldList } from './index';

export type {
  BroadcastResult,
  SubscriptionAnswer,
  SubscriptionResult,
} from 'plaza:host/messaging@0.1.1';

/** Asks the user to accept the templates (while handling a tap); the answer for each. */
export function subscribe(templateIds: string[]): SubscriptionResult[] {
  return hostCall(() => messaging.subscribe(templateIds));
}

/** Whether the user accepted `templateId` in `answers` (once or long-term). */
export function accepted(answers: SubscriptionResult[], templateId: string): boolean {
  return answers.some((a) => a.templateId === templateId && a.answer !== 'rejected');
}

/** Sends the current user a message with an accepted template, name → value for each field. Returns the message id. */
export function send(templateId: string, fields: Record<string, string>): string {
  return hostCall(() => messaging.send(templateId, fieldList(fields)));
}

/** Sends a message to every follower of the publisher's account. */
export function broadcast(title: string, text: string): BroadcastResult {
  return hostCall(() => messaging.broadcast(title, text));
}

/** Replies in the current user's conversation (within 48 hours of the user's message). Returns the message id. */
export function reply(text: string): string {
  return hostCall(() => messaging.reply(text));
}
