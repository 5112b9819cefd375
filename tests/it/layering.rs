//! Layering: the crate's top-level modules (the first path segment under
//! `src/`) depend on each other without cycles.
//!
//! An edge `a -> b` is a `crate::b` path in the code of module `a`
//! (comments, doc comments, string literals and `#[cfg(test)]` modules are
//! ignored). `error`, `methods` and `exit` may be used by anyone.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Modules every module may use: they depend on no other module.
const SHARED: &[&str] = &["error", "methods", "exit"];

/// Known edges that close a cycle and cannot be removed without changing a
/// public signature: (from, to, why). They are left out of the graph, so
/// the test still catches every new cycle. Remove an entry once its edge
/// is gone (the test fails on a stale entry).
const ALLOWED: &[(&str, &str, &str)] = &[];

/// Where an edge was seen: file and 1-based line.
type Sites = BTreeMap<(String, String), Vec<String>>;

/// Whether `c` can be part of an identifier.
fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The source text with comments and string and character literals blanked
/// out (newlines kept, so line numbers stay).
fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |out: &mut String, c: char| out.push(if c == '\n' { '\n' } else { ' ' });
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                    out.push_str("  ");
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    out.push_str("  ");
                    if depth == 0 {
                        break;
                    }
                } else {
                    blank(&mut out, chars[i]);
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"') | Some('#'))
            && (i == 0
                || !is_ident(chars[i - 1])
                || (chars[i - 1] == 'b' && (i == 1 || !is_ident(chars[i - 2]))))
        {
            // A raw string: r"…", r#"…"#, …
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (1..=hashes).all(|h| chars.get(j + h) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some(_) => j += 1,
                }
            }
            for &c in &chars[i..j.min(chars.len())] {
                blank(&mut out, c);
            }
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            for &c in &chars[i..(j + 1).min(chars.len())] {
                blank(&mut out, c);
            }
            i = j + 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}'), not a lifetime.
            let end = if next == Some('\\') {
                (i + 3..chars.len()).find(|&j| chars[j] == '\'')
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match end {
                Some(end) => {
                    for &c in &chars[i..=end] {
                        blank(&mut out, c);
                    }
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// `code` (stripped) with the bodies of `#[cfg(test)]` inline modules
/// blanked out; also returns the names of `#[cfg(test)] mod name;` files.
fn without_test_modules(code: &str) -> (String, Vec<String>) {
    let mut out: Vec<char> = code.chars().collect();
    let mut files = Vec::new();
    let mut from = 0;
    while let Some(at) = code[from..].find("#[cfg(test)]").map(|k| k + from) {
        from = at + "#[cfg(test)]".len();
        // The item after the attribute: other attributes, a visibility,
        // then `mod name`.
        let rest = skip_attributes(&code[from..]);
        let rest = ["pub(crate)", "pub(super)", "pub"]
            .iter()
            .find_map(|v| rest.strip_prefix(v))
            .unwrap_or(rest)
            .trim_start();
        let Some(rest) = rest
            .strip_prefix("mod")
            .filter(|r| r.starts_with(char::is_whitespace))
        else {
            continue;
        };
        let rest = rest.trim_start();
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after_name = code.len() - rest.len() + name.len();
        let tail = code[after_name..].trim_start();
        if tail.starts_with(';') {
            files.push(name);
            continue;
        }
        if !tail.starts_with('{') {
            continue;
        }
        // Blank the braces' contents (by char index).
        let open = after_name + code[after_name..].find('{').expect("seen above");
        let start = code[..open].chars().count();
        let mut depth = 0;
        for c in out.iter_mut().skip(start) {
            match *c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if *c != '\n' {
                *c = ' ';
            }
            if depth == 0 {
                break;
            }
        }
    }
    (out.into_iter().collect(), files)
}

/// `text` from its first item on: leading whitespace and `#[…]` attributes
/// skipped.
fn skip_attributes(mut text: &str) -> &str {
    loop {
        text = text.trim_start();
        let Some(inner) = text.strip_prefix("#[") else {
            return text;
        };
        let mut depth = 1;
        let end = inner.char_indices().find_map(|(k, c)| {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            (depth == 0).then_some(k)
        });
        match end {
            Some(end) => text = &inner[end + 1..],
            None => return "",
        }
    }
}

/// The top-level modules `crate::…` paths in `code` start with (each with
/// its 1-based line), `crate::{a::…, b::…}` groups included.
fn crate_paths(code: &str) -> Vec<(String, usize)> {
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut found = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let line = code[..at].matches('\n').count() + 1;
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.trim_start().strip_prefix('{') {
            // Split the group at its top-level commas.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push((ident(&item), line));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            found.push((ident(&item), line));
        } else {
            found.push((ident(rest), line));
        }
    }
    found.retain(|(name, _)| !name.is_empty());
    found
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The module graph of the sources `(path relative to src, text)`: edges
/// between top-level modules with where each was seen.
fn module_graph(sources: &[(String, String)]) -> Sites {
    let modules: BTreeSet<String> = sources
        .iter()
        .map(|(path, _)| top_module(path))
        .filter(|m| m != "lib")
        .collect();
    let mut code = BTreeMap::new();
    let mut test_files = BTreeSet::new();
    for (path, text) in sources {
        let (stripped, tests) = without_test_modules(&strip(text));
        // `mod x;` in a/b.rs is a/b/x.rs; in a/mod.rs or lib.rs, a/x.rs.
        let dir = match path.rsplit_once('/') {
            _ if path == "lib.rs" => String::new(),
            Some((dir, "mod.rs")) => format!("{dir}/"),
            _ => format!("{}/", path.trim_end_matches(".rs")),
        };
        for name in tests {
            test_files.insert(format!("{dir}{name}.rs"));
            test_files.insert(format!("{dir}{name}/mod.rs"));
        }
        code.insert(path.clone(), stripped);
    }
    let mut sites = Sites::new();
    for (path, code) in &code {
        let from = top_module(path);
        let test_only = test_files
            .iter()
            .any(|t| path == t || path.starts_with(&t.replace("/mod.rs", "/")));
        if from == "lib" || test_only {
            continue;
        }
        for (to, line) in crate_paths(code) {
            if to != from && modules.contains(&to) && !SHARED.contains(&to.as_str()) {
                sites
                    .entry((from.clone(), to))
                    .or_default()
                    .push(format!("src/{path}:{line}"));
            }
        }
    }
    sites
}

/// The top-level module of a file (path relative to `src`).
fn top_module(path: &str) -> String {
    let first = path.split('/').next().expect("a path");
    first.trim_end_matches(".rs").to_owned()
}

/// A cycle of `edges`, if any (first node repeated at the end).
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_owned(), 1);
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()) {
                Some(1) => {
                    let start = stack.iter().position(|n| n == next).expect("on the stack");
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                Some(_) => {}
                None => {
                    if let Some(cycle) = visit(next, edges, state, stack) {
                        return Some(cycle);
                    }
                }
            }
        }
        stack.pop();
        state.insert(node.to_owned(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if !state.contains_key(node.as_str()) {
            let mut stack = Vec::new();
            if let Some(cycle) = visit(node, edges, &mut state, &mut stack) {
                return Some(cycle);
            }
        }
    }
    None
}

/// The graph of `sites` without the allowed edges.
fn checked_edges(sites: &Sites) -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in sites.keys() {
        if !ALLOWED.iter().any(|&(a, b, _)| a == from && b == to) {
            edges.entry(from.clone()).or_default().insert(to.clone());
        }
    }
    edges
}

