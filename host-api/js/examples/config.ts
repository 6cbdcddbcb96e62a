import * as config from '@plaza/sdk/config';

// plaza.toml:
//   [[settings]]
//   name = "agency-origin"
//   default = "https://agency.example.gov.cn"
//   [[settings]]
//   name = "agency-api-key"
//   secret = true
export function agency(): [string, string] {
  return [config.get('agency-origin'), config.getOr('agency-api-key', '')];
}
