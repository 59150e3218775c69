//! Generates the PII-corpus test cases (tests/pii_corpus.rs) from the corpus file:
//! tracing field names are static, so each case becomes code.
//!
//! The corpus is read from `$PII_CORPUS`, else `../shared/pii-corpus/public.jsonl`
//! (the project's shared copy), else the vendored `tests/data/pii-corpus-public.jsonl`.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=PII_CORPUS");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let candidates = [
        std::env::var("PII_CORPUS").ok().map(PathBuf::from),
        Some(manifest.join("../shared/pii-corpus/public.jsonl")),
        Some(manifest.join("tests/data/pii-corpus-public.jsonl")),
    ];
    let mut source = None;
    for path in candidates.into_iter().flatten() {
        println!("cargo:rerun-if-changed={}", path.display());
        if source.is_none() {
            if let Ok(text) = std::fs::read_to_string(&path) {
                source = Some((path, text));
            }
        }
    }
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("pii_corpus_cases.rs");
    let code = match source {
        Some((path, text)) => generate(&path, &text),
        None => "pub const CORPUS_PATH: &str = \"\";\npub const CASES: &[Case] = &[];\npub fn run_case(_: usize) -> usize { 0 }\n".to_owned(),
    };
    std::fs::write(out, code).expect("OUT_DIR is writable");
}

fn strings(value: &serde_json::Value, key: &str) -> Vec<String> {
    value[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn generate(path: &std::path::Path, text: &str) -> String {
    let mut cases = String::new();
    let mut arms = String::new();
    let mut index = 0;
    for (line_no, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: serde_json::Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => panic!("{}:{}: not JSON: {e}", path.display(), line_no + 1),
        };
        let id = case["id"].as_str().unwrap_or("?");
        let place = case["place"].as_str().unwrap_or("?");
        let key = case["key"].as_str().unwrap_or("detail");
        let value = case["value"].as_str().unwrap_or("");
        let (secret, keep) = (strings(&case, "secret"), strings(&case, "keep"));
        let _ = writeln!(
            cases,
            "    Case {{ id: {id:?}, place: {place:?}, secrets: &{secret:?}, keep: &{keep:?} }},"
        );
        let body = match place {
            "event_field" => format!("tracing::error!({key:?} = {value:?}, \"pii corpus case\"); 1"),
            "span_field" => format!(
                "tracing::info_span!(\"request\", {key:?} = {value:?}).in_scope(|| tracing::error!(\"pii corpus case\")); 1"
            ),
            "span_record" => format!(
                "let span = tracing::info_span!(\"request\", {key:?} = tracing::field::Empty); \
                 span.record({key:?}, {value:?}); span.in_scope(|| tracing::error!(\"pii corpus case\")); 1"
            ),
            "message" => format!("tracing::error!(\"{{}}\", {value:?}); 1"),
            "error_chain" => format!(
                "let top = CorpusError::new({value:?}, None); \
                 tracing::error!(error = &top as &(dyn std::error::Error + 'static), \"pii corpus case\"); \
                 let chained = CorpusError::new(\"request failed\", Some(CorpusError::new({value:?}, None))); \
                 tracing::error!(error = &chained as &(dyn std::error::Error + 'static), \"pii corpus case\"); 2"
            ),
            "breadcrumb" => format!(
                "tracing::info_span!(\"request\").in_scope(|| {{ tracing::info!({key:?} = {value:?}, \"step\"); \
                 tracing::error!(\"pii corpus case\"); }}); 1"
            ),
            "breadcrumb_message" => format!(
                "tracing::info_span!(\"request\").in_scope(|| {{ tracing::info!(\"{{}}\", {value:?}); \
                 tracing::error!(\"pii corpus case\"); }}); 1"
            ),
            "panic" => format!(
                "tracing::info_span!(\"request\").in_scope(|| {{ \
                 let _ = std::panic::catch_unwind(|| panic!(\"{{}}\", {value:?})); }}); 1"
            ),
            other => panic!("{}:{}: unknown place {other:?}", path.display(), line_no + 1),
        };
        let _ = writeln!(arms, "        {index} => {{ {body} }}");
        index += 1;
    }
    format!(
        "pub const CORPUS_PATH: &str = {:?};\npub const CASES: &[Case] = &[\n{cases}];\n\
         /// Runs case `index`; returns how many reports it makes.\n\
         pub fn run_case(index: usize) -> usize {{\n    match index {{\n{arms}        _ => 0,\n    }}\n}}\n",
        path.display().to_string()
    )
}
