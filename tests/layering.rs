//! The crates stay layered: every module is in a declared layer, imports only from its
//! own layer or below, and no modules import each other in a cycle (README,
//! "Architecture"). Checked over the source, for `tracing-error-reports` (`src/`) and
//! `tracing-scrub` (`crates/tracing-scrub/src/`).
//!
//! Read are `use` declarations (with their `{..}` groups, `self`, `super`, `crate` and
//! child-module paths) and inline paths (`crate::a::b(..)`, `super::x`), outside
//! comments, string and character literals and `#[cfg(test)]` modules (tests may reach
//! anywhere). A path resolves to the deepest module it names; an item re-exported at the
//! crate root (`crate::FloodLimit`) to the module it is re-exported from.
//!
//! A module added to a crate must be added to its table below, in the layer it belongs
//! to: the test fails on a module it does not know.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `tracing-error-reports`, bottom to top. A module may import from its own layer and
/// those before it. `scrub` is the `tracing-scrub` crate, re-exported.
const REPORTER: &[(&str, &[&str])] = &[
    ("leaves", &["sync", "wire", "scrub"]),
    (
        "capture",
        &[
            "capture",
            "errors",
            "fields",
            "span_fields",
            "identity",
            "crumb",
            "flood",
            "propagation",
            "otel",
            "hub_scope",
        ],
    ),
    ("request state", &["request", "transaction", "entered"]),
    ("report building", &["report"]),
    (
        "delivery",
        &[
            "hooks",
            "fair",
            "spool",
            "http",
            "budget",
            "transport",
            "log_batch",
            "sessions",
            "worker",
        ],
    ),
    (
        "front",
        &[
            "admission",
            "logs",
            "metrics",
            "reporting",
            "layer",
            "panic",
            "direct",
            "link",
            "carry",
        ],
    ),
    ("setup", &["config", "env", "exit", "init"]),
    ("integrations", &["integration", "grpc", "actix"]),
    ("beside the layers", &["testing", "docs"]),
];

/// `tracing-scrub`, bottom to top.
const SCRUBBER: &[(&str, &[&str])] = &[
    (
        "leaves",
        &[
            "rules",
            "finding",
            "words",
            "normalize",
            "checksums",
            "vendors",
            "paths",
            "clean",
        ],
    ),
    (
        "vocabulary",
        &["locale_words", "national_ids", "phones", "cards"],
    ),
    ("keys", &["keys"]),
    ("detectors", &["text", "secrets", "personal", "values"]),
    ("project rules", &["pii_config"]),
    ("engine", &["engine"]),
    ("walks", &["protocol", "layer"]),
];

/// One source file of a crate: its module path (`""` for the root, `report::event`).
struct Source {
    module: String,
    file: String,
    text: String,
}

/// An import found in a file.
#[derive(Debug)]
struct Import {
    from: String,
    to: String,
    file: String,
    line: usize,
}

#[derive(Debug, Default)]
struct Findings {
    modules: usize,
    imports: usize,
    unknown: Vec<String>,
    upward: Vec<String>,
    cycles: Vec<String>,
}

fn read_crate(src: &Path) -> Vec<Source> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<Source>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("readable source dir")
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(root).expect("under the root");
                let mut parts: Vec<String> = relative
                    .with_extension("")
                    .iter()
                    .map(|p| p.to_string_lossy().into_owned())
                    .collect();
                if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
                    parts.pop();
                }
                out.push(Source {
                    module: parts.join("::"),
                    file: path.display().to_string(),
                    text: std::fs::read_to_string(&path).expect("readable source"),
                });
            }
        }
    }
    let mut out = Vec::new();
    walk(src, src, &mut out);
    out
}

