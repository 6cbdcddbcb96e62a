import * as clock from '@plaza/sdk/clock';

export function shown(): string {
  const now = clock.now(); // { unixMs: bigint, utcOffsetMinutes: number }
  const tomorrow = clock.localDate(clock.addDays(now, 1));
  return `${clock.localDate(now)} ${clock.localTime(now)} (tomorrow: ${tomorrow})`;
}
