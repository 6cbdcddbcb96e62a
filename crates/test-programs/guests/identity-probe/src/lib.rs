//! Expects identity to answer every call as data: pseudonymous ids without consent, each scope after the user's answer.
//!
//! Launch `/<call>` or tap `<call>` answers the page "Identity probe" with
//! the field `<call>` (and, for `login`, `login.expires-at-ms`): the value,
//! or `<kind>: <message>` when the host refused. `/` shows no call. The calls:
//! `openid`, `unionid`, `login`, `profile` (`nickname|avatar-url`), `phone`,
//! `real-name` (`name|id-number|verified`), `location` and `precise-location`
//! (`latitude,longitude,accuracy-m`, six decimals), `insurance-card`
//! (`card-number|holder-name|scheme`). Every page offers every call as a
//! button.

use plaza_sdk::identity::{self, LocationPrecision};
use plaza_sdk::{App, Event, HostError, Page, PageBuilder};

const CALLS: [&str; 9] = [
    "openid",
    "unionid",
    "login",
    "profile",
    "phone",
    "real-name",
    "location",
    "precise-location",
    "insurance-card",
];

#[derive(Default)]
struct Probe;

fn shown<T>(result: Result<T, HostError>, show: impl FnOnce(T) -> String) -> String {
    match result {
        Ok(v) => show(v),
        Err(e) => e.to_string(),
    }
}

fn call(page: PageBuilder, name: &str) -> PageBuilder {
    let location =
        |l: identity::Location| format!("{:.6},{:.6},{:.6}", l.latitude, l.longitude, l.accuracy_m);
    match name {
        "openid" => page.field(name, shown(identity::openid(), |v| v)),
        "unionid" => page.field(name, shown(identity::unionid(), |v| v)),
        "login" => match identity::login() {
            Ok(code) => page
                .field("login", code.code)
                .field("login.expires-at-ms", code.expires_at_ms.to_string()),
            Err(e) => page.field("login", e.to_string()),
        },
        "profile" => page.field(
            name,
            shown(identity::profile(), |p| {
                format!("{}|{}", p.nickname, p.avatar_url)
            }),
        ),
        "phone" => page.field(name, shown(identity::phone(), |v| v)),
        "real-name" => page.field(
            name,
            shown(identity::real_name(), |r| {
                format!("{}|{}|{}", r.name, r.id_number, r.verified)
            }),
        ),
        "location" => page.field(
            name,
            shown(identity::location(LocationPrecision::Coarse), location),
        ),
        "precise-location" => page.field(
            name,
            shown(identity::location(LocationPrecision::Precise), location),
        ),
        "insurance-card" => page.field(
            name,
            shown(identity::insurance_card(), |c| {
                format!("{}|{}|{}", c.card_number, c.holder_name, c.scheme)
            }),
        ),
        other => page.error(format!("unknown call {other}")),
    }
}

impl App for Probe {
    fn handle(&mut self, event: Event) -> Page {
        let which = match &event {
            Event::Launch(l) => l.path.trim_start_matches('/').to_string(),
            Event::Tap(action) => action.clone(),
            _ => String::new(),
        };
        let mut page = Page::builder("Identity probe").replace();
        if !which.is_empty() {
            page = call(page, &which);
        }
        for c in CALLS {
            page = page.button(c, c);
        }
        page.build()
    }
}

plaza_sdk::export_app!(Probe);