/// `text` with comments, string and character literals blanked (newlines kept, so line
/// numbers stay right).
fn strip_literals(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = Vec::with_capacity(chars.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.extend([' ', ' ']);
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.extend([' ', ' ']);
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !out.last().is_some_and(|p| is_ident(*p))
        {
            // A raw string: r"..", r#".."#, br#".."#.
            let mut hashes = 0;
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let close: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let mut k = j + 1;
            while k < chars.len() && chars[k..].iter().take(close.len()).ne(close.iter()) {
                k += 1;
            }
            let end = (k + close.len()).min(chars.len());
            out.extend(chars[i..end].iter().map(|c| blank(*c)));
            i = end;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}'), else a lifetime.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                out.extend(chars[i..=j.min(chars.len() - 1)].iter().map(|c| blank(*c)));
                i = j + 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                out.extend([' ', ' ', ' ']);
                i += 3;
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out.into_iter().collect()
}

/// `text` without its `#[cfg(test)] mod .. { .. }` blocks (blanked), and the names of
/// child modules declared test-only (`#[cfg(test)] mod reference;`).
fn strip_test_modules(text: &str) -> (String, Vec<String>) {
    let mut out: Vec<char> = text.chars().collect();
    let mut test_only = Vec::new();
    let marker: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while i + marker.len() <= out.len() {
        if out[i..i + marker.len()] != marker[..] {
            i += 1;
            continue;
        }
        let rest: String = out[i + marker.len()..].iter().collect();
        let item = rest.trim_start();
        let skipped = rest.len() - item.len();
        let Some(after_mod) = item
            .strip_prefix("mod ")
            .or_else(|| item.strip_prefix("pub(crate) mod "))
        else {
            i += marker.len();
            continue;
        };
        let name: String = after_mod
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let after_name = after_mod.trim_start()[name.len()..].trim_start();
        if after_name.starts_with(';') {
            test_only.push(name);
            i += marker.len();
            continue;
        }
        // Blank from the marker to the block's closing brace.
        let open = i + marker.len() + skipped + item.find('{').unwrap_or(0);
        let mut depth = 0;
        let mut j = open;
        while j < out.len() {
            match out[j] {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
            j += 1;
        }
        let end = j.min(out.len() - 1);
        for c in &mut out[i..=end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        i = j + 1;
    }
    (out.into_iter().collect(), test_only)
}

/// The paths of a `use` tree (`a::{b, c::{d, e as f}, self}` -> `a::b`, `a::c::d`, ..).
fn use_paths(tree: &str) -> Vec<Vec<String>> {
    fn parse(tree: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let tree = tree.trim();
        if tree.is_empty() {
            return;
        }
        if let Some(open) = tree.find('{') {
            let head: Vec<String> = tree[..open]
                .split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let mut base = prefix.to_vec();
            base.extend(head);
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            let mut depth = 0;
            let mut start = 0;
            for (at, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        parse(&inner[start..at], &base, out);
                        start = at + 1;
                    }
                    _ => {}
                }
            }
            parse(&inner[start..], &base, out);
            return;
        }
        let path = tree.split(" as ").next().unwrap_or(tree);
        let mut full = prefix.to_vec();
        full.extend(
            path.split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "*" && *s != "self")
                .map(str::to_owned),
        );
        out.push(full);
    }
    let mut out = Vec::new();
    parse(tree, &[], &mut out);
    out
}

/// A crate's modules and every import.
struct Crate {
    modules: BTreeSet<String>,
    imports: Vec<Import>,
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map_or(String::new(), |(p, _)| p.to_owned())
}

fn join(module: &str, name: &str) -> String {
    if module.is_empty() {
        name.to_owned()
    } else {
        format!("{module}::{name}")
    }
}

/// The module a path names, as seen from `module`; `None` for other crates.
fn resolve(
    path: &[String],
    module: &str,
    modules: &BTreeSet<String>,
    externals: &[&str],
) -> Option<String> {
    let mut base = module.to_owned();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base = String::new();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().is_some_and(|s| s == "super") {
                base = parent(&base);
                rest = &rest[1..];
            }
        }
        Some(first) if modules.contains(&join(module, first)) => {}
        _ => return None,
    }
    if base.is_empty()
        && rest
            .first()
            .is_some_and(|s| externals.contains(&s.as_str()))
    {
        return Some(rest[0].clone());
    }
    let mut found = base.clone();
    for segment in rest {
        let candidate = join(&found, segment);
        if modules.contains(&candidate) {
            found = candidate;
        } else {
            break;
        }
    }
    Some(found)
}

