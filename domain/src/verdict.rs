//! The verifier's judgement of a plan: a [`Verdict`] of named checks.

use serde::{Deserialize, Serialize};

/// Which family a check belongs to (the benchmark's two groups).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    Commonsense,
    Hard,
}

/// One constraint check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Check {
    /// Stable name, e.g. `"diverse_restaurants"`.
    pub name: String,
    pub kind: CheckKind,
    pub passed: bool,
    /// What was found (on failure, every violation).
    pub message: String,
}

/// Every check made on a plan.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verdict {
    pub checks: Vec<Check>,
}

impl Verdict {
    /// True when there are checks and all of them passed.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty() && self.checks.iter().all(|c| c.passed)
    }

    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| !c.passed)
    }

    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }

    /// e.g. `"13/13 checks passed"` or `"11/13 checks passed; failed: budget, room_type"`.
    pub fn summary(&self) -> String {
        let passed = self.checks.iter().filter(|c| c.passed).count();
        let failed: Vec<&str> = self.failures().map(|c| c.name.as_str()).collect();
        if failed.is_empty() {
            format!("{passed}/{} checks passed", self.checks.len())
        } else {
            format!(
                "{passed}/{} checks passed; failed: {}",
                self.checks.len(),
                failed.join(", ")
            )
        }
    }
}
