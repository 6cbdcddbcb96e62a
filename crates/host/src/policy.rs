//! The host's policy: which capabilities and consent scopes each publisher
//! category may use. The embedding app sets it; the defaults follow the rules
//! WeChat and Alipay apply to mini programs.
//!
//! ```
//! use plaza_host::policy::Policy;
//! use plaza_host::manifest::{Category, Capability, Scope};
//! let policy = Policy::default();
//! assert!(policy.allows_capability(Category::Commerce, Capability::Payment));
//! assert!(policy.allows_scope(Category::Medical, true, Scope::InsuranceCard));
//! assert!(!policy.allows_scope(Category::Commerce, true, Scope::RealName));
//! assert!(!policy.allows_scope(Category::Medical, false, Scope::RealName));
//! ```

use crate::manifest::{Capability, Category, Scope};
use std::collections::{BTreeMap, BTreeSet};

/// What each publisher category may use.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The capabilities each category may use at all.
    pub capabilities: BTreeMap<Category, BTreeSet<Capability>>,
    /// The categories whose *verified* publishers may read `real-name` and
    /// `insurance-card` (government, medical and finance by default).
    pub sensitive_scope_categories: BTreeSet<Category>,
    /// The categories that may offer long-term subscription messages
    /// (government, medical, transport, finance and education by default).
    pub long_term_subscription_categories: BTreeSet<Category>,
    /// The categories whose payments may be settled with medical insurance.
    pub insurance_payment_categories: BTreeSet<Category>,
}

impl Default for Policy {
    fn default() -> Self {
        let all: BTreeSet<Capability> = Capability::ALL.into_iter().collect();
        Policy {
            capabilities: Category::ALL
                .into_iter()
                .map(|c| (c, all.clone()))
                .collect(),
            sensitive_scope_categories: [
                Category::Government,
                Category::Medical,
                Category::Finance,
            ]
            .into_iter()
            .collect(),
            long_term_subscription_categories: [
                Category::Government,
                Category::Medical,
                Category::Transport,
                Category::Finance,
                Category::Education,
            ]
            .into_iter()
            .collect(),
            insurance_payment_categories: [Category::Medical].into_iter().collect(),
        }
    }
}

impl Policy {
    /// Whether publishers of `category` may use `capability`.
    ///
    /// `log` and `clock` are baseline capabilities: every category has them
    /// (their host calls have no error to return a denial in), so the policy
    /// cannot take them away; a mini-app still has to declare them.
    pub fn allows_capability(&self, category: Category, capability: Capability) -> bool {
        Self::is_baseline(capability)
            || self
                .capabilities
                .get(&category)
                .is_some_and(|caps| caps.contains(&capability))
    }

    /// Whether a capability is one every category has (`log`, `clock`).
    pub fn is_baseline(capability: Capability) -> bool {
        matches!(capability, Capability::Log | Capability::Clock)
    }

    /// Whether a publisher of `category` (verified or not) may ask for `scope`.
    pub fn allows_scope(&self, category: Category, verified: bool, scope: Scope) -> bool {
        match scope {
            Scope::RealName | Scope::InsuranceCard => {
                verified && self.sensitive_scope_categories.contains(&category)
            }
            _ => true,
        }
    }

    /// Takes `capability` away from `category` (baseline capabilities stay:
    /// see [`Policy::allows_capability`]).
    pub fn deny_capability(&mut self, category: Category, capability: Capability) -> &mut Self {
        if let Some(caps) = self.capabilities.get_mut(&category) {
            caps.remove(&capability);
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_capabilities_cannot_be_taken_away() {
        let mut p = Policy::default();
        for c in Capability::ALL {
            p.deny_capability(Category::Commerce, c);
        }
        assert!(p.allows_capability(Category::Commerce, Capability::Log));
        assert!(p.allows_capability(Category::Commerce, Capability::Clock));
        assert!(!p.allows_capability(Category::Commerce, Capability::Storage));
        assert!(!p.allows_capability(Category::Commerce, Capability::Payment));
        assert!(p.allows_capability(Category::Medical, Capability::Payment));
    }
}
