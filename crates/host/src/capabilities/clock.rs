//! `plaza:host/clock`: the host's clock, so tests run on a deterministic one.

use crate::manifest::Capability;
use crate::session::SessionState;
use plaza_world::clock::{Datetime, Host};

impl Host for SessionState {
    async fn now(&mut self) -> Datetime {
        // A baseline capability (see `Policy::allows_capability`): declared,
        // so allowed; the gate audits the first use.
        let _ = self.allow(Capability::Clock);
        Datetime {
            unix_ms: self.services.clock.now_ms(),
            utc_offset_minutes: self.services.utc_offset_minutes,
        }
    }
}
