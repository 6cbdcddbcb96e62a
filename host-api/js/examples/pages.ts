import { defineApp, fields, page } from '@plaza/sdk';

let taps = 0;

export const pages = defineApp((event) => {
  if (event.tag === 'tap' && event.val === 'tap') taps += 1;
  if (event.tag === 'submit') {
    // The host checked every value against its input before this point.
    const { currency, amount } = fields(event.val.fields);
    return page('Exchange').replace().field('Buying', `${amount} ${currency}`);
  }
  return page('Counter')
    .field('Taps', String(taps))
    .button('Tap me', 'tap', 'primary')
    .choice('fx', 'currency', 'Currency', [['USD', 'US dollar'], ['EUR', 'Euro']], { value: 'USD', required: true })
    .input('fx', 'amount', 'Amount', { kind: 'number', required: true, min: '1', max: '50000' })
    .section('Rates', [{ title: 'US dollar', trailing: '7.12' }, { title: 'Euro', trailing: '7.68' }], { loadMore: 'more-rates' })
    .refreshable()
    .replace();
});
