//! The city's records, asked of the agency backend over the network
//! capability (`[capabilities.network]` in plaza.toml): the traffic police's
//! violations and the utilities' bills. Answers are text, one record a line,
//! fields separated by tabs (see `crates/agency-backend`).
//!
//! Where the backend is and the key it wants are the host operator's
//! settings, not the package's: `agency-origin` (the manifest's default is
//! the demo's backend, and the network origin names this setting) and the
//! secret `agency-api-key`, sent as `authorization: Bearer KEY`. Pointing the
//! mini-app at another backend is a change of setting, not a new package.

use crate::data::{Bill, MONTHS, Utility, Violation};
use plaza_sdk::clock::LocalTime;
use plaza_sdk::{HostError, config, http, identity};

/// The setting naming the agency backend's origin.
pub const ORIGIN_SETTING: &str = "agency-origin";
/// The secret setting holding the key the agency backend checks.
pub const KEY_SETTING: &str = "agency-api-key";

/// Why the records could not be had: a sentence for the citizen's notice.
pub struct Unreachable(pub String);

fn fetch(path: &str) -> Result<String, Unreachable> {
    send(path, None)
}

/// Registers `fields` with the city's back office at `path` (`name=value`
/// lines), with a fresh login code the back office exchanges for the
/// citizen's openid through the host's publisher API.
pub fn register(path: &str, fields: &[(&str, &str)]) -> Result<String, Unreachable> {
    let code = identity::login().map_err(|e| Unreachable(format!("no login code ({e})")))?;
    let mut body = format!("code={}\n", code.code);
    for (name, value) in fields {
        body.push_str(&format!("{name}={}\n", value.replace(['\r', '\n'], " ")));
    }
    send(path, Some(body))
}

/// A GET, or a POST of `body`, to the agency backend.
fn send(path: &str, body: Option<String>) -> Result<String, Unreachable> {
    let origin = config::get(ORIGIN_SETTING)
        .map_err(|e| Unreachable(format!("the records service is not configured ({e})")))?;
    let mut request = match body {
        None => http::Request::get(format!("{origin}{path}")),
        Some(body) => http::Request::post(format!("{origin}{path}"), body)
            .header("content-type", "text/plain; charset=utf-8"),
    };
    match config::get(KEY_SETTING) {
        Ok(key) => request = request.header("authorization", format!("Bearer {key}")),
        // No key set: a backend that wants one answers 401, said below.
        Err(HostError::NotFound(_)) => {}
        Err(e) => {
            return Err(Unreachable(format!(
                "the records service's key cannot be read ({e})"
            )));
        }
    }
    let response = http::send(&request).map_err(|e| Unreachable(e.to_string()))?;
    if response.status != 200 {
        return Err(Unreachable(format!(
            "the records service answered {}: {}",
            response.status,
            response.text().trim()
        )));
    }
    Ok(response.text())
}

fn malformed(line: &str) -> Unreachable {
    Unreachable(format!(
        "the records service sent a malformed record: {line}"
    ))
}

/// The violations recorded against `plate` (normalised).
pub fn violations(plate: &str) -> Result<Vec<Violation>, Unreachable> {
    let text = fetch(&format!("/violations?plate={plate}"))?;
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let [number, what, fine, points, place, date] = f[..] else {
                return Err(malformed(line));
            };
            Ok(Violation {
                number: number.to_string(),
                what: what.to_string(),
                fine_fen: fine.parse().map_err(|_| malformed(line))?,
                points: points.parse().map_err(|_| malformed(line))?,
                place: place.to_string(),
                date: date.to_string(),
            })
        })
        .collect()
}

/// Last month's bill (on the host's clock) of `account`.
pub fn bill(
    utility: &'static Utility,
    account: &str,
    today: &LocalTime,
) -> Result<Bill, Unreachable> {
    let (year, month) = if today.month == 1 {
        (today.year - 1, 12)
    } else {
        (today.year, today.month - 1)
    };
    let period = format!("{year:04}{month:02}");
    let text = fetch(&format!(
        "/bill?utility={}&account={account}&period={period}",
        utility.id
    ))?;
    let line = text.lines().next().unwrap_or("");
    let f: Vec<&str> = line.split('\t').collect();
    let [holder, usage, price, amount] = f[..] else {
        return Err(malformed(line));
    };
    Ok(Bill {
        utility,
        account: account.to_string(),
        holder: holder.to_string(),
        period,
        period_label: format!("{} {year}", MONTHS[usize::from(month - 1)]),
        usage: usage.parse().map_err(|_| malformed(line))?,
        unit_price_fen: price.parse().map_err(|_| malformed(line))?,
        amount_fen: amount.parse().map_err(|_| malformed(line))?,
    })
}
