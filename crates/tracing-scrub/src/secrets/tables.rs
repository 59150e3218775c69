//! Tables written as text (CSV, TSV, rows separated by `;` or `|`, as exports, imports
//! and `COPY` errors print them, or columns set apart by blanks, as `kubectl get`,
//! `docker ps`, `column -t` and data frames print them): a header row of column names
//! (`email,full_name,password,api_token`, `user;pin;iban`) whose names include a
//! sensitive key makes that column's cell in every following row of the same width the
//! secret, whatever it looks like (`correcthorsebattery`, `4821`), unless the column holds
//! only counts, flags and short words under a name that is not a password's or PIN's
//! (`pass,fail` test results, a tokenizer's `token` column: [`plain_cell`]).

use super::Scan;

/// Widest header looked at.
const MAX_COLUMNS: usize = 64;
/// Longest column name.
const MAX_NAME: usize = 48;

/// Whether `b` may hold a table: a line of names and delimiters only, a line after it.
pub(super) fn may_hold(b: &[u8]) -> bool {
    let mut line = 0;
    for end in memchr::memchr_iter(b'\n', b) {
        let l = &b[line..end];
        if l.iter().any(|c| matches!(c, b',' | b';' | b'\t' | b'|'))
            && l.iter().all(|&c| {
                c.is_ascii_alphanumeric()
                    || matches!(
                        c,
                        b',' | b';' | b'\t' | b'|' | b'_' | b'-' | b'.' | b' ' | b'"' | b'\r'
                    )
                    || c >= 0x80
            })
        {
            return true;
        }
        if spaced_header_line(l) {
            return true;
        }
        line = end + 1;
    }
    false
}

/// Whether `l` may be a header of columns set apart by blanks: name characters only,
/// and two blanks between two of them. No allocation.
fn spaced_header_line(l: &[u8]) -> bool {
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    let start = l.iter().position(|&c| c != b' ').unwrap_or(l.len());
    let l = &l[start..];
    memchr::memmem::find(l, b"  ").is_some_and(|gap| {
        l[gap..].iter().any(|&c| c != b' ')
            && l.iter().all(|&c| {
                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b' ') || c >= 0x80
            })
    })
}

/// The runs of `line` separated by two or more blanks (`kubectl get`, `docker ps`,
/// `column -t`, a data frame's print): each run's bounds; `None` past
/// [`MAX_COLUMNS`] or for a line with a tab (read as a delimiter).
fn spaced_cells(b: &[u8], start: usize, end: usize) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    let mut k = start;
    while k < end {
        while k < end && matches!(b[k], b' ' | b'\r') {
            k += 1;
        }
        if k >= end {
            break;
        }
        let s = k;
        // A run ends at two blanks, a line end or the line's end.
        while k < end
            && !(b[k] == b' ' && matches!(b.get(k + 1), Some(b' ' | b'\r') | None))
            && b[k] != b'\r'
        {
            if b[k] == b'\t' {
                return None;
            }
            k += 1;
        }
        out.push((s, k));
        if out.len() > MAX_COLUMNS {
            return None;
        }
    }
    Some(out)
}

/// A header of names set apart by two or more blanks, and the rows under it with as
/// many runs (or one more, the index of a data frame whose header is indented): the
/// cells of the sensitive columns are reported as [`find`]'s are.
fn find_spaced(scan: &mut Scan<'_, '_>, line: usize, end: usize) -> Option<usize> {
    let b = scan.b;
    let n = b.len();
    let header = spaced_cells(b, line, end)?;
    // Two names or more, each a name, set apart by two blanks at least (the runs say so).
    if header.len() < 2 || !header.iter().all(|&(s, e)| is_name(&b[s..e])) {
        return None;
    }
    let sensitive: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, &(s, e))| {
            std::str::from_utf8(&b[s..e]).is_ok_and(|name| scan.keys.is_sensitive(name))
        })
        .map(|(i, _)| i)
        .collect();
    if sensitive.is_empty() {
        return None;
    }
    let indented = b.get(line) == Some(&b' ');
    let mut rows: Vec<Vec<(usize, usize)>> = Vec::new();
    let mut row = if end < n { end + 1 } else { n };
    while row < n {
        let row_end = memchr::memchr(b'\n', &b[row..]).map_or(n, |i| row + i);
        *scan.steps += (row_end - row) as u64;
        let Some(mut cells) = spaced_cells(b, row, row_end) else {
            break;
        };
        if indented && cells.len() == header.len() + 1 {
            cells.remove(0);
        }
        if cells.len() != header.len() {
            break;
        }
        rows.push(cells);
        row = if row_end < n { row_end + 1 } else { n };
    }
    report_columns(scan, &header, &sensitive, &rows);
    Some(row)
}

/// Reports the cells of the `sensitive` columns in every row, unless a column holds only
/// counts, flags and short words ([`plain_cell`]).
fn report_columns(
    scan: &mut Scan<'_, '_>,
    header: &[(usize, usize)],
    sensitive: &[usize],
    rows: &[Vec<(usize, usize)>],
) {
    let b = scan.b;
    for &i in sensitive {
        let (hs, he) = header[i];
        let strong = strong_name(&b[hs..he]);
        // A column of counts, flags and short words is no secret column, whatever its
        // name (`pass,fail` test results, an NLP `token` column, a `session` count).
        if rows.iter().all(|cells| {
            let (s, e) = cells[i];
            plain_cell(&b[s..e], strong)
        }) {
            continue;
        }
        for cells in rows {
            let (s, e) = cells[i];
            scan.push(s, e, "@table_column");
        }
    }
}

