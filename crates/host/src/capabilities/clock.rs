//! `plaza:host/clock`: the host's clock, so tests run on a deterministic one.

use crate::manifest::Capability;
use crate::session::SessionState;
use plaza_world::clock::{Datetime, Host};

impl Host for SessionState {
    async fn now(&mut self) -> Datetime {
        // `log` and `clock` are baseline capabilities: the policy cannot take
        // them from a mini-app that declares them, and the import check
        // refuses one that does not. The gate still audits the first use.
        let _ = self.allow(Capability::Clock);
        Datetime {
            unix_ms: self.services.clock.now_ms(),
            utc_offset_minutes: self.services.utc_offset_minutes,
        }
    }
}
