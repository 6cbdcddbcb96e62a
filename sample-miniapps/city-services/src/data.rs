//! The city's records: violations and bills as the agency backend sends them
//! (`backend.rs`), and the permit statuses, derived deterministically from
//! the number typed in: the same number always shows the same status.

use plaza_sdk::clock::{DAY_MS, LocalTime};

/// Months, as shown to citizens.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Hangzhou's offset from UTC, in minutes.
pub const UTC_OFFSET: i32 = 480;

/// An amount in fen as `CNY 200.00`.
pub fn money(fen: u64) -> String {
    format!("CNY {}.{:02}", fen / 100, fen % 100)
}

/// A stable hash of a number typed in: FNV-1a, then MurmurHash3's
/// finaliser, so that every bit depends on every character.
pub fn hash(text: &str) -> u64 {
    let h = text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let h = (h ^ (h >> 33)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    let h = (h ^ (h >> 33)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// A local date as `Sun 22 Nov 2026`.
pub fn date_label(t: &LocalTime) -> String {
    format!(
        "{} {} {} {}",
        t.weekday_name(),
        t.day,
        MONTHS[usize::from(t.month - 1)],
        t.year
    )
}

/// The Unix time (ms) of a local date and time in Hangzhou.
pub fn local_ms(year: i32, month: u8, day: u8, hour: u8) -> i64 {
    // Howard Hinnant's `days_from_civil`.
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * DAY_MS + i64::from(hour) * 3_600_000 - i64::from(UTC_OFFSET) * 60_000
}

/// What a plate looks like, checked by the host before the form reaches
/// the mini-app: two letters (the province and the city), then five or six
/// letters and digits, in either case, with spaces, dots or dashes between
/// them as people write them.
pub const PLATE_PATTERN: &str = r"(?i)[A-Z]\s*[A-Z](?:[\s.·\-]*[A-Z0-9]){5,6}\s*";

/// What the user is told a plate looks like when one does not.
pub const PLATE_HINT: &str = "a plate such as ZA12345: two letters, then 5 or 6 letters and digits";

/// A plate as the city writes it: upper case, without spaces, dots or
/// dashes; `None` unless it is 5 to 10 letters and digits ending in a digit
/// or letter.
pub fn normalise_plate(text: &str) -> Option<String> {
    let plate: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '·' | '-' | '.'))
        .flat_map(char::to_uppercase)
        .collect();
    let n = plate.chars().count();
    ((5..=10).contains(&n) && plate.chars().all(char::is_alphanumeric)).then_some(plate)
}

/// One traffic violation recorded against a plate.
pub struct Violation {
    /// The decision number, such as `F4821930`: also the fine's order id.
    pub number: String,
    /// The offence.
    pub what: String,
    /// The fine, in fen.
    pub fine_fen: u64,
    /// Penalty points.
    pub points: u8,
    pub place: String,
    /// The day it was recorded, such as `2026-10-14`.
    pub date: String,
}

/// A utility: water, electricity or gas.
pub struct Utility {
    /// `water`, `electricity` or `gas`.
    pub id: &'static str,
    /// The page title, such as "Water bill".
    pub name: &'static str,
    /// Who supplies it.
    pub company: &'static str,
    /// The unit of use, such as `m³`.
    pub unit: &'static str,
}

pub const UTILITIES: [Utility; 3] = [
    Utility {
        id: "water",
        name: "Water bill",
        company: "Hangzhou Water Group",
        unit: "m³",
    },
    Utility {
        id: "electricity",
        name: "Electricity bill",
        company: "State Grid Hangzhou",
        unit: "kWh",
    },
    Utility {
        id: "gas",
        name: "Gas bill",
        company: "Hangzhou Gas",
        unit: "m³",
    },
];

pub fn utility(id: &str) -> Option<&'static Utility> {
    UTILITIES.iter().find(|u| u.id == id)
}

/// Account numbers are 8 to 12 digits.
pub fn valid_account(account: &str) -> bool {
    (8..=12).contains(&account.len()) && account.bytes().all(|b| b.is_ascii_digit())
}

/// A month's bill of one account.
pub struct Bill {
    pub utility: &'static Utility,
    pub account: String,
    /// The household, partly masked, such as `Wang *`.
    pub holder: String,
    /// The billing month, `YYYYMM`, and as shown, such as `Oct 2026`.
    pub period: String,
    pub period_label: String,
    pub usage: u64,
    /// The price of one unit, in fen.
    pub unit_price_fen: u64,
    pub amount_fen: u64,
}

impl Bill {
    /// The order id of paying this bill: paying twice is the same order.
    pub fn order_id(&self) -> String {
        format!("{}-{}-{}", self.utility.id, self.account, self.period)
    }
}

/// An entry-exit permit application.
pub struct Permit {
    pub number: String,
    pub kind: &'static str,
    pub submitted: String,
    pub status: &'static str,
    pub next: &'static str,
}

const STATUSES: [(&str, &str); 5] = [
    (
        "Accepted",
        "The application is with the exit-entry administration.",
    ),
    ("Under review", "Reviews take up to 7 working days."),
    ("Approved, being made", "The document is being printed."),
    (
        "Ready for collection",
        "Collect it at the Hangzhou Citizen Centre with your ID card.",
    ),
    ("Posted", "The document is on its way by EMS."),
];

/// The status of permit application `number` (a letter and 8 digits), if it
/// is one.
pub fn permit(number: &str) -> Option<Permit> {
    let number = number.trim().to_uppercase();
    let mut chars = number.chars();
    let first = chars.next()?;
    if number.len() != 9 || !first.is_ascii_alphabetic() || !chars.all(|c| c.is_ascii_digit()) {
        return None;
    }
    let kind = match first {
        'C' => "Exit-entry permit for Hong Kong and Macao",
        'L' => "Exit-entry permit for Taiwan",
        'E' | 'G' => "Passport",
        _ => "Exit-entry permit",
    };
    let h = hash(&number);
    let (status, next) = STATUSES[(h % 5) as usize];
    Some(Permit {
        kind,
        submitted: format!("2026-11-{:02}", 1 + h / 5 % 18),
        status,
        next,
        number,
    })
}
