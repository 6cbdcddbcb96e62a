//! The bank's back office, over the network capability: a card whose
//! customer accepted the "repayment due" reminders is registered with it,
//! with the statement's amount and due date and a fresh login code the back
//! office exchanges for the customer's openid through the host's publisher
//! API. The back office sends the reminder three days before the due date
//! (`crates/agency-backend`).
//!
//! Where it is, is the operator's setting `backend-origin` (the manifest's
//! default is the demo's back-end on loopback). Bodies are `name=value`
//! lines.

use plaza_sdk::{config, http, identity};

/// The setting naming the back office's origin.
pub const ORIGIN_SETTING: &str = "backend-origin";

/// Posts `fields` to the back office's `path`, with a login code; the back
/// office's answer, or why it could not be had.
pub fn register(path: &str, fields: &[(&str, &str)]) -> Result<String, String> {
    let origin = config::get(ORIGIN_SETTING)
        .map_err(|e| format!("the bank's back office is not configured ({e})"))?;
    let code = identity::login().map_err(|e| format!("no login code ({e})"))?;
    let mut body = format!("code={}\n", code.code);
    for (name, value) in fields {
        body.push_str(&format!("{name}={}\n", value.replace(['\r', '\n'], " ")));
    }
    let request = http::Request::post(format!("{origin}{path}"), body)
        .header("content-type", "text/plain; charset=utf-8");
    let response = http::send(&request).map_err(|e| e.to_string())?;
    if response.status != 200 {
        return Err(format!(
            "the back office answered {}: {}",
            response.status,
            response.text().trim()
        ));
    }
    Ok(response.text())
}
