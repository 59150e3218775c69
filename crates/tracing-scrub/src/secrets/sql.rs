//! Database error details and bind lists: PostgreSQL's `Key (col)=(value)` (unique and
//! foreign-key violations; the value replaced when the column names a secret or personal
//! data), `Failing row contains (..)` (a row of unnamed cells: every cell but numbers,
//! booleans and nulls replaced), MySQL's `Duplicate entry '..' for key 'table.col'`, and
//! the bind lists ORMs print after a statement (Diesel's `-- binds: [..]`, Doctrine's
//! `with params [..]`, SQLAlchemy's `[parameters: (..)]`), each bind mapped to the column
//! its placeholder is compared with or inserted into.

use super::bytes::{line_end, quoted, skip_blanks};
use super::Scan;

/// How far back from a bind list its statement is read.
const MAX_STATEMENT: usize = 4096;

pub(super) fn at_word(scan: &mut Scan<'_, '_>, s: usize, e: usize, word: &str) -> Option<usize> {
    let exact = &scan.text[s..e];
    match word {
        "key" if exact == "Key" && scan.b[e..].starts_with(b" (") => postgres_key(scan, e + 1),
        "failing" if scan.b[e..].starts_with(b" row contains (") => {
            failing_row(scan, e + " row contains ".len())
        }
        "duplicate" if scan.b[e..].starts_with(b" entry ") => mysql_duplicate(scan, e + 7),
        "binds" | "bind" | "params" | "param" | "parameters" => bind_list(scan, s, e),
        "insert" if scan.b[e..].len() > 5 && scan.b[e..e + 5].eq_ignore_ascii_case(b" into") => {
            insert_literals(scan, s)
        }
        _ => None,
    }
}

/// Top-level comma-separated parts of `b[start..end]` (brackets and quotes respected).
fn split_top(b: &[u8], start: usize, end: usize, sep_space: bool) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut part = start;
    let mut k = start;
    while k < end {
        match b[k] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'"' | b'\'' if !sep_space => {
                if let Some((_, _, after)) = quoted(b, k, end - k) {
                    k = after;
                    continue;
                }
            }
            b',' if depth == 0 && (!sep_space || b.get(k + 1) == Some(&b' ')) => {
                parts.push(trim(b, part, k));
                part = k + 1;
            }
            _ => {}
        }
        k += 1;
    }
    parts.push(trim(b, part, end));
    parts
}

fn trim(b: &[u8], mut s: usize, mut e: usize) -> (usize, usize) {
    while s < e && b[s].is_ascii_whitespace() {
        s += 1;
    }
    while e > s && b[e - 1].is_ascii_whitespace() {
        e -= 1;
    }
    (s, e)
}

