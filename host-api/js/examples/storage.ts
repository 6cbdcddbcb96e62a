import * as storage from '@plaza/sdk/storage';

export function greet(): string {
  storage.setString('greeting', 'hello');
  storage.setJson('visits', { count: 1, last: '2026-12-03' });
  const visits = storage.getJson<{ count: number }>('visits')?.count ?? 0;
  const { usedBytes, quotaBytes } = storage.usage(); // u64: BigInts
  return `${storage.getString('greeting')}: ${visits} visits, ${usedBytes} of ${quotaBytes} bytes used`;
}
