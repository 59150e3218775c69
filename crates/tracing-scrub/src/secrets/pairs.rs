//! A name and its value in two fields or two elements: `EnvVar { name: "DB_PASSWORD",
//! value: Some("..") }` (k8s-openapi), `Header { name: "authorization", value: ".." }`,
//! `{"name":"API_TOKEN","value":".."}` (Kubernetes and ECS manifests),
//! `{"Key":"/prod/db/password","Value":".."}`, `{"ParameterKey":"DbPassword",
//! "ParameterValue":".."}` (CloudFormation), `<add key="StripeSecret" value=".."/>`
//! (.NET configuration), `["password", ".."]` (Rails bind lists, header lists); typed
//! `Authorization(..)` headers, whose content is the credential; and decoded Basic
//! credentials after a credential word (`Basic { decoded: "user:pw" }`,
//! `credentials decoded as ("user", Some("pw"))`).

use super::bytes::{quoted, skip_blanks};
use super::Scan;

/// Field names whose string value names another field's content.
const NAME_FIELDS: &[&str] = &[
    "name",
    "key",
    "param",
    "parameter",
    "parameterkey",
    "parametername",
    "optionname",
    "settingname",
    "keyname",
    "propertyname",
    "variablename",
    "headername",
    "fieldname",
];

/// Field names holding the content a name field names.
const VALUE_FIELDS: &[&str] = &[
    "value",
    "val",
    "values",
    "data",
    "secret",
    "stringvalue",
    "parametervalue",
    "optionvalue",
    "settingvalue",
    "propertyvalue",
    "content",
    "contents",
    "headervalue",
    "fieldvalue",
    "secretstring",
    "secretvalue",
    "plaintext",
];

/// How far after a sensitive name its value is looked for.
const PAIR_WINDOW: usize = 512;

pub(super) fn at_word(scan: &mut Scan<'_, '_>, s: usize, e: usize, word: &str) -> Option<usize> {
    if NAME_FIELDS.contains(&word) {
        if let Some(next) = name_value(scan, s, e) {
            return Some(next);
        }
    }
    if let Some(next) = bracket_pair(scan, s, e) {
        return Some(next);
    }
    match word {
        "authorization" | "proxyauthorization" => typed_header(scan, e, false),
        "basic" | "bearer" => typed_header(scan, e, true).or_else(|| decoded_credentials(scan, e)),
        "credentials" | "creds" | "decoded" | "basicauth" | "userinfo" => {
            decoded_credentials(scan, e)
        }
        _ => None,
    }
}

/// After a field name at `s..e` (`name: "X"`, `"Name": "X"`, `key="X"`): when `X` names
/// a secret, the value field of the same object is reported.
fn name_value(scan: &mut Scan<'_, '_>, s: usize, e: usize) -> Option<usize> {
    let b = scan.b;
    let mut p = e;
    // A quoted field name (JSON, XML attribute values come after `=`).
    if s > 0 && matches!(b[s - 1], b'"' | b'\'') && b.get(e) == Some(&b[s - 1]) {
        p += 1;
    } else if s > 0 && (b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_') {
        return None;
    }
    p = skip_blanks(b, p);
    if b[p.min(b.len())..].starts_with(b"=>") {
        p += 2;
    } else if matches!(b.get(p), Some(b':' | b'=')) {
        p += 1;
    } else {
        return None;
    }
    p = skip_blanks(b, p);
    // `Some("X")` in `Debug` output.
    if b[p.min(b.len())..].starts_with(b"Some(") {
        p += 5;
    }
    // Quoted (JSON, `Debug`), or a bare YAML scalar (`- name: DB_PASSWORD`, its value
    // on a later line).
    let (ns, ne, after) = quoted(b, p, 128).or_else(|| {
        let end = super::bytes::bare_end(b, p, 128, b",;)}]\"'");
        (end > p
            && b.get(end)
                .is_none_or(|c| matches!(c, b'\n' | b'\r' | b' ' | b',' | b'}')))
        .then_some((p, end, end))
    })?;
    *scan.steps += (after - e) as u64;
    let name = &scan.text[ns..ne];
    if !names_secret(scan, name) {
        return None;
    }
    match value_field(scan, after) {
        Ok((vs, ve)) => {
            scan.push(vs, ve, "@name_value");
            Some(ve)
        }
        Err(skip) => Some(skip),
    }
}

/// Whether a name (an environment variable, a header, a parameter path such as
/// `/prod/billing/stripe_secret`) names a secret.
fn names_secret(scan: &Scan<'_, '_>, name: &str) -> bool {
    if name.is_empty() || name.len() > 96 {
        return false;
    }
    scan.keys.is_sensitive(name)
        || name
            .rsplit(['/', ':'])
            .next()
            .is_some_and(|last| last != name && scan.keys.is_sensitive(last))
}