/// The index of the `)` closing the `(` at `open`, on the same line.
fn close_paren(b: &[u8], open: usize, limit: usize) -> Option<usize> {
    let end = line_end(b, open, open + limit);
    let mut depth = 0usize;
    for (k, &c) in b.iter().enumerate().take(end).skip(open) {
        match c {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(k);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether a column expression (`phone`, `"api_key"`, `lower((email)::text)`) names a
/// secret or personal data.
fn column_is_sensitive(scan: &Scan<'_, '_>, col: &str) -> bool {
    col.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .any(|w| scan.keys.is_sensitive(w))
}

/// `Key (col, ..)=(value, ..)`.
fn postgres_key(scan: &mut Scan<'_, '_>, open: usize) -> Option<usize> {
    let b = scan.b;
    let cols_close = close_paren(b, open, 512)?;
    if !b[cols_close..].starts_with(b")=(") {
        return None;
    }
    let vals_open = cols_close + 2;
    // Values are printed raw: the value list ends at the last `)` before ` already
    // exists`, ` is not present`, `.` or the line's end.
    let eol = line_end(b, vals_open, vals_open + 2048);
    let vals_close = close_paren(b, vals_open, 2048).unwrap_or(eol);
    let vals_close = b[vals_open..eol]
        .windows(2)
        .rposition(|w| w == b") " || w == b").")
        .map_or(vals_close, |i| (vals_open + i).max(vals_close));
    *scan.steps += (vals_close - open) as u64;
    let cols = split_top(b, open + 1, cols_close, false);
    let sensitive: Vec<bool> = cols
        .iter()
        .map(|&(s, e)| column_is_sensitive(scan, &scan.text[s..e]))
        .collect();
    if !sensitive.iter().any(|s| *s) {
        return Some(vals_close);
    }
    let vals = split_top(b, vals_open + 1, vals_close, true);
    if cols.len() > 1 && vals.len() == cols.len() {
        for (&(s, e), sensitive) in vals.iter().zip(&sensitive) {
            if *sensitive {
                scan.push(s, e, "@db_detail");
            }
        }
    } else {
        scan.push(vals_open + 1, vals_close, "@db_detail");
    }
    Some(vals_close)
}

/// `Failing row contains (..)`: cells without column names; all but numbers, booleans
/// and nulls are replaced (the row is a user's data).
fn failing_row(scan: &mut Scan<'_, '_>, open: usize) -> Option<usize> {
    let b = scan.b;
    if b.get(open) != Some(&b'(') {
        return None;
    }
    let eol = line_end(b, open, open + 4096);
    let Some(close) = b[open..eol]
        .iter()
        .rposition(|&c| c == b')')
        .map(|i| open + i)
    else {
        *scan.steps += (eol - open) as u64;
        return Some(eol);
    };
    *scan.steps += (close - open) as u64;
    for (s, e) in split_top(b, open + 1, close, true) {
        let cell = &b[s..e];
        let number = !cell.is_empty()
            && cell
                .iter()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || (*c == b'-' && i == 0) || *c == b'.');
        if !number && !matches!(cell, b"null" | b"t" | b"f" | b"true" | b"false" | b"") {
            scan.push(s, e, "@db_detail");
        }
    }
    Some(close)
}

/// `Duplicate entry 'value' for key 'table.column'` (MySQL, MariaDB).
fn mysql_duplicate(scan: &mut Scan<'_, '_>, at: usize) -> Option<usize> {
    let b = scan.b;
    let (vs, ve, after) = quoted(b, at, 1024)?;
    let p = skip_blanks(b, after);
    if !b[p..].starts_with(b"for key ") {
        return None;
    }
    let (ks, ke, key_after) = quoted(b, p + 8, 256)?;
    *scan.steps += (key_after - at) as u64;
    let key = &scan.text[ks..ke];
    let column = key.rsplit('.').next().unwrap_or(key);
    let column = column
        .trim_end_matches("_UNIQUE")
        .trim_end_matches("_unique")
        .trim_end_matches("_key")
        .trim_end_matches("_idx")
        .trim_end_matches("_uq");
    if column_is_sensitive(scan, column) {
        scan.push(vs, ve, "@db_detail");
    }
    Some(key_after)
}

/// A bind list after `binds`/`params`/`parameters` (`: [..]`, ` [..]`, `=(..)`): each
/// element whose placeholder in the statement before it stands for a sensitive column.
fn bind_list(scan: &mut Scan<'_, '_>, s: usize, e: usize) -> Option<usize> {
    let b = scan.b;
    let mut p = e;
    while p < b.len() && matches!(b[p], b' ' | b':' | b'=') && p - e < 3 {
        p += 1;
    }
    if !matches!(b.get(p), Some(b'[' | b'(')) {
        return None;
    }
    let open = p;
    let close = {
        let mut depth = 0usize;
        let mut k = open;
        let limit = (open + 8192).min(b.len());
        loop {
            if k >= limit {
                // Not closed within reach: the text up to here is not looked at again.
                scan.sql_floor = limit;
                return Some(limit);
            }
            match b[k] {
                b'[' | b'(' | b'{' => depth += 1,
                b']' | b')' | b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        break k;
                    }
                }
                b'"' | b'\'' => {
                    if let Some((_, _, after)) = quoted(b, k, limit - k) {
                        k = after;
                        continue;
                    }
                }
                _ => {}
            }
            k += 1;
        }
    };
    let floor = s.saturating_sub(MAX_STATEMENT).max(scan.sql_floor);
    scan.sql_floor = close;
    *scan.steps += (close - floor) as u64;
    let columns = placeholder_columns(scan, floor, s);
    if columns.is_empty() {
        return Some(close);
    }
    for (i, (vs, ve)) in split_top(b, open + 1, close, false).into_iter().enumerate() {
        if columns
            .get(i)
            .copied()
            .flatten()
            .is_some_and(|sensitive| sensitive)
            && ve > vs
        {
            let (qs, qe) = match quoted(b, vs, ve - vs) {
                Some((qs, qe, _)) => (qs, qe),
                None => (vs, ve),
            };
            scan.push(qs, qe, "@db_bind");
        }
    }
    Some(close)
}

