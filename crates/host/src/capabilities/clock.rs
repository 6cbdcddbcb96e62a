//! `plaza:host/clock`: the host's clock, so tests run on a deterministic one.

use crate::clock::Clock as HostClock;
use crate::gate::SessionGate;
use crate::manifest::Capability;
use plaza_world::clock::{Datetime, Host};
use wasmtime::component::HasData;

/// What the clock capability sees of a session: its way through the gate,
/// the host's clock and time zone.
pub(crate) struct ClockView<'a> {
    pub(crate) gate: &'a mut SessionGate,
    pub(crate) clock: &'a dyn HostClock,
    pub(crate) utc_offset_minutes: i32,
}

/// Links `plaza:host/clock` to a session's [`ClockView`].
pub(crate) struct Clock;

impl HasData for Clock {
    type Data<'a> = ClockView<'a>;
}

impl Host for ClockView<'_> {
    async fn now(&mut self) -> Datetime {
        // A baseline capability (see `Policy::allows_capability`): declared,
        // so allowed; the gate audits the first use.
        let _ = self.gate.check(Capability::Clock);
        Datetime {
            unix_ms: self.clock.now_ms(),
            utc_offset_minutes: self.utc_offset_minutes,
        }
    }
}
