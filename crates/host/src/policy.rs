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
//! // Insurance covers only the item kinds the operator allows a publisher:
//! // by default a verified medical publisher's consultations, not its parking.
//! assert!(policy.insurance_covers(Category::Medical, "cn.hz.hospital", "Consultation, obstetrics"));
//! assert!(!policy.insurance_covers(Category::Medical, "cn.hz.hospital", "Parking"));
//! assert!(!policy.insurance_covers(Category::Commerce, "cn.shop", "Consultation"));
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
    /// The categories whose payments may be settled with medical insurance
    /// (only ever for verified publishers still in the registry).
    pub insurance_payment_categories: BTreeSet<Category>,
    /// The item kinds insurance may cover for the publishers of a category
    /// that have no entry of their own in [`insurance_items_by_publisher`](Policy::insurance_items_by_publisher);
    /// kinds in lower case (see [`item_kind`]). By default a medical
    /// publisher's consultations, examinations, tests, medicines, treatments
    /// and stays.
    pub insurance_items_by_category: BTreeMap<Category, BTreeSet<String>>,
    /// The item kinds insurance may cover for one publisher (by id), in place
    /// of its category's: the operator's list for that publisher (an empty
    /// list: nothing). Kinds in lower case.
    pub insurance_items_by_publisher: BTreeMap<String, BTreeSet<String>>,
}

/// The item kinds a verified medical publisher's insurance may cover unless
/// the operator says otherwise.
pub const DEFAULT_MEDICAL_INSURANCE_ITEMS: [&str; 12] = [
    "consultation",
    "examination",
    "ultrasound scan",
    "x-ray",
    "ct scan",
    "mri scan",
    "laboratory test",
    "medicine",
    "treatment",
    "surgery",
    "hospital stay",
    "nursing",
];

/// An item's kind, as the policy lists kinds: its name up to the first
/// comma, trimmed, in lower case (`Consultation, obstetrics` is a
/// `consultation`).
pub fn item_kind(name: &str) -> String {
    name.split([',', '，'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_lowercase()
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
            insurance_items_by_category: [(
                Category::Medical,
                DEFAULT_MEDICAL_INSURANCE_ITEMS
                    .into_iter()
                    .map(String::from)
                    .collect(),
            )]
            .into_iter()
            .collect(),
            insurance_items_by_publisher: BTreeMap::new(),
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

    /// The item kinds insurance may cover for `publisher` of `category`:
    /// none when the policy settles no insurance for the category, else the
    /// publisher's own list, else the category's.
    pub fn insurance_items(&self, category: Category, publisher: &str) -> BTreeSet<String> {
        if !self.insurance_payment_categories.contains(&category) {
            return BTreeSet::new();
        }
        self.insurance_items_by_publisher
            .get(publisher)
            .or_else(|| self.insurance_items_by_category.get(&category))
            .cloned()
            .unwrap_or_default()
    }

    /// Whether insurance may cover an item named `item_name` billed by
    /// `publisher` of `category` (whose verification the caller checks).
    pub fn insurance_covers(&self, category: Category, publisher: &str, item_name: &str) -> bool {
        self.insurance_items(category, publisher)
            .contains(&item_kind(item_name))
    }

    /// Sets the item kinds insurance may cover for `publisher` (in place of
    /// its category's; none: nothing).
    pub fn allow_insurance_items<I, S>(&mut self, publisher: &str, kinds: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.insurance_items_by_publisher.insert(
            publisher.to_string(),
            kinds.into_iter().map(|k| item_kind(k.as_ref())).collect(),
        );
        self
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

    #[test]
    fn a_publishers_own_insurance_items_replace_its_categorys() {
        let mut p = Policy::default();
        assert!(p.insurance_covers(Category::Medical, "cn.a", " ULTRASOUND scan , abdomen"));
        p.allow_insurance_items("cn.a", ["Medicine"]);
        assert!(p.insurance_covers(Category::Medical, "cn.a", "medicine, 30 tablets"));
        assert!(!p.insurance_covers(Category::Medical, "cn.a", "Consultation"));
        assert!(p.insurance_covers(Category::Medical, "cn.b", "Consultation"));
        p.allow_insurance_items("cn.b", [] as [&str; 0]);
        assert!(!p.insurance_covers(Category::Medical, "cn.b", "Consultation"));
        // A category the policy settles no insurance for covers nothing,
        // whatever a publisher's list says.
        p.allow_insurance_items("cn.shop", ["consultation"]);
        assert!(!p.insurance_covers(Category::Commerce, "cn.shop", "Consultation"));
    }
}
