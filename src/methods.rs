//! The crate's methods document, `docs/methods.md`, rendered here.
//!
//! Item documentation cites it by section, as intra-doc links such as
//! `[§3.1](crate::methods#31-k-anonymity)`: rustdoc checks the path, and
//! the test below checks every fragment against the document's headings.
#![doc = include_str!("../docs/methods.md")]

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::fs;
    use std::path::{Path, PathBuf};

    const DOCUMENT: &str = include_str!("../docs/methods.md");

    /// The anchor rustdoc gives a heading: ASCII letters lowercased, other
    /// alphanumerics, `-` and `_` kept, ASCII whitespace turned into `-`,
    /// everything else (punctuation) dropped.
    fn anchor(heading: &str) -> String {
        heading
            .chars()
            .filter_map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    Some(c.to_ascii_lowercase())
                } else if c.is_ascii_whitespace() {
                    Some('-')
                } else {
                    None
                }
            })
            .collect()
    }

    /// The anchors of the document's headings; fails on a duplicate, which
    /// rustdoc would suffix and a citation could silently miss.
    fn anchors() -> BTreeSet<String> {
        let mut anchors = BTreeSet::new();
        let mut fenced = false;
        for line in DOCUMENT.lines() {
            if line.starts_with("```") {
                fenced = !fenced;
            }
            if fenced {
                continue;
            }
            let text = line.trim_start_matches('#');
            if text.len() < line.len() && text.starts_with(' ') {
                let id = anchor(text.trim());
                assert!(anchors.insert(id.clone()), "duplicate heading anchor {id}");
            }
        }
        anchors
    }

    fn rust_files(folder: &Path, files: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(folder).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                rust_files(&path, files);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }

    /// Every `.rs` file under `src/` with its text.
    fn sources() -> Vec<(PathBuf, String)> {
        let mut files = Vec::new();
        rust_files(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        files.sort();
        files
            .into_iter()
            .map(|path| {
                let text = fs::read_to_string(&path).expect("read source");
                (path, text)
            })
            .collect()
    }

    #[test]
    fn anchors_follow_rustdoc() {
        assert_eq!(anchor("3.1 k-anonymity"), "31-k-anonymity");
        assert_eq!(anchor("3.8 (α,k)-anonymity"), "38-αk-anonymity");
        assert_eq!(
            anchor("5.1 Aggregation, weights and the gs factor"),
            "51-aggregation-weights-and-the-gs-factor"
        );
        assert!(anchors().contains("310-monotonicity-and-suppression"));
    }

    /// Every citation in the sources is a link to a heading of the
    /// document, checked here because rustdoc resolves the links of private
    /// items only with `--document-private-items`, and never checks a
    /// fragment. In a comment, each `§` must open a link text `[§…]` whose
    /// target is `crate::methods#` and the anchor of a heading, unless it
    /// cites another document named just before it (an RFC, a manual,
    /// `SCALE.md`). Every other `crate::methods#` link must name a heading
    /// too. No source may cite the old specification or point outside the
    /// repository.
    #[test]
    fn every_citation_links_a_heading() {
        let anchors = anchors();
        let target = "](crate::methods#";
        let old = ["METHODS", ".md"].concat();
        let outside = ["shared", "/"].concat();
        let others = ["RFC ", "manual ", "SCALE.md "];
        let named = |before: &str| {
            let start = before.char_indices().rev().nth(15).map_or(0, |(at, _)| at);
            others.iter().any(|o| before[start..].contains(o))
        };
        let fragment = |rest: &str| -> String {
            let end = rest
                .find(|c: char| c == ')' || c == '>' || c == '`' || c.is_whitespace())
                .unwrap_or(rest.len());
            rest[..end].to_string()
        };
        let mut links = 0;
        let mut found = Vec::new();
        for (path, text) in sources() {
            if path.ends_with("methods.rs") {
                continue;
            }
            for (number, line) in text.lines().enumerate() {
                let place = format!("{}:{}", path.display(), number + 1);
                if line.contains(&old) || line.contains(&outside) {
                    found.push(format!("{place}: outside the repository: {}", line.trim()));
                }
                for (at, _) in line.match_indices("crate::methods#") {
                    let id = fragment(&line[at + "crate::methods#".len()..]);
                    if !anchors.contains(&id) {
                        found.push(format!("{place}: no heading #{id}"));
                    }
                }
                let Some(comment) = line.find("//").map(|at| &line[at..]) else {
                    continue;
                };
                for (at, _) in comment.match_indices('§') {
                    let before = &comment[..at];
                    if named(before) {
                        continue;
                    }
                    let after = &comment[at..];
                    let linked = before.ends_with('[')
                        && after.find(']').is_some_and(|end| {
                            after[end..].starts_with(target)
                                && anchors.contains(&fragment(&after[end + target.len()..]))
                        });
                    if linked {
                        links += 1;
                    } else {
                        found.push(format!("{place}: not a checked link: {}", line.trim()));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "citations outside the checked links:\n{}",
            found.join("\n")
        );
        assert!(links > 50, "only {links} citations found");
    }
}