/// The cells of `line` split at `delim` (a quoted cell may hold the delimiter): each
/// cell's bounds inside its quotes and spaces. `None` past [`MAX_COLUMNS`].
fn cells(b: &[u8], start: usize, end: usize, delim: u8) -> Option<Vec<(usize, usize)>> {
    let mut out = Vec::new();
    let mut k = start;
    loop {
        let mut s = k;
        while s < end && b[s] == b' ' {
            s += 1;
        }
        let (cs, ce, next) = if s < end && b[s] == b'"' {
            // `""` inside a quoted cell is a quote.
            let mut q = s + 1;
            while q < end && !(b[q] == b'"' && b.get(q + 1) != Some(&b'"')) {
                q += if b[q] == b'"' { 2 } else { 1 };
            }
            let mut n = (q + 1).min(end);
            while n < end && b[n] != delim {
                n += 1;
            }
            (s + 1, q.min(end), n)
        } else {
            let mut n = s;
            while n < end && b[n] != delim {
                n += 1;
            }
            let mut e = n;
            while e > s && matches!(b[e - 1], b' ' | b'\r') {
                e -= 1;
            }
            (s, e, n)
        };
        out.push((cs, ce));
        if out.len() > MAX_COLUMNS {
            return None;
        }
        if next >= end {
            return Some(out);
        }
        k = next + 1;
    }
}

/// Whether a column's name is a password's, a PIN's or a one-time code's, whose secrets
/// may be short numbers or words (`4821`, `abc1`).
fn strong_name(name: &[u8]) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        &b"pin"[..],
        b"otp",
        b"cvv",
        b"cvc",
        b"code",
        b"tan",
        b"password",
        b"passwd",
        b"pwd",
        b"passphrase",
    ]
    .iter()
    .any(|w| memchr::memmem::find(&lower, w).is_some())
}

/// A cell no secret is: empty or a boolean; under a name that is not a password's or
/// PIN's (`pass` of test results, `token` of a tokenizer, `session`), also a number of
/// up to six digits or a word of up to four letters (`DET`, `GET`).
fn plain_cell(c: &[u8], strong: bool) -> bool {
    c.is_empty()
        || super::bytes::boolean_word(c)
        || (!strong && super::bytes::small_number(c, 6))
        || (!strong && c.len() <= 4 && c.iter().all(u8::is_ascii_alphabetic))
}

/// A column name: letters first, then letters, digits, `_`, `-`, `.` or single spaces,
/// at most three words.
fn is_name(c: &[u8]) -> bool {
    !c.is_empty()
        && c.len() <= MAX_NAME
        && (c[0].is_ascii_alphabetic() || c[0] >= 0x80)
        && c.iter().all(|&x| {
            x.is_ascii_alphanumeric() || matches!(x, b'_' | b'-' | b'.' | b' ') || x >= 0x80
        })
        && c.iter().filter(|&&x| x == b' ').count() <= 2
        && !c.ends_with(b".")
}

pub(super) fn find(scan: &mut Scan<'_, '_>) {
    let b = scan.b;
    let n = b.len();
    let mut line = 0;
    while line < n {
        let end = memchr::memchr(b'\n', &b[line..]).map_or(n, |i| line + i);
        *scan.steps += (end - line) as u64;
        let next = if end < n { end + 1 } else { n };
        // The delimiter: the most frequent of `,`, `;`, tab and `|` on the header line.
        let delim = [b',', b';', b'\t', b'|']
            .into_iter()
            .map(|d| (memchr::memchr_iter(d, &b[line..end]).count(), d))
            .max()
            .filter(|(count, _)| *count > 0)
            .map(|(_, d)| d);
        let header = delim.and_then(|d| Some((d, cells(b, line, end, d)?)));
        let Some((delim, header)) = header else {
            line = spaced_header_line(&b[line..end])
                .then(|| find_spaced(scan, line, end))
                .flatten()
                .map_or(next, |after| after.max(next));
            continue;
        };
        let names_ok = header.len() >= 2
            && header.iter().all(|&(s, e)| {
                let c = &b[s..e];
                // `| a | b |`: a Markdown table's outer pipes give empty cells.
                c.is_empty() && delim == b'|' || is_name(c)
            });
        let sensitive: Vec<usize> = if names_ok {
            header
                .iter()
                .enumerate()
                .filter(|(_, &(s, e))| {
                    e > s
                        && std::str::from_utf8(&b[s..e])
                            .is_ok_and(|name| scan.keys.is_sensitive(name))
                })
                .map(|(i, _)| i)
                .collect()
        } else {
            Vec::new()
        };
        if sensitive.is_empty() {
            line = next;
            continue;
        }
        // The rows: every following line of the header's width.
        let mut rows: Vec<Vec<(usize, usize)>> = Vec::new();
        let mut row = next;
        while row < n {
            let row_end = memchr::memchr(b'\n', &b[row..]).map_or(n, |i| row + i);
            *scan.steps += (row_end - row) as u64;
            let Some(cells) = cells(b, row, row_end, delim) else {
                break;
            };
            if cells.len() != header.len() || row_end == row {
                break;
            }
            rows.push(cells);
            row = if row_end < n { row_end + 1 } else { n };
        }
        report_columns(scan, &header, &sensitive, &rows);
        line = row.max(next);
    }
}
