import * as log from '@plaza/sdk/log';

export function booked(): void {
  log.info('booking B0001 confirmed');
  log.warn('no free time in the next three days');
}
