//! Accessors on the events the host delivers.

use crate::{Event, FieldValue, LaunchEvent, SubmitEvent};

/// The value of the field `name` of a submitted form, if the form has one.
///
/// ```
/// # use plaza_sdk::{FieldValue, SubmitEvent};
/// let submit = SubmitEvent {
///     form: "patient".into(),
///     fields: vec![FieldValue { name: "name".into(), value: "Li Na".into() }],
/// };
/// assert_eq!(plaza_sdk::field(&submit, "name"), Some("Li Na"));
/// assert_eq!(plaza_sdk::field(&submit, "phone"), None);
/// ```
pub fn field<'a>(submit: &'a SubmitEvent, name: &str) -> Option<&'a str> {
    lookup(&submit.fields, name)
}

fn lookup<'a>(fields: &'a [FieldValue], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|f| f.name == name)
        .map(|f| f.value.as_str())
}

impl FieldValue {
    /// A name and a value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        FieldValue {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl LaunchEvent {
    /// The path asked for, with the empty path (the mini-app's home) given as
    /// `/`.
    pub fn path_or_home(&self) -> &str {
        if self.path.is_empty() {
            "/"
        } else {
            &self.path
        }
    }

    /// The value of the query parameter `name` (the first, if repeated).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        lookup(&self.query, name)
    }
}

impl SubmitEvent {
    /// The value of the field `name`, if the form has one.
    pub fn field(&self, name: &str) -> Option<&str> {
        lookup(&self.fields, name)
    }
}

impl Event {
    /// The launch path (`/` for the mini-app's home), if this is a launch.
    pub fn launch_path(&self) -> Option<&str> {
        match self {
            Event::Launch(launch) => Some(launch.path_or_home()),
            _ => None,
        }
    }

    /// The value of the launch query parameter `name`, if this is a launch
    /// with that parameter.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        match self {
            Event::Launch(launch) => launch.query_param(name),
            _ => None,
        }
    }

    /// The action id, if this is a tap.
    pub fn action(&self) -> Option<&str> {
        match self {
            Event::Tap(action) => Some(action),
            _ => None,
        }
    }

    /// The user's locale (a BCP 47 tag such as `zh-CN`), if this is a
    /// launch and the embedding app said it.
    pub fn locale(&self) -> Option<&str> {
        match self {
            Event::Launch(launch) if !launch.locale.is_empty() => Some(&launch.locale),
            _ => None,
        }
    }

    /// The section's action, if this is a "load more".
    pub fn load_more(&self) -> Option<&str> {
        match self {
            Event::LoadMore(action) => Some(action),
            _ => None,
        }
    }

    /// Whether the user pulled the page down to refresh it.
    pub fn is_refresh(&self) -> bool {
        matches!(self, Event::Refresh)
    }

    /// The form id, if this is a submit.
    pub fn form(&self) -> Option<&str> {
        match self {
            Event::Submit(submit) => Some(&submit.form),
            _ => None,
        }
    }

    /// The value of the submitted field `name`, if this is a submit with that
    /// field.
    pub fn field(&self, name: &str) -> Option<&str> {
        match self {
            Event::Submit(submit) => submit.field(name),
            _ => None,
        }
    }
}
