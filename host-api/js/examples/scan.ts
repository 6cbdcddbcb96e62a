import { page } from '@plaza/sdk';
import * as scan from '@plaza/sdk/scan';

// plaza.toml: [capabilities.scan]
export function onTapScan() {
  try {
    const code = scan.scanCode("The QR code at the clinic's door", ['qr']);
    return page('Scanned').field('Code', code.text).field('Kind', code.kind);
  } catch (e) {
    if (e instanceof scan.ScanCancelled) return page('Check-in').text('No code was scanned.');
    throw e;
  }
}
