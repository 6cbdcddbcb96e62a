import { LimitExceeded, errorMessage, page } from '@plaza/sdk';
import type { PageBuilder } from '@plaza/sdk';
import * as storage from '@plaza/sdk/storage';

export function saveDraft(): PageBuilder {
  try {
    storage.setString('draft', 'Dear doctor, ...');
    return page('Saved');
  } catch (e) {
    // A denial is data: show it, or offer another way.
    if (e instanceof LimitExceeded) return page('Too long').notice('error', e.reason);
    return page('Not saved').notice('error', errorMessage(e));
  }
}