/// The first value field after `from` in the same object: the bounds of its value (the
/// inside of a quoted string, or the whole of a bracketed or bare value).
fn value_field(scan: &mut Scan<'_, '_>, from: usize) -> Result<(usize, usize), usize> {
    let b = scan.b;
    let limit = (from + PAIR_WINDOW).min(b.len());
    let mut depth = 0usize;
    let mut k = from;
    while k < limit {
        let c = b[k];
        match c {
            b'"' | b'\'' if depth == 0 || c == b'"' => {
                // A quoted field name at this level, or a string to skip.
                if let Some((qs, qe, after)) = quoted(b, k, 256) {
                    if depth == 0 && is_value_field(&b[qs..qe]) {
                        if let Some(v) = value_after_field(scan, after) {
                            *scan.steps += (k - from) as u64;
                            return Ok(v);
                        }
                    }
                    k = after;
                    continue;
                }
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' | b'>' => {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            }
            c if c.is_ascii_alphabetic()
                && depth == 0
                && (k == 0 || !b[k - 1].is_ascii_alphanumeric()) =>
            {
                let mut w = k;
                while w < limit && (b[w].is_ascii_alphanumeric() || b[w] == b'_') {
                    w += 1;
                }
                if is_value_field(&b[k..w]) {
                    if let Some(v) = value_after_field(scan, w) {
                        *scan.steps += (k - from) as u64;
                        return Ok(v);
                    }
                }
                // The next item's name (`- name: B` in a YAML list): this one has no value.
                if b[k..w].eq_ignore_ascii_case(b"name")
                    && matches!(b.get(skip_blanks(b, w)), Some(b':' | b'='))
                {
                    break;
                }
                k = w;
                continue;
            }
            _ => {}
        }
        k += 1;
    }
    *scan.steps += (k - from) as u64;
    // The object closed without a value field: the next name may be looked at. Not
    // closed within the window: the text up to here is not looked at again.
    Err(if k >= limit { k } else { from })
}

fn is_value_field(w: &[u8]) -> bool {
    if w.len() > 16 {
        return false;
    }
    let lower: Vec<u8> = w
        .iter()
        .filter(|c| **c != b'_')
        .map(u8::to_ascii_lowercase)
        .collect();
    VALUE_FIELDS
        .iter()
        .any(|f| f.as_bytes() == lower.as_slice())
}

/// After a value field's name: its separator and value.
fn value_after_field(scan: &Scan<'_, '_>, at: usize) -> Option<(usize, usize)> {
    let b = scan.b;
    let mut p = skip_blanks(b, at);
    if b[p.min(b.len())..].starts_with(b"=>") {
        p += 2;
    } else if matches!(b.get(p), Some(b':' | b'=')) {
        p += 1;
    } else {
        return None;
    }
    while p < b.len() && b[p].is_ascii_whitespace() && p - at < 64 {
        p += 1;
    }
    value_extent(b, p)
}

/// The extent of a value at `p`: a quoted string's inside, a bracketed value whole
/// (`Some(..)`), or a bare word. `None` for `None`/`null`.
fn value_extent(b: &[u8], p: usize) -> Option<(usize, usize)> {
    if let Some((qs, qe, _)) = quoted(b, p, 1024) {
        return (qe > qs).then_some((qs, qe));
    }
    let mut e = p;
    while e < b.len() && (b[e].is_ascii_alphanumeric() || b[e] == b'_') && e - p < 32 {
        e += 1;
    }
    let word = &b[p..e];
    if matches!(word, b"None" | b"null" | b"nil" | b"NULL" | b"undefined") {
        return None;
    }
    if b.get(e) == Some(&b'(') || (word.is_empty() && matches!(b.get(p), Some(b'[' | b'{'))) {
        let open = if word.is_empty() { p } else { e };
        let close = balanced_close(b, open, 2048)?;
        return Some((p, close));
    }
    let end = super::bytes::bare_end(b, p, 512, b",;)}]>\"'");
    (end > p).then_some((p, end))
}

/// The index after the bracket closing the one at `open` (strings skipped), within `limit`.
fn balanced_close(b: &[u8], open: usize, limit: usize) -> Option<usize> {
    let limit = (open + limit).min(b.len());
    let mut depth = 0usize;
    let mut k = open;
    while k < limit {
        match b[k] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(k + 1);
                }
            }
            b'"' => {
                let (_, _, after) = quoted(b, k, 1024)?;
                k = after;
                continue;
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// `["password", "x"]`, `("api_token", "x")`: a quoted sensitive name as the first
/// element of a bracketed pair, the word at `s..e` inside it.
fn bracket_pair(scan: &mut Scan<'_, '_>, s: usize, e: usize) -> Option<usize> {
    let b = scan.b;
    let key_byte = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.');
    let mut open = s;
    while open > 0 && s - open < 64 && key_byte(b[open - 1]) {
        open -= 1;
    }
    if open == 0 || !matches!(b[open - 1], b'"' | b'\'') {
        return None;
    }
    let quote = b[open - 1];
    let mut close = e;
    while close < b.len() && close - e < 64 && key_byte(b[close]) {
        close += 1;
    }
    if b.get(close) != Some(&quote) {
        return None;
    }
    let mut bracket = open - 1;
    while bracket > 0 && matches!(b[bracket - 1], b' ' | b'\\') && open - bracket < 4 {
        bracket -= 1;
    }
    if bracket == 0 || !matches!(b[bracket - 1], b'[' | b'(') {
        return None;
    }
    let mut comma = close + 1;
    while comma < b.len() && matches!(b[comma], b' ' | b'\\') && comma - close < 4 {
        comma += 1;
    }
    if b.get(comma) != Some(&b',') {
        return None;
    }
    let name = &scan.text[open..close];
    if !scan.keys.is_sensitive(name) {
        return None;
    }
    let mut v = comma + 1;
    while v < b.len() && b[v].is_ascii_whitespace() && v - comma < 16 {
        v += 1;
    }
    let (vs, ve) = value_extent(b, v)?;
    *scan.steps += (ve - s) as u64;
    scan.push(vs, ve, "@name_value");
    Some(ve)
}

/// `Authorization(..)`, `ProxyAuthorization(..)`: a typed header's content is the
/// credential. `Basic { .. }`, `Bearer(..)` (`strings_only`): the strings in it.
fn typed_header(scan: &mut Scan<'_, '_>, e: usize, strings_only: bool) -> Option<usize> {
    let b = scan.b;
    let mut open = e;
    if b.get(open) == Some(&b' ') && b.get(open + 1) == Some(&b'{') {
        open += 1;
    }
    if !matches!(b.get(open), Some(b'(' | b'{')) || !scan.b[e - 1].is_ascii_alphabetic() {
        return None;
    }
    // A type name starts with a capital letter.
    let mut s = e;
    while s > 0 && b[s - 1].is_ascii_alphabetic() {
        s -= 1;
    }
    if !b[s].is_ascii_uppercase() {
        return None;
    }
    let Some(close) = balanced_close(b, open, 4096) else {
        // Unclosed within reach: what follows is inside it too; not looked at again.
        let reach = (open + 4096).min(b.len());
        *scan.steps += (reach - e) as u64;
        return Some(reach);
    };
    *scan.steps += (close - e) as u64;
    if !strings_only {
        scan.push(open + 1, close - 1, "@name_value");
        return Some(close);
    }
    let mut k = open;
    let mut found = false;
    while k < close {
        if b[k] == b'"' {
            if let Some((qs, qe, after)) = quoted(b, k, 1024) {
                scan.push(qs, qe, "@name_value");
                found = true;
                k = after;
                continue;
            }
        }
        k += 1;
    }
    found.then_some(close)
}

/// Within 64 bytes after a credential word: `"user:password"` (the part after the
/// colon) or a pair `("user", "password")` / `("user", Some("password"))`.
fn decoded_credentials(scan: &mut Scan<'_, '_>, e: usize) -> Option<usize> {
    let b = scan.b;
    let limit = (e + 64).min(b.len());
    let mut k = e;
    while k < limit {
        match b[k] {
            b'"' => {
                let (qs, qe, after) = quoted(b, k, 256)?;
                let inner = &b[qs..qe];
                let colon = inner.iter().position(|&c| c == b':')?;
                let user = &inner[..colon];
                if colon == 0
                    || colon > 64
                    || inner.iter().any(u8::is_ascii_whitespace)
                    || !user.iter().all(|c| {
                        c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-' | b'@' | b'+')
                    })
                {
                    return None;
                }
                *scan.steps += (after - e) as u64;
                scan.push(qs + colon + 1, qe, "@name_value");
                return Some(after);
            }
            b'(' => {
                let (_, _, after) = quoted(b, skip_blanks(b, k + 1), 128)?;
                let mut p = skip_blanks(b, after);
                if b.get(p) != Some(&b',') {
                    return None;
                }
                p = skip_blanks(b, p + 1);
                if b[p..].starts_with(b"Some(") {
                    p += 5;
                }
                let (ps, pe, after) = quoted(b, p, 256)?;
                *scan.steps += (after - e) as u64;
                scan.push(ps, pe, "@name_value");
                return Some(after);
            }
            b'\n' | b';' => return None,
            _ => {}
        }
        k += 1;
    }
    None
}
