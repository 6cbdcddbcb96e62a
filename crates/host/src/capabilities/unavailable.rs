//! `identity`, `payment` and `messaging`: their full signatures, behind the
//! gate, answering `unavailable` until their implementations land.

use crate::manifest::Capability;
use crate::session::SessionState;
use plaza_world::types::{Error as WitError, FieldValue};
use plaza_world::{identity, messaging, payment};

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

impl identity::Host for SessionState {
    async fn openid(&mut self) -> Result<String, WitError> {
        Err(self.not_yet(Capability::Identity, "openid"))
    }
    async fn unionid(&mut self) -> Result<String, WitError> {
        Err(self.not_yet(Capability::Identity, "unionid"))
    }
    async fn login(&mut self) -> Result<identity::LoginCode, WitError> {
        Err(self.not_yet(Capability::Identity, "login"))
    }
    async fn get_profile(&mut self) -> Result<identity::Profile, WitError> {
        Err(self.not_yet(Capability::Identity, "get-profile"))
    }
    async fn get_phone(&mut self) -> Result<String, WitError> {
        Err(self.not_yet(Capability::Identity, "get-phone"))
    }
    async fn get_real_name(&mut self) -> Result<identity::RealName, WitError> {
        Err(self.not_yet(Capability::Identity, "get-real-name"))
    }
    async fn get_location(
        &mut self,
        _precision: identity::LocationPrecision,
    ) -> Result<identity::Location, WitError> {
        Err(self.not_yet(Capability::Identity, "get-location"))
    }
    async fn get_insurance_card(&mut self) -> Result<identity::InsuranceCard, WitError> {
        Err(self.not_yet(Capability::Identity, "get-insurance-card"))
    }
}

impl payment::Host for SessionState {
    async fn request(
        &mut self,
        _request: payment::PaymentRequest,
    ) -> Result<payment::PaymentOutcome, WitError> {
        Err(self.not_yet(Capability::Payment, "request"))
    }
    async fn refund(
        &mut self,
        _order_id: String,
        _amount: u64,
        _reason: String,
    ) -> Result<payment::RefundReceipt, WitError> {
        Err(self.not_yet(Capability::Payment, "refund"))
    }
    async fn query(&mut self, _order_id: String) -> Result<payment::PaymentRecord, WitError> {
        Err(self.not_yet(Capability::Payment, "query"))
    }
    async fn history(
        &mut self,
        _cursor: Option<String>,
        _limit: u32,
    ) -> Result<payment::HistoryPage, WitError> {
        Err(self.not_yet(Capability::Payment, "history"))
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