/// Reads a crate's modules and imports. `externals`: names at the root that stand for
/// another crate (`scrub`), each a unit of its own.
fn analyse(sources: &[Source], externals: &[&str]) -> Crate {
    let mut modules: BTreeSet<String> = sources.iter().map(|s| s.module.clone()).collect();
    for external in externals {
        modules.insert((*external).to_owned());
    }
    let mut test_only = BTreeSet::new();
    let mut cleaned = Vec::new();
    for source in sources {
        let (text, tests) = strip_test_modules(&strip_literals(&source.text));
        for name in tests {
            test_only.insert(join(&source.module, &name));
        }
        cleaned.push(text);
    }
    let mut reexports = BTreeMap::new();
    let mut imports = Vec::new();
    for (source, text) in sources.iter().zip(&cleaned) {
        if test_only
            .iter()
            .any(|t| source.module == *t || source.module.starts_with(&format!("{t}::")))
        {
            continue;
        }
        let mut text = text.clone();
        let mut found: Vec<(usize, Vec<String>, bool)> = Vec::new();
        // `use` declarations, then blanked so their paths are not read twice.
        let mut at = 0;
        while let Some(rel) = text[at..].find("use ") {
            let start = at + rel;
            let before = text[..start].trim_end();
            let statement_start = before.is_empty()
                || before.ends_with([';', '{', '}'])
                || before.ends_with(')')
                || before.ends_with("pub");
            let ident_before = text[..start]
                .chars()
                .last()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
            let Some(end) = text[start..].find(';').map(|e| start + e) else {
                break;
            };
            if !statement_start || ident_before {
                at = start + 4;
                continue;
            }
            let line = text[..start].matches('\n').count() + 1;
            for path in use_paths(&text[start + 4..end]) {
                found.push((line, path, true));
            }
            let blanked: String = text[start..end]
                .chars()
                .map(|c| if c == '\n' { '\n' } else { ' ' })
                .collect();
            text.replace_range(start..end, &blanked);
            at = end;
        }
        // Inline paths.
        for keyword in ["crate::", "super::", "self::"] {
            let mut at = 0;
            while let Some(rel) = text[at..].find(keyword) {
                let start = at + rel;
                at = start + keyword.len();
                if text[..start]
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$' || c == ':')
                {
                    continue;
                }
                let path: String = text[start..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect();
                let line = text[..start].matches('\n').count() + 1;
                found.push((
                    line,
                    path.split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect(),
                    false,
                ));
            }
        }
        for (line, path, is_use) in found {
            let Some(to) = resolve(&path, &source.module, &modules, externals) else {
                continue;
            };
            if source.module.is_empty() && is_use {
                // The root's `pub use module::Item`: a re-export, not an import.
                if let Some(name) = path.last() {
                    reexports.insert(name.clone(), to.clone());
                }
                continue;
            }
            imports.push(Import {
                from: source.module.clone(),
                to,
                file: source.file.clone(),
                line,
            });
        }
    }
    // A path to an item re-exported at the root names the module it comes from.
    for import in &mut imports {
        if import.to.is_empty() {
            let source = sources
                .iter()
                .zip(&cleaned)
                .find(|(s, _)| s.file == import.file)
                .map(|(_, t)| t.as_str())
                .unwrap_or_default();
            let line = source.lines().nth(import.line - 1).unwrap_or_default();
            if let Some(name) = reexports
                .keys()
                .find(|name| line.contains(&format!("crate::{name}")))
            {
                import.to = reexports[name].clone();
            }
        }
    }
    modules.retain(|m| !test_only.contains(m));
    Crate { modules, imports }
}

/// The top-level module of a module path (`report::event` -> `report`).
fn unit(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

fn check(krate: &Crate, layers: &[(&str, &[&str])]) -> Findings {
    let layer_of = |unit: &str| layers.iter().position(|(_, units)| units.contains(&unit));
    let mut findings = Findings {
        modules: krate.modules.len(),
        imports: krate.imports.len(),
        ..Findings::default()
    };
    let units: BTreeSet<&str> = krate
        .modules
        .iter()
        .map(|m| unit(m))
        .filter(|u| !u.is_empty())
        .collect();
    for u in &units {
        if layer_of(u).is_none() {
            findings
                .unknown
                .push(format!("module `{u}` is in no layer: add it to the table"));
        }
    }
    for import in &krate.imports {
        let (from, to) = (unit(&import.from), unit(&import.to));
        if from.is_empty() || to.is_empty() || from == to {
            continue;
        }
        if let (Some(a), Some(b)) = (layer_of(from), layer_of(to)) {
            if b > a {
                findings.upward.push(format!(
                    "{}:{}: `{}` ({}) imports `{}` ({}), a layer above it",
                    import.file, import.line, import.from, layers[a].0, import.to, layers[b].0
                ));
            }
        }
    }
    // Cycles between modules (submodules included): strongly connected components.
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for import in &krate.imports {
        if import.from != import.to && !import.to.is_empty() && !import.from.is_empty() {
            edges
                .entry(import.from.as_str())
                .or_default()
                .insert(import.to.as_str());
        }
    }
    for component in strongly_connected(&edges) {
        if component.len() > 1 {
            let where_: Vec<String> = krate
                .imports
                .iter()
                .filter(|i| {
                    component.contains(&i.from.as_str()) && component.contains(&i.to.as_str())
                })
                .map(|i| format!("{}:{} ({} -> {})", i.file, i.line, i.from, i.to))
                .collect();
            findings.cycles.push(format!(
                "cycle between {}: {}",
                component.join(", "),
                where_.join("; ")
            ));
        }
    }
    findings
}

/// Tarjan's strongly connected components.
fn strongly_connected<'a>(edges: &BTreeMap<&'a str, BTreeSet<&'a str>>) -> Vec<Vec<&'a str>> {
    struct State<'a> {
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<&'a str>>,
    }
    fn visit<'a>(v: &'a str, edges: &BTreeMap<&'a str, BTreeSet<&'a str>>, s: &mut State<'a>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, edges, s);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            component.sort_unstable();
            s.out.push(component);
        }
    }
    let mut state = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    let nodes: BTreeSet<&str> = edges
        .iter()
        .flat_map(|(k, vs)| std::iter::once(*k).chain(vs.iter().copied()))
        .collect();
    for v in nodes {
        if !state.index.contains_key(v) {
            visit(v, edges, &mut state);
        }
    }
    state.out
}

