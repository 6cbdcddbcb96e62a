//! Links that open a mini-app at a page.
//!
//! A link is `plaza://APP-ID/PATH?QUERY`: the mini-app's id, then the page's
//! path and query as its launch event gets them (`plaza://cn.hz.maternity/checkin?clinic=obstetrics-2`).
//! The operator may also give links an `https` form
//! ([`HostConfig::link_base`](crate::HostConfig::link_base)): with the base
//! `https://plaza.example.cn/a/`, `https://plaza.example.cn/a/APP-ID/PATH?QUERY`
//! is the same link, so a QR code read by any phone camera opens a web page
//! and one read inside a Plaza app opens the mini-app.
//!
//! A message's link (`/booking/B0001`, a page of the message's mini-app)
//! goes through the same rules ([`Link::in_app`]). [`Link::parse`] says
//! what is wrong with a malformed link ([`LinkError`]); whether the mini-app
//! is installed is the host's to say ([`Host::open_link`](crate::Host::open_link)).

use plaza_world::types::FieldValue;

/// The scheme of Plaza links.
pub const SCHEME: &str = "plaza://";

/// The longest page path with its query a link may carry, in bytes.
pub const MAX_TARGET_BYTES: usize = 512;

/// The longest link, in bytes (the `https` form with its base included).
pub const MAX_LINK_BYTES: usize = 2048;

/// An example of a link, for error messages and help.
pub const EXAMPLE: &str = "plaza://cn.hz.maternity/checkin?clinic=obstetrics-2";

/// A parsed link: which mini-app, at which page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The mini-app's id.
    pub app_id: String,
    /// The page's path, starting with `/` (`/` for the home).
    pub path: String,
    /// The query as written, without the `?` (empty for none).
    pub query: String,
}

impl Link {
    /// Parses a link in either form: `plaza://APP-ID/PATH?QUERY`, or
    /// `BASE/APP-ID/PATH?QUERY` under the operator's `https` base when
    /// there is one. Surrounding whitespace is ignored (a scanned code may
    /// end with a line break).
    pub fn parse(text: &str, base: Option<&LinkBase>) -> Result<Link, LinkError> {
        let fail = |problem: String| LinkError::new(text, problem, base);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(fail("it is empty".into()));
        }
        if trimmed.len() > MAX_LINK_BYTES {
            return Err(fail(format!(
                "it is {} bytes long, over the {MAX_LINK_BYTES} bytes a link may have",
                trimmed.len()
            )));
        }
        let rest = if let Some(rest) = strip_prefix_ignore_case(trimmed, SCHEME) {
            rest
        } else if let Some(rest) = base.and_then(|b| b.strip(trimmed)) {
            rest
        } else {
            let problem = match (base, trimmed.split_once("://")) {
                (Some(b), Some(("https" | "HTTPS", _))) => format!(
                    "it is a web address, but not under this host's link base `{}`",
                    b.as_str()
                ),
                (None, Some(("https" | "http" | "HTTPS" | "HTTP", _))) => {
                    "it is a web address, and this host takes no web form of links".into()
                }
                (_, Some((scheme, _))) if scheme.len() <= 20 => {
                    format!("its scheme is `{scheme}`, not `plaza`")
                }
                _ => "it does not start with `plaza://`".into(),
            };
            return Err(fail(problem));
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (app_id, target) = rest.split_at(split);
        if app_id.is_empty() {
            return Err(fail("it names no mini-app before the page".into()));
        }
        if !is_reverse_dns(app_id) {
            return Err(fail(format!(
                "`{}` is not a mini-app id (a reverse-DNS name of lowercase letters, digits and '-', such as `cn.hz.maternity`)",
                shorten(app_id)
            )));
        }
        let target = if target.is_empty() || target.starts_with('?') {
            format!("/{target}")
        } else {
            target.to_string()
        };
        let (path, query) = check_target(&target).map_err(fail)?;
        Ok(Link {
            app_id: app_id.to_string(),
            path,
            query,
        })
    }

    /// A link to a page of `app_id` given as `/PATH?QUERY` (a message's
    /// link), checked as [`Link::parse`] checks the page of a full link.
    pub fn in_app(app_id: &str, target: &str) -> Result<Link, LinkError> {
        let (path, query) =
            check_target(target).map_err(|problem| LinkError::new(target, problem, None))?;
        Ok(Link {
            app_id: app_id.to_string(),
            path,
            query,
        })
    }

    /// The page as a launch takes it: `/PATH?QUERY` (`/PATH` without a
    /// query).
    pub fn target(&self) -> String {
        if self.query.is_empty() {
            self.path.clone()
        } else {
            format!("{}?{}", self.path, self.query)
        }
    }

    /// The query's parameters, decoded, in order (what the launch event
    /// carries).
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        split_query(&self.target())
            .1
            .into_iter()
            .map(|f| (f.name, f.value))
            .collect()
    }

    /// The link in its `https` form under `base`.
    pub fn to_https(&self, base: &LinkBase) -> String {
        format!("{}{}{}", base.as_str(), self.app_id, self.target())
    }
}

