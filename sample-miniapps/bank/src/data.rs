//! The bank's sample records, derived deterministically from the card
//! number (a real account would ask the bank's backend through the network
//! capability): the same card always has the same statement.

use plaza_sdk::clock::LocalTime;

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

/// A card number typed in, as 16 digits without spaces, if it is one.
pub fn normalise_card(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (digits.len() == 16 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The card as shown: `···· 4567`.
pub fn masked(card: &str) -> String {
    format!("···· {}", &card[card.len() - 4..])
}

/// Where the card was used, and a typical amount in fen.
const MERCHANTS: [(&str, u64); 8] = [
    ("Hema Fresh, Binjiang", 18_000),
    ("China Railway 12306", 30_000),
    ("Didi ride", 4_000),
    ("Starbucks, West Lake", 7_000),
    ("JD.com", 40_000),
    ("Sinopec filling station", 35_000),
    ("Intime department store", 50_000),
    ("Luckin Coffee", 3_000),
];

/// A month's credit-card statement.
pub struct Statement {
    /// The statement month, `YYYYMM`, and as shown, such as `Oct 2026`.
    pub period: String,
    pub period_label: String,
    /// The due date, such as `Wed 25 Nov 2026`.
    pub due: String,
    /// The due date as `YYYY-MM-DD`.
    pub due_day: String,
    /// (date, merchant, amount in fen).
    pub lines: Vec<(String, &'static str, u64)>,
    pub total_fen: u64,
    pub minimum_fen: u64,
}

/// Last month's statement (on the host's clock) of `card`, due on the 25th
/// of this month.
pub fn statement(card: &str, today: &LocalTime) -> Statement {
    let (year, month) = if today.month == 1 {
        (today.year - 1, 12)
    } else {
        (today.year, today.month - 1)
    };
    let period = format!("{year:04}{month:02}");
    // The same card has the same spending every month.
    let h = hash(card);
    let count = 3 + h % 3;
    let lines: Vec<_> = (0..count)
        .map(|i| {
            let h = h.rotate_left(13 * i as u32 + 5);
            let (merchant, base) = MERCHANTS[(h % 8) as usize];
            let amount = base / 2 + h / 8 % base;
            let day = 1 + (i * 9 + h / 1000 % 9) % 28;
            (format!("{year:04}-{month:02}-{day:02}"), merchant, amount)
        })
        .collect();
    let total_fen: u64 = lines.iter().map(|l| l.2).sum();
    let due = due_date(today);
    Statement {
        period,
        period_label: format!("{} {year}", MONTHS[usize::from(month - 1)]),
        due: format!(
            "{} {} {} {}",
            due.weekday_name(),
            due.day,
            MONTHS[usize::from(due.month - 1)],
            due.year
        ),
        due_day: format!("{:04}-{:02}-{:02}", due.year, due.month, due.day),
        lines,
        minimum_fen: total_fen / 10,
        total_fen,
    }
}

/// The 25th of `today`'s month.
fn due_date(today: &LocalTime) -> LocalTime {
    let today_ms = local_midnight_ms(today.year, today.month, today.day);
    let due_ms = today_ms + (25 - i64::from(today.day)) * plaza_sdk::clock::DAY_MS;
    LocalTime::from_unix_ms(due_ms, 0)
}

/// Days since the epoch of a date, in ms, counted as UTC.
fn local_midnight_ms(year: i32, month: u8, day: u8) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) * plaza_sdk::clock::DAY_MS
}

/// Exchange rates: (code, name, the bank buys, the bank sells), in CNY per
/// 100 units, in fen.
pub const RATES: [(&str, &str, u64, u64); 6] = [
    ("USD", "US dollar", 70_950, 71_250),
    ("EUR", "Euro", 82_310, 82_910),
    ("JPY", "Japanese yen", 469, 473),
    ("HKD", "Hong Kong dollar", 9_118, 9_154),
    ("GBP", "Pound sterling", 94_020, 94_710),
    ("KRW", "Korean won", 51, 53),
];

/// A branch of the bank.
pub struct Branch {
    pub id: &'static str,
    pub name: &'static str,
    pub address: &'static str,
}

pub const BRANCHES: [Branch; 3] = [
    Branch {
        id: "wulin",
        name: "Wulin Branch",
        address: "88 Yan'an Rd, Gongshu District",
    },
    Branch {
        id: "binjiang",
        name: "Binjiang Branch",
        address: "1 Jianghan Rd, Binjiang District",
    },
    Branch {
        id: "xixi",
        name: "Xixi Branch",
        address: "518 Wenyi West Rd, Xihu District",
    },
];

pub fn branch(id: &str) -> Option<&'static Branch> {
    BRANCHES.iter().find(|b| b.id == id)
}

/// The times a branch takes appointments, each working day.
pub const VISIT_TIMES: [(u8, u8); 3] = [(9, 30), (11, 0), (14, 30)];
