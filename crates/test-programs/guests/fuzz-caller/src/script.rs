//! The fuzz-caller's call script: a sequence of host calls with their
//! arguments, written as one line of text so that it fits in a launch query
//! parameter or a form field.
//!
//! Shared, as source, by the guest (which decodes it), the `host_calls` fuzz
//! target and the integration tests (which encode it): plain `std`, no
//! dependencies, so it compiles for `wasm32-wasip2` and for the host.
//!
//! Calls are separated by `;`, tokens by a space. Each call is its name, then
//! its arguments: numbers in decimal, `0`/`1` for booleans, strings as `x`
//! followed by the hex of their UTF-8 bytes (so `x` alone is the empty string
//! and no argument can contain a separator), an optional string as `-` for
//! none, and a list as its length followed by its elements.
//!
//! ```text
//! set x6b 7 3;get x6b          -- set "k" to [7, 7, 7], then read it
//! ```
//!
//! The guest answers each call with one field (see the guest's doc comment);
//! [`money_moved`] reads the fields that say money moved.

// The guest and the host each use a part of this module.
#![allow(dead_code)]

/// The most calls one script may make; the rest are refused, so a page
/// stays far below the host's page cap.
pub const MAX_CALLS: usize = 64;
/// The longest value a `set` writes: over the host's 1 MiB cap, to reach
/// the limit's error.
pub const MAX_SET_BYTES: u32 = 2 * 1024 * 1024;

/// One line of a bill, as the payment interface's `line-item`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// What is charged.
    pub name: String,
    /// How many.
    pub quantity: u32,
    /// The price of one, in minor units.
    pub unit_price: u64,
    /// Whether insurance may pay for it.
    pub insurance_eligible: bool,
}

/// One host call with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    /// `storage.get(key)`.
    Get { key: String },
    /// `storage.set(key, [fill; len])`: the value is `len` bytes of `fill`
    /// (at most [`MAX_SET_BYTES`]).
    Set { key: String, fill: u8, len: u32 },
    /// `storage.delete(key)`.
    Delete { key: String },
    /// `storage.list-keys(prefix, limit)`.
    List { prefix: String, limit: u32 },
    /// `storage.get-usage()`.
    Usage,
    /// `log.write(level, message)`, the level taken modulo 5 (trace ... error).
    Log { level: u8, message: String },
    /// `clock.now()`.
    Now,
    /// `identity.openid()`.
    Openid,
    /// `identity.unionid()`.
    Unionid,
    /// `identity.login()`.
    Login,
    /// `identity.profile()`.
    Profile,
    /// `identity.phone()`.
    Phone,
    /// `identity.real-name()`.
    RealName,
    /// `identity.location(precise or coarse)`.
    Location { precise: bool },
    /// `identity.insurance-card()`.
    InsuranceCard,
    /// `payment.request(...)`.
    Pay {
        order: String,
        amount: u64,
        currency: String,
        description: String,
        items: Vec<Item>,
    },
    /// `payment.refund(order, amount, reason)`.
    Refund {
        order: String,
        amount: u64,
        reason: String,
    },
    /// `payment.query(order)`.
    Query { order: String },
    /// `payment.history(cursor, limit)`.
    History { cursor: Option<String>, limit: u32 },
    /// `messaging.subscribe(templates)`.
    Subscribe { templates: Vec<String> },
    /// `messaging.send(template, fields)`.
    Send {
        template: String,
        fields: Vec<(String, String)>,
    },
    /// `messaging.broadcast(title, text)`.
    Broadcast { title: String, text: String },
    /// `messaging.reply(text)`.
    Reply { text: String },
}

impl Call {
    /// The call's name in a script, also the label of its result field.
    pub fn name(&self) -> &'static str {
        match self {
            Call::Get { .. } => "get",
            Call::Set { .. } => "set",
            Call::Delete { .. } => "delete",
            Call::List { .. } => "list",
            Call::Usage => "usage",
            Call::Log { .. } => "log",
            Call::Now => "now",
            Call::Openid => "openid",
            Call::Unionid => "unionid",
            Call::Login => "login",
            Call::Profile => "profile",
            Call::Phone => "phone",
            Call::RealName => "real-name",
            Call::Location { .. } => "location",
            Call::InsuranceCard => "insurance-card",
            Call::Pay { .. } => "pay",
            Call::Refund { .. } => "refund",
            Call::Query { .. } => "query",
            Call::History { .. } => "history",
            Call::Subscribe { .. } => "subscribe",
            Call::Send { .. } => "send",
            Call::Broadcast { .. } => "broadcast",
            Call::Reply { .. } => "reply",
        }
    }
}

