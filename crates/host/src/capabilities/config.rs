//! `plaza:host/config`: the settings the operator sets for the mini-app
//! (`[[settings]]` in its manifest), as they were when the session started.
//!
//! A read is audited like other allowed uses, at the first in the session,
//! by capability only; a refusal names the setting, never a value. Values
//! never reach the audit log, the host's log or an error.

use crate::gate::SessionGate;
use crate::manifest::{Capability, MAX_SETTING_NAME_BYTES};
use crate::settings::{SessionSettings, SettingRead};
use plaza_world::config::Host;
use plaza_world::types::Error as WitError;
use wasmtime::component::HasData;

/// What the config capability sees of a session: its way through the gate
/// and the settings as the session started with them.
pub(crate) struct ConfigView<'a> {
    pub(crate) gate: &'a mut SessionGate,
    pub(crate) settings: &'a SessionSettings,
}

/// Links `plaza:host/config` to a session's [`ConfigView`].
pub(crate) struct Config;

impl HasData for Config {
    type Data<'a> = ConfigView<'a>;
}

impl Host for ConfigView<'_> {
    async fn get(&mut self, name: String) -> Result<String, WitError> {
        self.gate
            .check(Capability::Config)
            .map_err(WitError::from)?;
        if name.len() > MAX_SETTING_NAME_BYTES {
            let message = format!(
                "the name is {} bytes; setting names are at most {MAX_SETTING_NAME_BYTES}",
                name.len()
            );
            self.gate.refuse_once_per_event("config", &message);
            return Err(WitError::InvalidArgument(message));
        }
        self.settings.get(&name).map_err(|why| match why {
            SettingRead::Undeclared => {
                let message = format!(
                    "the manifest declares no setting `{name}`: add a [[settings]] table with `name = \"{name}\"` to plaza.toml"
                );
                self.gate.refuse_once_per_event("config", &message);
                WitError::Denied(message)
            }
            SettingRead::Missing => WitError::NotFound(format!(
                "the setting `{name}` is not set and has no default: the host's operator sets it (`plaza config set APP {name} VALUE`)"
            )),
            SettingRead::Unreadable => WitError::Unavailable(format!(
                "the host cannot read the setting `{name}` now; try later"
            )),
        })
    }
}