/// For each bind index of the statement in `b[from..to]`, whether its column is
/// sensitive (`None` when no column is known): `$N` placeholders by number, `?` and
/// `%s` by order; the column is the one compared with (`"col" = $1`, `col IN ($2)`) or
/// inserted into (`INSERT INTO t (a, b) VALUES ($1, $2)`).
fn placeholder_columns(scan: &Scan<'_, '_>, from: usize, to: usize) -> Vec<Option<bool>> {
    let b = scan.b;
    let mut out: Vec<Option<bool>> = Vec::new();
    let mut order = 0usize;
    // The INSERT's column list, and where its VALUES tuples are.
    let insert_cols = insert_columns(scan, from, to);
    let mut tuple_pos: Option<usize> = None;
    let mut depth_in_values = 0usize;
    let mut k = from;
    while k < to {
        let c = b[k];
        if let Some((_, values_start)) = insert_cols.as_ref().map(|(cols, v)| (cols, *v)) {
            if k >= values_start {
                match c {
                    b'(' => {
                        depth_in_values += 1;
                        if depth_in_values == 1 {
                            tuple_pos = Some(0);
                        }
                    }
                    b')' => depth_in_values = depth_in_values.saturating_sub(1),
                    b',' if depth_in_values == 1 => tuple_pos = tuple_pos.map(|p| p + 1),
                    _ => {}
                }
            }
        }
        let (index, len) = match c {
            b'$' if b.get(k + 1).is_some_and(u8::is_ascii_digit) => {
                let mut e = k + 1;
                while e < to && b[e].is_ascii_digit() {
                    e += 1;
                }
                let n: usize = scan.text[k + 1..e].parse().unwrap_or(0);
                (n.checked_sub(1), e - k)
            }
            b'?' if k > 0 && matches!(b[k - 1], b' ' | b'(' | b',' | b'=') => {
                order += 1;
                (Some(order - 1), 1)
            }
            b'%' if b.get(k + 1) == Some(&b's') => {
                order += 1;
                (Some(order - 1), 2)
            }
            _ => {
                k += 1;
                continue;
            }
        };
        let Some(index) = index.filter(|i| *i < 256) else {
            k += len;
            continue;
        };
        let column = match (&insert_cols, tuple_pos) {
            (Some((cols, values_start)), Some(pos)) if k > *values_start && depth_in_values > 0 => {
                cols.get(pos)
                    .map(|&(s, e)| column_is_sensitive(scan, &scan.text[s..e]))
            }
            _ => compared_column(b, k).map(|(s, e)| column_is_sensitive(scan, &scan.text[s..e])),
        };
        if out.len() <= index {
            out.resize(index + 1, None);
        }
        if column.is_some() {
            out[index] = column;
        }
        k += len;
    }
    out
}