/// Every finding, one line each.
fn problems(findings: &Findings) -> Vec<&str> {
    findings
        .unknown
        .iter()
        .chain(&findings.cycles)
        .chain(&findings.upward)
        .map(String::as_str)
        .collect()
}

fn report(name: &str, findings: &Findings) {
    println!(
        "{name}: {} modules, {} imports; unknown modules {}, import cycles {}, upward imports {}",
        findings.modules,
        findings.imports,
        findings.unknown.len(),
        findings.cycles.len(),
        findings.upward.len()
    );
    let problems = problems(findings);
    assert!(
        problems.is_empty(),
        "{name} is not layered:\n{}",
        problems.join("\n")
    );
}

#[test]
fn tracing_error_reports_is_layered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let krate = analyse(&read_crate(&root.join("src")), &["scrub"]);
    let findings = check(&krate, REPORTER);
    // The check reads what it should: a sample of the imports it must see.
    for (from, to) in [
        ("layer", "admission"),
        ("report::event", "report::tags"),
        ("worker", "hooks"),
        ("request", "identity"),
        ("config", "scrub"),
        ("init", "reporting"),
    ] {
        assert!(
            krate.imports.iter().any(|i| i.from == from && i.to == to),
            "the import {from} -> {to} was not found"
        );
    }
    assert!(
        findings.imports > 100,
        "only {} imports read",
        findings.imports
    );
    report("tracing-error-reports", &findings);
}

#[test]
fn tracing_scrub_is_layered() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/tracing-scrub/src");
    let krate = analyse(&read_crate(&root), &[]);
    let findings = check(&krate, SCRUBBER);
    assert!(
        krate
            .imports
            .iter()
            .any(|i| i.from == "values" && i.to == "text"),
        "the import values -> text was not found"
    );
    assert!(
        !krate.modules.contains("protocol::reference"),
        "a test-only module is not part of the layers"
    );
    report("tracing-scrub", &findings);
}

/// The check fails on what it is for: an upward import (by `use`, by an inline path, and
/// by `super::` climbing out of a module), a cycle, and a module in no layer.
#[test]
fn the_check_finds_upward_imports_cycles_and_unknown_modules() {
    let source = |module: &str, text: &str| Source {
        module: module.to_owned(),
        file: format!("src/{}.rs", module.replace("::", "/")),
        text: text.to_owned(),
    };
    const LAYERS: &[(&str, &[&str])] = &[("low", &["low"]), ("high", &["high"])];
    let sources = [
        source("", "mod low;\nmod high;\npub use high::Top;\n"),
        source(
            "low",
            "// use crate::high::Comment; is not an import\n\
             const S: &str = \"crate::high::Str\";\n\
             use crate::high::Top;\n\
             fn f() { crate::high::g(); let _ = crate::Top; }\n\
             fn h() { let _ = super::high::Top; }\n\
             #[cfg(test)]\nmod tests { use crate::high::Fine; }\n",
        ),
        source("high", "use crate::low::f;\npub struct Top;\n"),
    ];
    let krate = analyse(&sources, &[]);
    let findings = check(&krate, LAYERS);
    assert_eq!(findings.upward.len(), 4, "{:#?}", findings.upward);
    assert!(
        findings.upward[0].starts_with("src/low.rs:3:"),
        "{}",
        findings.upward[0]
    );
    assert!(findings
        .upward
        .iter()
        .any(|u| u.starts_with("src/low.rs:4:")));
    assert!(findings
        .upward
        .iter()
        .any(|u| u.starts_with("src/low.rs:5:")));
    assert_eq!(findings.cycles.len(), 1, "{:#?}", findings.cycles);
    assert!(
        findings.cycles[0].contains("high, low"),
        "{}",
        findings.cycles[0]
    );

    let mut unknown = sources;
    unknown[2].module = "elsewhere".to_owned();
    let findings = check(&analyse(&unknown, &[]), LAYERS);
    assert_eq!(findings.unknown.len(), 1, "{:?}", findings.unknown);
    assert_eq!(
        problems(&findings),
        ["module `elsewhere` is in no layer: add it to the table"]
    );
}

#[test]
fn use_trees_expand_to_every_path() {
    let paths = use_paths("crate::{a, b::{c, d as e}, f::*, self}");
    let joined: Vec<String> = paths.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        joined,
        [
            "crate::a",
            "crate::b::c",
            "crate::b::d",
            "crate::f",
            "crate"
        ]
    );
}
