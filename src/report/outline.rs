//! The report laid out as its twelve sections, in order, each built by its
//! own function (see `sections/`) from neutral blocks that both the HTML and
//! the Markdown writers render (so the two always say the same).

use crate::report::blocks::Block;
use crate::report::document::Report;
use crate::report::sections;

/// The report's sections, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Section {
    Summary,
    Data,
    Context,
    Methods,
    Results,
    Risk,
    Scan,
    Limitations,
    Release,
    Audit,
    SignOff,
    Verification,
}

impl Section {
    /// Every section, in the report's order.
    pub(crate) const ALL: [Section; 12] = [
        Section::Summary,
        Section::Data,
        Section::Context,
        Section::Methods,
        Section::Results,
        Section::Risk,
        Section::Scan,
        Section::Limitations,
        Section::Release,
        Section::Audit,
        Section::SignOff,
        Section::Verification,
    ];

    /// The section's HTML anchor id.
    pub(crate) const fn id(self) -> &'static str {
        SECTIONS[self as usize].0
    }

    /// The section's numbered title.
    pub(crate) const fn title(self) -> &'static str {
        SECTIONS[self as usize].1
    }

    /// The section's blocks for `report`.
    pub(crate) fn blocks(self, report: &Report) -> Vec<Block> {
        let build = match self {
            Section::Summary => sections::summary,
            Section::Data => sections::data,
            Section::Context => sections::context,
            Section::Methods => sections::methods,
            Section::Results => sections::results,
            Section::Risk => sections::risk,
            Section::Scan => sections::scan,
            Section::Limitations => sections::limitations,
            Section::Release => sections::release,
            Section::Audit => sections::audit,
            Section::SignOff => sections::sign_off,
            Section::Verification => sections::verification,
        };
        build(report)
    }
}

/// The report's sections: anchor id and title, in order.
pub const SECTIONS: [(&str, &str); 12] = [
    ("summary", "1. Summary and verdict"),
    ("data", "2. The data"),
    (
        "context",
        "3. Context: recipients, threat model, population",
    ),
    ("methods", "4. Methods"),
    ("results", "5. Results"),
    ("risk", "6. Re-identification risk before and after"),
    ("scan", "7. Residual-identifier scan"),
    ("limitations", "8. Limitations and residual risks"),
    ("release", "9. Conditions of release and re-assessment"),
    ("audit", "10. Audit trail"),
    ("sign-off", "11. Expert attestation and sign-off"),
    ("verification", "12. Verifying this report"),
];

/// A section laid out: which one, its anchor and title, and its blocks.
pub(crate) struct SectionContent {
    pub section: Section,
    pub id: &'static str,
    pub title: &'static str,
    pub blocks: Vec<Block>,
}

/// Lays out `report`: every section, in order.
pub(crate) fn outline(report: &Report) -> Vec<SectionContent> {
    Section::ALL
        .iter()
        .map(|&section| SectionContent {
            section,
            id: section.id(),
            title: section.title(),
            blocks: section.blocks(report),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_are_in_order_with_their_ids_and_titles() {
        for (i, section) in Section::ALL.iter().enumerate() {
            assert_eq!(*section as usize, i);
            assert_eq!((section.id(), section.title()), SECTIONS[i]);
            assert!(section.title().starts_with(&format!("{}. ", i + 1)));
        }
        assert_eq!(Section::SignOff.id(), "sign-off");
    }

    #[test]
    fn the_outline_has_every_section_with_content() {
        let report = sections::fixture::report();
        let laid = outline(&report);
        assert_eq!(laid.len(), 12);
        for (s, section) in laid.iter().zip(Section::ALL) {
            assert_eq!(s.section, section);
            assert_eq!((s.id, s.title), SECTIONS[section as usize]);
            assert_eq!(s.blocks, section.blocks(&report));
            assert!(!s.blocks.is_empty());
        }
    }
}