/// `INSERT INTO t (user_id, secret) VALUES (7, 'X'), (8, 'Y')` written out with its
/// values: each value in the column-list position of a sensitive column is reported.
fn insert_literals(scan: &mut Scan<'_, '_>, s: usize) -> Option<usize> {
    let b = scan.b;
    let to = line_end(b, s, s + MAX_STATEMENT);
    *scan.steps += (to - s) as u64;
    let (cols, values) = insert_columns(scan, s, to)?;
    let sensitive: Vec<bool> = cols
        .iter()
        .map(|&(cs, ce)| column_is_sensitive(scan, &scan.text[cs..ce]))
        .collect();
    if !sensitive.contains(&true) {
        return None;
    }
    let mut k = skip_blanks(b, values);
    let mut end = k;
    while b.get(k) == Some(&b'(') {
        let close = close_paren(b, k, to - k)?;
        for (i, (vs, ve)) in split_top(b, k + 1, close, false).into_iter().enumerate() {
            if sensitive.get(i) != Some(&true) || ve <= vs {
                continue;
            }
            let (vs, ve) = match quoted(b, vs, ve - vs) {
                Some((qs, qe, _)) => (qs, qe),
                None => (vs, ve),
            };
            let bare = &b[vs..ve];
            if bare.eq_ignore_ascii_case(b"null")
                || bare == b"?"
                || matches!(bare[0], b'$' | b':' | b'@')
            {
                continue;
            }
            scan.push(vs, ve, "@key_value");
        }
        end = close + 1;
        k = skip_blanks(b, end);
        if b.get(k) != Some(&b',') {
            break;
        }
        k = skip_blanks(b, k + 1);
    }
    Some(end)
}

/// `INSERT INTO <table> (<cols>) VALUES`: the columns and where `VALUES` ends.
fn insert_columns(
    scan: &Scan<'_, '_>,
    from: usize,
    to: usize,
) -> Option<(Vec<(usize, usize)>, usize)> {
    let b = scan.b;
    let region = &b[from..to];
    let at = region
        .windows(11)
        .position(|w| w.eq_ignore_ascii_case(b"insert into"))?;
    let open = from + at + region[at..].iter().position(|&c| c == b'(')?;
    let close = close_paren(b, open, 2048)?;
    let after = &b[close..to];
    let values = after
        .windows(6)
        .position(|w| w.eq_ignore_ascii_case(b"values"))?;
    let cols = split_top(b, open + 1, close, false);
    Some((cols, close + values + 6))
}

/// The column a placeholder at `at` is compared with: `col = $1`, `"t"."col" <> ?`,
/// `col LIKE $2`, `col IN ($3, $4)`.
fn compared_column(b: &[u8], at: usize) -> Option<(usize, usize)> {
    let floor = at.saturating_sub(96);
    let mut k = at;
    let back_blank = |mut k: usize| {
        while k > floor && b[k - 1] == b' ' {
            k -= 1;
        }
        k
    };
    k = back_blank(k);
    // Inside an IN list: back to its `(`.
    let mut guard = 0;
    while k > floor && matches!(b[k - 1], b',' | b'(') && guard < 32 {
        if b[k - 1] == b'(' {
            k = back_blank(k - 1);
            break;
        }
        // A previous element of the list.
        k -= 1;
        while k > floor && !matches!(b[k - 1], b',' | b'(') {
            k -= 1;
        }
        guard += 1;
    }
    k = back_blank(k);
    // The operator.
    let mut op = k;
    while op > floor && matches!(b[op - 1], b'=' | b'<' | b'>' | b'!') {
        op -= 1;
    }
    if op == k {
        let word_end = k;
        while op > floor && b[op - 1].is_ascii_alphabetic() {
            op -= 1;
        }
        let word = &b[op..word_end];
        if !(word.eq_ignore_ascii_case(b"like")
            || word.eq_ignore_ascii_case(b"ilike")
            || word.eq_ignore_ascii_case(b"in"))
        {
            return None;
        }
    }
    let e = back_blank(op);
    let mut s = e;
    while s > floor
        && (b[s - 1].is_ascii_alphanumeric()
            || matches!(b[s - 1], b'_' | b'"' | b'`' | b'[' | b']' | b'.'))
    {
        s -= 1;
    }
    // The column is the last part of `"table"."col"`.
    let ident = &b[s..e];
    let last = ident
        .iter()
        .rposition(|&c| c == b'.')
        .map_or(s, |i| s + i + 1);
    (e > last).then_some((last, e))
}