impl std::fmt::Display for Link {
    /// The `plaza://` form.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{SCHEME}{}{}", self.app_id, self.target())
    }
}

/// Checks a page path with its optional query: it starts with `/`, has
/// visible ASCII characters only (no spaces; other characters
/// percent-encoded), no `#` fragment, and is at most [`MAX_TARGET_BYTES`].
/// Returns the path and the query.
pub(crate) fn check_target(target: &str) -> Result<(String, String), String> {
    if !target.starts_with('/') {
        return Err(format!(
            "its page `{}` does not start with `/`",
            shorten(target)
        ));
    }
    if target.len() > MAX_TARGET_BYTES {
        return Err(format!(
            "its page and query are {} bytes, over the {MAX_TARGET_BYTES} bytes allowed",
            target.len()
        ));
    }
    if let Some(c) = target.chars().find(|c| !c.is_ascii_graphic()) {
        return Err(if c == ' ' {
            "it has a space (write it as `%20`)".to_string()
        } else if c.is_ascii() {
            format!("it has the control character {:?}", c)
        } else {
            format!("it has `{c}`, which a link must percent-encode")
        });
    }
    if target.contains('#') {
        return Err("it has a `#` fragment, which links do not carry".into());
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path.split('/').any(|seg| seg == "..") {
        return Err("its page path has a `..` segment".into());
    }
    Ok((path.to_string(), query.to_string()))
}

/// Splits `/path?a=1&b=2` into the path and its query parameters.
pub(crate) fn split_query(path: &str) -> (String, Vec<FieldValue>) {
    match path.split_once('?') {
        None => (path.to_string(), Vec::new()),
        Some((p, q)) => (
            p.to_string(),
            q.split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    FieldValue {
                        name: percent_decode(k),
                        value: percent_decode(v),
                    }
                })
                .collect(),
        ),
    }
}

/// Decodes `%XX` escapes and `+` (a space) of a query component; a broken
/// escape is kept as written.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'+' {
            out.push(b' ');
        } else if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| hex(*c)),
                b.get(i + 2).and_then(|c| hex(*c)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 2;
        } else {
            out.push(b[i]);
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `s` is a reverse-DNS name: two or more labels of `[a-z0-9-]`, no
/// label empty or starting or ending with `-`, at most 128 bytes.
pub fn is_reverse_dns(s: &str) -> bool {
    if s.is_empty() || s.len() > 128 {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

/// The operator's `https` form of links: a base such as
/// `https://plaza.example.cn/a/`, under which `APP-ID/PATH?QUERY` follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkBase {
    /// The base, ending with `/`.
    base: String,
    /// The length of `https://HOST[:PORT]` in `base` (compared ignoring
    /// case; the path after it exactly).
    origin_len: usize,
}

impl LinkBase {
    /// Reads a base: an `https://` address with a host, an optional path,
    /// no query or fragment (a missing final `/` is added).
    pub fn parse(base: &str) -> Result<LinkBase, String> {
        let why = |what: &str| {
            format!(
                "the link base `{}` {what}: it is an https address such as `https://plaza.example.cn/a/`",
                shorten(base)
            )
        };
        let Some(rest) = strip_prefix_ignore_case(base, "https://") else {
            return Err(why("does not start with `https://`"));
        };
        if !base.chars().all(|c| c.is_ascii_graphic()) {
            return Err(why("has spaces or characters that are not visible ASCII"));
        }
        if base.contains(['?', '#']) {
            return Err(why("has a query or a fragment"));
        }
        let host_len = rest.find('/').unwrap_or(rest.len());
        let host = &rest[..host_len];
        if host.is_empty() || host.contains('@') {
            return Err(why("has no host"));
        }
        let mut base = base.to_string();
        if !base.ends_with('/') {
            base.push('/');
        }
        Ok(LinkBase {
            base,
            origin_len: "https://".len() + host_len,
        })
    }

    /// The base, ending with `/`.
    pub fn as_str(&self) -> &str {
        &self.base
    }

    /// What follows the base in `text`, if `text` is under it.
    fn strip<'t>(&self, text: &'t str) -> Option<&'t str> {
        let (origin, path) = self.base.split_at(self.origin_len);
        let head = text.get(..self.origin_len)?;
        if !head.eq_ignore_ascii_case(origin) {
            return None;
        }
        text[self.origin_len..].strip_prefix(path)
    }
}

/// A malformed link: what is wrong, and what a link looks like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{link}` is not a Plaza link: {problem}. A link looks like `plaza://APP-ID/PATH?QUERY`, such as `{EXAMPLE}`{}", https_form(.https_base))]
pub struct LinkError {
    /// The link as given (its first 100 characters).
    pub link: String,
    /// What is wrong with it.
    pub problem: String,
    /// The host's `https` base of links, when it has one.
    pub https_base: Option<String>,
}