/// The cycle as text, each edge with where it is seen.
fn describe(cycle: &[String], sites: &Sites) -> String {
    let mut text = cycle.join(" -> ");
    for pair in cycle.windows(2) {
        let seen = &sites[&(pair[0].clone(), pair[1].clone())];
        let shown: Vec<&str> = seen.iter().take(5).map(String::as_str).collect();
        text.push_str(&format!(
            "\n  {} -> {}: {}{}",
            pair[0],
            pair[1],
            shown.join(", "),
            if seen.len() > 5 { ", …" } else { "" }
        ));
    }
    text
}

#[test]
fn top_level_modules_have_no_cycles() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let sources: Vec<(String, String)> = rust_files(&src)
        .into_iter()
        .map(|path| {
            let relative = path
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{relative}: {e}"));
            (relative, text)
        })
        .collect();
    assert!(sources.len() > 20, "the sources were not found");
    let sites = module_graph(&sources);
    let mut graph: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, to) in sites.keys() {
        graph.entry(from).or_default().push(to);
    }
    println!("module dependencies:");
    for (from, to) in &graph {
        println!("  {from} -> {}", to.join(", "));
    }
    for &(from, to, _) in ALLOWED {
        assert!(
            sites.contains_key(&(from.to_owned(), to.to_owned())),
            "the allowed edge {from} -> {to} is gone: remove it from ALLOWED"
        );
    }
    if let Some(cycle) = find_cycle(&checked_edges(&sites)) {
        panic!(
            "the top-level modules depend on each other in a cycle: {}",
            describe(&cycle, &sites)
        );
    }
}

#[test]
fn cycles_are_found_and_comments_strings_and_tests_ignored() {
    let file = |path: &str, text: &str| (path.to_owned(), text.to_owned());
    let sources = vec![
        file("lib.rs", "mod a; mod b; mod c; use crate::c::X;"),
        file(
            "a/mod.rs",
            "use crate::b::X;\n// crate::c::Y\n/// crate::c::Y\n#[cfg(test)]\nmod tests;\n\
             #[cfg(test)]\n#[allow(dead_code)]\npub(crate) mod fixture;",
        ),
        file("a/tests.rs", "use crate::c::Z;"),
        file("a/fixture.rs", "use crate::c::Z;"),
        file(
            "b.rs",
            "use crate::{error::E, c::Y};\nconst S: &str = \"crate::a\";\n\
             fn f<'a>(x: &'a str) -> char { 'x' }\n\
             const Q: (char, char) = ('\\'', '\"'); const R: &str = r#\"crate::a\"#;\n\
             #[cfg(test)]\nmod tests {\n    use crate::a::T;\n}\n",
        ),
        file(
            "c.rs",
            "/* crate::a */ use crate::error::E;\nfn g() { crate::a::f() }",
        ),
        file("error.rs", ""),
    ];
    let sites = module_graph(&sources);
    let edges: Vec<(&str, &str)> = sites
        .keys()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    assert_eq!(edges, [("a", "b"), ("b", "c"), ("c", "a")]);
    assert_eq!(sites[&("c".to_owned(), "a".to_owned())], ["src/c.rs:2"]);
    let cycle = find_cycle(&checked_edges(&sites)).expect("a cycle");
    assert_eq!(cycle, ["a", "b", "c", "a"]);
    assert!(describe(&cycle, &sites).contains("c -> a: src/c.rs:2"));
}