/// Writes a script.
pub fn encode(calls: &[Call]) -> String {
    let mut out = String::new();
    for (i, call) in calls.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(call.name());
        let mut w = Writer(&mut out);
        match call {
            Call::Get { key } | Call::Delete { key } => w.string(key),
            Call::Set { key, fill, len } => {
                w.string(key);
                w.number(*fill as u64);
                w.number(*len as u64);
            }
            Call::List { prefix, limit } => {
                w.string(prefix);
                w.number(*limit as u64);
            }
            Call::Log { level, message } => {
                w.number(*level as u64);
                w.string(message);
            }
            Call::Location { precise } => w.number(*precise as u64),
            Call::Pay {
                order,
                amount,
                currency,
                description,
                items,
            } => {
                w.string(order);
                w.number(*amount);
                w.string(currency);
                w.string(description);
                w.number(items.len() as u64);
                for item in items {
                    w.string(&item.name);
                    w.number(item.quantity as u64);
                    w.number(item.unit_price);
                    w.number(item.insurance_eligible as u64);
                }
            }
            Call::Refund {
                order,
                amount,
                reason,
            } => {
                w.string(order);
                w.number(*amount);
                w.string(reason);
            }
            Call::Query { order } => w.string(order),
            Call::History { cursor, limit } => {
                match cursor {
                    None => w.token("-"),
                    Some(c) => w.string(c),
                }
                w.number(*limit as u64);
            }
            Call::Subscribe { templates } => {
                w.number(templates.len() as u64);
                for t in templates {
                    w.string(t);
                }
            }
            Call::Send { template, fields } => {
                w.string(template);
                w.number(fields.len() as u64);
                for (name, value) in fields {
                    w.string(name);
                    w.string(value);
                }
            }
            Call::Broadcast { title, text } => {
                w.string(title);
                w.string(text);
            }
            Call::Reply { text } => w.string(text),
            Call::Usage
            | Call::Now
            | Call::Openid
            | Call::Unionid
            | Call::Login
            | Call::Profile
            | Call::Phone
            | Call::RealName
            | Call::InsuranceCard => {}
        }
    }
    out
}

struct Writer<'a>(&'a mut String);

impl Writer<'_> {
    fn token(&mut self, t: &str) {
        self.0.push(' ');
        self.0.push_str(t);
    }

    fn number(&mut self, n: u64) {
        self.token(&n.to_string());
    }

    fn string(&mut self, s: &str) {
        self.0.push_str(" x");
        for b in s.bytes() {
            self.0.push(HEX[(b >> 4) as usize] as char);
            self.0.push(HEX[(b & 15) as usize] as char);
        }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Reads a script: the calls, or what is wrong with it (which call, which
/// argument). An empty script is no calls.
pub fn decode(script: &str) -> Result<Vec<Call>, String> {
    let mut calls = Vec::new();
    for (i, text) in script.split(';').enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        if calls.len() == MAX_CALLS {
            return Err(format!("more than {MAX_CALLS} calls"));
        }
        let mut r = Reader {
            tokens: text.split_whitespace(),
        };
        let call = decode_call(&mut r).map_err(|e| format!("call {}: {e}", i + 1))?;
        if let Some(extra) = r.tokens.next() {
            return Err(format!("call {}: unexpected `{extra}`", i + 1));
        }
        calls.push(call);
    }
    Ok(calls)
}

fn decode_call(r: &mut Reader<'_>) -> Result<Call, String> {
    let name = r.next("a call name")?;
    Ok(match name {
        "get" => Call::Get { key: r.string()? },
        "set" => {
            let key = r.string()?;
            let fill = r.number(u8::MAX as u64)? as u8;
            let len = r.number(MAX_SET_BYTES as u64)? as u32;
            Call::Set { key, fill, len }
        }
        "delete" => Call::Delete { key: r.string()? },
        "list" => Call::List {
            prefix: r.string()?,
            limit: r.number(u32::MAX as u64)? as u32,
        },
        "usage" => Call::Usage,
        "log" => Call::Log {
            level: r.number(u8::MAX as u64)? as u8,
            message: r.string()?,
        },
        "now" => Call::Now,
        "openid" => Call::Openid,
        "unionid" => Call::Unionid,
        "login" => Call::Login,
        "profile" => Call::Profile,
        "phone" => Call::Phone,
        "real-name" => Call::RealName,
        "location" => Call::Location {
            precise: r.number(1)? == 1,
        },
        "insurance-card" => Call::InsuranceCard,
        "pay" => {
            let order = r.string()?;
            let amount = r.number(u64::MAX)?;
            let currency = r.string()?;
            let description = r.string()?;
            let n = r.number(1000)?;
            let mut items = Vec::new();
            for _ in 0..n {
                items.push(Item {
                    name: r.string()?,
                    quantity: r.number(u32::MAX as u64)? as u32,
                    unit_price: r.number(u64::MAX)?,
                    insurance_eligible: r.number(1)? == 1,
                });
            }
            Call::Pay {
                order,
                amount,
                currency,
                description,
                items,
            }
        }
        "refund" => Call::Refund {
            order: r.string()?,
            amount: r.number(u64::MAX)?,
            reason: r.string()?,
        },
        "query" => Call::Query { order: r.string()? },
        "history" => {
            let cursor = match r.next("a cursor or `-`")? {
                "-" => None,
                token => Some(unhex(token)?),
            };
            Call::History {
                cursor,
                limit: r.number(u32::MAX as u64)? as u32,
            }
        }
        "subscribe" => {
            let n = r.number(100)?;
            let mut templates = Vec::new();
            for _ in 0..n {
                templates.push(r.string()?);
            }
            Call::Subscribe { templates }
        }
        "send" => {
            let template = r.string()?;
            let n = r.number(100)?;
            let mut fields = Vec::new();
            for _ in 0..n {
                fields.push((r.string()?, r.string()?));
            }
            Call::Send { template, fields }
        }
        "broadcast" => Call::Broadcast {
            title: r.string()?,
            text: r.string()?,
        },
        "reply" => Call::Reply { text: r.string()? },
        other => return Err(format!("unknown call `{other}`")),
    })
}

struct Reader<'a> {
    tokens: std::str::SplitWhitespace<'a>,
}