impl LinkError {
    fn new(link: &str, problem: String, base: Option<&LinkBase>) -> LinkError {
        LinkError {
            link: shorten(link.trim()),
            problem,
            https_base: base.map(|b| b.as_str().to_string()),
        }
    }
}

fn https_form(base: &Option<String>) -> String {
    match base {
        Some(b) => format!(" (or `{b}APP-ID/PATH?QUERY`)"),
        None => String::new(),
    }
}

fn strip_prefix_ignore_case<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// At most 100 characters of `s`, for messages.
fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(100).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> LinkBase {
        LinkBase::parse("https://plaza.example.cn/a").unwrap()
    }

    #[test]
    fn both_forms_parse_to_the_same_link() {
        let plaza = Link::parse("plaza://cn.hz.maternity/checkin?clinic=obs-2", None).unwrap();
        assert_eq!(plaza.app_id, "cn.hz.maternity");
        assert_eq!(plaza.path, "/checkin");
        assert_eq!(plaza.query, "clinic=obs-2");
        let https = Link::parse(
            "HTTPS://Plaza.Example.CN/a/cn.hz.maternity/checkin?clinic=obs-2\n",
            Some(&base()),
        )
        .unwrap();
        assert_eq!(https, plaza);
        assert_eq!(
            plaza.to_string(),
            "plaza://cn.hz.maternity/checkin?clinic=obs-2"
        );
        assert_eq!(
            plaza.to_https(&base()),
            "https://plaza.example.cn/a/cn.hz.maternity/checkin?clinic=obs-2"
        );
    }

    #[test]
    fn the_home_and_a_bare_query() {
        let home = Link::parse("plaza://cn.hz.maternity", None).unwrap();
        assert_eq!((home.path.as_str(), home.query.as_str()), ("/", ""));
        let q = Link::parse("plaza://cn.hz.maternity?x=1", None).unwrap();
        assert_eq!((q.path.as_str(), q.query.as_str()), ("/", "x=1"));
        let pairs = Link::parse("plaza://a.b/p?name=Li%20Na&x", None)
            .unwrap()
            .query_pairs();
        assert_eq!(
            pairs,
            vec![("name".into(), "Li Na".into()), ("x".into(), String::new())]
        );
    }

    #[test]
    fn malformed_links_say_what_is_wrong() {
        let cases = [
            ("", "it is empty"),
            ("cn.hz.maternity/checkin", "does not start with `plaza://`"),
            ("weixin://cn.hz.maternity/", "scheme is `weixin`"),
            ("plaza:///checkin", "names no mini-app"),
            (
                "plaza://Maternity/checkin",
                "`Maternity` is not a mini-app id",
            ),
            ("plaza://cn.hz.maternity:80/", "is not a mini-app id"),
            ("plaza://cn.hz.maternity/check in", "has a space"),
            ("plaza://cn.hz.maternity/checkin#top", "`#` fragment"),
            ("plaza://cn.hz.maternity/../admin", "`..` segment"),
            ("plaza://cn.hz.maternity/诊室", "percent-encode"),
            ("https://plaza.example.cn/a/cn.hz.maternity/", "no web form"),
        ];
        for (link, problem) in cases {
            let e = Link::parse(link, None).unwrap_err();
            let text = e.to_string();
            assert!(text.contains(problem), "{link}: {text}");
            assert!(text.contains("plaza://APP-ID/PATH?QUERY"), "{text}");
        }
        let long = format!("plaza://a.b/{}", "x".repeat(600));
        assert!(
            Link::parse(&long, None)
                .unwrap_err()
                .problem
                .contains("512 bytes")
        );
        let e =
            Link::parse("https://evil.example.com/a/cn.hz.maternity/", Some(&base())).unwrap_err();
        assert!(e.problem.contains("not under this host's link base"), "{e}");
        assert!(
            e.to_string()
                .contains("or `https://plaza.example.cn/a/APP-ID/PATH?QUERY`"),
            "{e}"
        );
        // The base's path is exact.
        assert!(Link::parse("https://plaza.example.cn/b/cn.hz.maternity/", Some(&base())).is_err());
    }

    #[test]
    fn bases_are_checked() {
        assert!(LinkBase::parse("http://plaza.example.cn/").is_err());
        assert!(LinkBase::parse("https:///a/").is_err());
        assert!(LinkBase::parse("https://plaza.example.cn/?x=1").is_err());
        assert_eq!(
            LinkBase::parse("https://plaza.example.cn")
                .unwrap()
                .as_str(),
            "https://plaza.example.cn/"
        );
    }

    #[test]
    fn message_links_take_the_same_rules() {
        let l = Link::in_app("cn.hz.maternity", "/booking/B0001").unwrap();
        assert_eq!(l.to_string(), "plaza://cn.hz.maternity/booking/B0001");
        assert!(Link::in_app("cn.hz.maternity", "booking").is_err());
        assert!(Link::in_app("cn.hz.maternity", "/a b").is_err());
    }
}
