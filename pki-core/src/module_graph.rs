//! A test that this crate's modules import one another without cycles, so that they keep the
//! layering described in the crate docs ("Modules by responsibility").
//!
//! The imports are read from the sources: every `crate::` path outside comments and test modules
//! (`use` items, full paths in code and in attributes such as serde's `serialize_with`), whether
//! it names a module (`crate::cert::Certificate`, `crate::{cert, key}`) or an item re-exported at
//! the root (`crate::Result`, resolved through lib.rs's `pub use` lines).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Import edges known to form a cycle and left as they are: `error` names `files::FileKind` in
/// `Error::NotRegularFile`, and `files` returns `Error`. Breaking it means moving `FileKind` out
/// of files.rs, which is left to whoever next changes error.rs and files.rs.
const KNOWN_CYCLE_EDGES: &[(&str, &str)] = &[("error", "files")];

/// Module name to the modules it imports.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn modules_import_one_another_without_cycles() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(graph.contains_key("cert") && graph["load"].contains("cert"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the modules import one another in a cycle: {}; move what the lower module needs \
             below it (see \"Modules by responsibility\" in lib.rs)",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_reader_sees_imports_in_every_form() {
    let modules: BTreeSet<String> = ["cert", "error", "key", "load", "scan", "walk"]
        .map(String::from)
        .into();
    let reexports = BTreeMap::from([("Result".to_string(), "error".to_string())]);
    let source = r#"
//! Docs that mention crate::walk are no import.
use crate::cert::Certificate;
use crate::{key::{self, PrivateKey}, Result};
#[serde(serialize_with = "crate::load::serde")]
fn f() {} // nor is crate::walk in a comment

#[cfg(test)]
mod tests {
    use crate::scan::Issuer;
}
"#;
    assert_eq!(
        imports(source, &modules, &reexports),
        ["cert", "error", "key", "load"].map(String::from).into()
    );
    let code = r#"let _ = "a // b"; crate::walk::list_files(&roots);"#;
    assert_eq!(
        imports(code, &modules, &reexports),
        ["walk"].map(String::from).into()
    );
    assert_eq!(
        declared_modules("mod cert;\npub mod write;\n#[cfg(test)]\nmod test_support;\n"),
        ["cert", "write"].map(String::from).into()
    );
}

/// The import graph of the modules declared in `src/lib.rs`.
fn module_graph(src: &Path) -> Graph {
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    let modules = declared_modules(&lib);
    let reexports = root_reexports(&lib);
    modules
        .iter()
        .map(|m| {
            let source = std::fs::read_to_string(src.join(format!("{m}.rs")))
                .unwrap_or_else(|e| panic!("{m}.rs: {e}"));
            let mut deps = imports(&source, &modules, &reexports);
            deps.remove(m);
            (m.clone(), deps)
        })
        .collect()
}

/// `mod x;` and `pub mod x;` in lib.rs, but for test-only modules.
fn declared_modules(lib: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut test_only = false;
    for line in lib.lines().map(str::trim) {
        let module = line
            .strip_prefix("pub mod ")
            .or_else(|| line.strip_prefix("mod "))
            .and_then(|rest| rest.strip_suffix(';'));
        if let (Some(module), false) = (module, test_only) {
            out.insert(module.to_string());
        }
        test_only = line == "#[cfg(test)]";
    }
    out
}

/// The names lib.rs re-exports at the root, each with the module it comes from.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let code = without_comments(lib);
    let mut out = BTreeMap::new();
    for item in code.split(';') {
        let Some(path) = item.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, rest)) = path.split_once("::") else {
            continue;
        };
        let names = rest.trim().trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',') {
            // `encode as pem_encode` is re-exported as `pem_encode`.
            if let Some(name) = name.split_whitespace().last() {
                out.insert(name.to_string(), module.trim().to_string());
            }
        }
    }
    out
}

/// The modules among `modules` that `source` imports outside comments and test modules.
fn imports(
    source: &str,
    modules: &BTreeSet<String>,
    reexports: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let code = without_comments(&without_test_modules(source));
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let firsts = match rest.strip_prefix('{') {
            Some(group) => group_heads(group),
            None => vec![ident(rest)],
        };
        for first in firsts {
            if modules.contains(first) {
                out.insert(first.to_string());
            } else if let Some(module) = reexports.get(first) {
                out.insert(module.clone());
            }
        }
    }
    out
}

/// The first segment of each path in a `{...}` group (given without its `{`).
fn group_heads(group: &str) -> Vec<&str> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect_head = true;
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expect_head = true,
            c if expect_head && !c.is_whitespace() => {
                heads.push(ident(&group[i..]));
                expect_head = false;
            }
            _ => {}
        }
    }
    heads
}

fn ident(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The source without `#[cfg(test)]` modules (rustfmt closes a top-level module with a `}` line).
fn without_test_modules(source: &str) -> String {
    let mut out = String::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        let test_module =
            line.trim() == "#[cfg(test)]" && lines.peek().is_some_and(|l| l.starts_with("mod "));
        if test_module {
            if lines.next().is_some_and(|l| l.ends_with('{')) {
                lines.by_ref().find(|l| *l == "}");
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The source without `//` comments (doc comments included); string literals are kept.
fn without_comments(source: &str) -> String {
    let mut out = String::new();
    for line in source.lines() {
        let mut in_string = false;
        let mut escaped = false;
        let mut end = line.len();
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                _ if escaped => escaped = false,
                b'\\' if in_string => escaped = true,
                b'"' => in_string = !in_string,
                b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        out.push_str(&line[..end]);
        out.push('\n');
    }
    out
}

/// A cycle of imports, as the modules along it (the first repeated at the end), if there is one.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        module: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|m| m == module) {
            let mut cycle = path[start..].to_vec();
            cycle.push(module.to_string());
            return Some(cycle);
        }
        if done.contains(module) {
            return None;
        }
        path.push(module.to_string());
        for dep in graph.get(module).into_iter().flatten() {
            if KNOWN_CYCLE_EDGES.contains(&(module, dep.as_str())) {
                continue;
            }
            if let Some(cycle) = visit(dep, graph, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(module.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut done, &mut Vec::new()))
}