impl<'a> Reader<'a> {
    fn next(&mut self, what: &str) -> Result<&'a str, String> {
        self.tokens
            .next()
            .ok_or_else(|| format!("expected {what}, found the end"))
    }

    fn number(&mut self, max: u64) -> Result<u64, String> {
        let token = self.next("a number")?;
        let n: u64 = token
            .parse()
            .map_err(|_| format!("`{token}` is not a number"))?;
        if n > max {
            return Err(format!("{n} is over {max}"));
        }
        Ok(n)
    }

    fn string(&mut self) -> Result<String, String> {
        unhex(self.next("a string (`x` and hex)")?)
    }
}

fn unhex(token: &str) -> Result<String, String> {
    let hex = token
        .strip_prefix('x')
        .ok_or_else(|| format!("`{token}` is not a string (`x` and hex)"))?;
    if hex.len() % 2 != 0 {
        return Err(format!("`{token}` has an odd number of hex digits"));
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(format!("`{token}` is not hex")),
    };
    let bytes = hex
        .as_bytes()
        .chunks(2)
        .map(|pair| Ok((digit(pair[0])? << 4) | digit(pair[1])?))
        .collect::<Result<Vec<u8>, String>>()?;
    String::from_utf8(bytes).map_err(|_| format!("`{token}` is not UTF-8"))
}

/// Money a result field says moved in or out of the user's wallet: the
/// ledger transaction and the wallet's change in minor units (negative for a
/// payment, positive for a refund). `None` for any other result.
///
/// The guest writes a paid payment as `paid <transaction> <amount> wallet
/// <part> insurance <part>` and a refund as `refunded <transaction> <amount>
/// wallet <part> insurance <part>`.
pub fn money_moved(result: &str) -> Option<(String, i128)> {
    let mut t = result.split(' ');
    let sign = match t.next()? {
        "paid" => -1,
        "refunded" => 1,
        _ => return None,
    };
    let transaction = t.next()?.to_string();
    let _amount = t.next()?;
    if t.next()? != "wallet" {
        return None;
    }
    let wallet: u64 = t.next()?.parse().ok()?;
    Some((transaction, sign * wallet as i128))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_round_trip() {
        let calls = vec![
            Call::Set {
                key: "k; x".into(),
                fill: 7,
                len: 3,
            },
            Call::History {
                cursor: None,
                limit: 5,
            },
            Call::Send {
                template: String::new(),
                fields: vec![("a".into(), "é".into())],
            },
        ];
        assert_eq!(decode(&encode(&calls)).unwrap(), calls);
        assert!(decode("get x6").unwrap_err().contains("odd"));
    }
}
