//! `messaging`: its full signatures, behind the gate, answering `unavailable`
//! until its implementation lands.

use crate::manifest::Capability;
use crate::session::SessionState;
use plaza_world::messaging;
use plaza_world::types::{Error as WitError, FieldValue};

impl SessionState {
    fn not_yet(&mut self, capability: Capability, call: &str) -> WitError {
        if let Err(denied) = self.allow(capability) {
            return denied;
        }
        WitError::Unavailable(format!(
            "{capability}.{call} is not available in this version of the host; offer the user another way"
        ))
    }
}

impl messaging::Host for SessionState {
    async fn subscribe(
        &mut self,
        _template_ids: Vec<String>,
    ) -> Result<Vec<messaging::SubscriptionResult>, WitError> {
        Err(self.not_yet(Capability::Messaging, "subscribe"))
    }
    async fn send(
        &mut self,
        _template_id: String,
        _fields: Vec<FieldValue>,
    ) -> Result<String, WitError> {
        Err(self.not_yet(Capability::Messaging, "send"))
    }
    async fn broadcast(
        &mut self,
        _title: String,
        _text: String,
    ) -> Result<messaging::BroadcastResult, WitError> {
        Err(self.not_yet(Capability::Messaging, "broadcast"))
    }
    async fn reply(&mut self, _text: String) -> Result<String, WitError> {
        Err(self.not_yet(Capability::Messaging, "reply"))
    }
}
