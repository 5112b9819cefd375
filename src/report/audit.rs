//! The audit trail: a hash chain of every step of a run ([§9.2](crate::methods#92-audit-trail)).
//!
//! Each entry records a step (load, each transformation, search, apply,
//! scan, write) with its parameters and the counts it affected, plus the
//! SHA-256 of the previous entry; its own hash covers all of that. The
//! first entry's predecessor is the SHA-256 of the ruleset file, so the
//! chain is anchored in the configuration. Changing, removing or reordering
//! an entry breaks the chain. Secrets never enter it: token keys appear only
//! as fingerprints.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::report::digest::sha256_hex;

/// One step of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the trail, from 0.
    pub sequence: u64,
    /// The step: `load`, `safe-harbor`, `transform`, `risk-before`, `search`,
    /// `apply`, `risk-after`, `scan`, `write`.
    pub step: String,
    /// What the step did, in words.
    pub description: String,
    /// The step's parameters (JSON).
    pub parameters: serde_json::Value,
    /// Counts the step affected (rows read, cells changed, records suppressed…).
    pub counts: BTreeMap<String, u64>,
    /// The hash of the previous entry (for the first, of the ruleset file).
    pub previous: String,
    /// SHA-256 of this entry's JSON without the `hash` field.
    pub hash: String,
}

impl AuditEntry {
    /// The hash this entry should carry: SHA-256 of its canonical JSON (keys
    /// sorted, numbers in shortest round-trip form) without `hash`.
    pub fn compute_hash(&self) -> String {
        let mut value = serde_json::to_value(self).unwrap_or(serde_json::Value::Null);
        if let Some(map) = value.as_object_mut() {
            map.remove("hash");
        }
        sha256_hex(value.to_string().as_bytes())
    }
}

/// A trail under construction.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditTrail {
    anchor: String,
    entries: Vec<AuditEntry>,
}

impl AuditTrail {
    /// A trail anchored in `anchor` (the SHA-256 of the ruleset file).
    pub fn new(anchor: impl Into<String>) -> AuditTrail {
        AuditTrail {
            anchor: anchor.into(),
            entries: Vec::new(),
        }
    }

    /// Appends a step.
    pub fn record(
        &mut self,
        step: &str,
        description: impl Into<String>,
        parameters: serde_json::Value,
        counts: impl IntoIterator<Item = (&'static str, u64)>,
    ) {
        let previous = self
            .entries
            .last()
            .map_or_else(|| self.anchor.clone(), |e| e.hash.clone());
        let mut entry = AuditEntry {
            sequence: self.entries.len() as u64,
            step: step.to_owned(),
            description: description.into(),
            parameters,
            counts: counts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            previous,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        self.entries.push(entry);
    }

    /// The entries so far.
    pub fn entries(&self) -> &[AuditEntry] {
        &self.entries
    }

    /// The entries, consumed.
    pub fn into_entries(self) -> Vec<AuditEntry> {
        self.entries
    }
}

/// Checks a chain anchored in `anchor`; returns every problem found (empty
/// when intact).
pub fn verify_chain(anchor: &str, entries: &[AuditEntry]) -> Vec<String> {
    let mut problems = Vec::new();
    if entries.is_empty() {
        problems.push("the audit trail is empty".to_owned());
    }
    let mut previous = anchor.to_owned();
    for (i, entry) in entries.iter().enumerate() {
        if entry.sequence != i as u64 {
            problems.push(format!(
                "entry {i} ('{}') carries sequence number {}: an entry was removed or moved",
                entry.step, entry.sequence
            ));
        }
        if entry.previous != previous {
            problems.push(format!(
                "entry {i} ('{}') does not follow the entry before it (previous hash {} expected {})",
                entry.step, entry.previous, previous
            ));
        }
        let hash = entry.compute_hash();
        if entry.hash != hash {
            problems.push(format!(
                "entry {i} ('{}') was changed: its hash is {} but its content hashes to {}",
                entry.step, entry.hash, hash
            ));
        }
        previous = entry.hash.clone();
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn trail() -> AuditTrail {
        let mut trail = AuditTrail::new(sha256_hex(b"ruleset"));
        trail.record("load", "read", json!({ "file": "a.csv" }), [("rows", 10)]);
        trail.record("search", "searched", json!({ "k": 5 }), [("nodes", 3)]);
        trail.record("write", "wrote", json!({ "sha256": "00" }), [("rows", 9)]);
        trail
    }

    #[test]
    fn an_intact_chain_verifies() {
        let t = trail();
        assert!(verify_chain(&sha256_hex(b"ruleset"), t.entries()).is_empty());
        assert_eq!(t.entries()[1].previous, t.entries()[0].hash);
    }

    #[test]
    fn edits_break_the_chain() {
        let anchor = sha256_hex(b"ruleset");
        let mut changed = trail().into_entries();
        changed[1].parameters = json!({ "k": 2 });
        assert_eq!(verify_chain(&anchor, &changed).len(), 1);

        let mut removed = trail().into_entries();
        removed.remove(1);
        assert!(!verify_chain(&anchor, &removed).is_empty());

        let mut reordered = trail().into_entries();
        reordered.swap(1, 2);
        assert!(!verify_chain(&anchor, &reordered).is_empty());

        assert!(!verify_chain(&sha256_hex(b"another ruleset"), trail().entries()).is_empty());
    }
}
