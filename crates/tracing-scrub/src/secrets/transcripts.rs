//! Protocol transcripts and credential files: SMTP `AUTH PLAIN <base64>` and the line
//! after `334 UGFzc3dvcmQ6` (`Password:`), Redis `AUTH [user] <password>`, IMAP `<tag>
//! LOGIN <user> <password>`, FTP/POP3/IRC `PASS <password>`, IRC `IDENTIFY`, SQL
//! `IDENTIFIED BY '<password>'`, tinyproxy `BasicAuth <user> <password>`, HAProxy
//! `insecure-password`, `.netrc` (`machine .. login .. password ..`), `.pgpass`
//! (`host:port:db:user:password`), password hashes (`$apr1$`, `$2y$`, `$6$`, `$argon2id$`,
//! `{SSHA}` ...) as in htpasswd and shadow files, 3proxy user lists (`user:CL:password`)
//! and the private lines of a PuTTY key file.

use super::bytes::{bare_end, line_end, line_start, quoted, skip_blanks};
use super::shape::stats;
use super::Scan;

/// SASL mechanisms whose initial response (after `AUTH <mechanism>`) holds the secret.
const SASL_WITH_SECRET: &[&str] = &["PLAIN", "XOAUTH2", "OAUTHBEARER", "XOAUTH"];
/// SASL mechanisms whose initial response is not the secret (`LOGIN` sends the user).
const SASL_OTHER: &[&str] = &[
    "LOGIN",
    "CRAM-MD5",
    "DIGEST-MD5",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
    "NTLM",
    "GSSAPI",
    "EXTERNAL",
    "ANONYMOUS",
];

pub(super) fn at_word(scan: &mut Scan<'_, '_>, s: usize, e: usize, word: &str) -> Option<usize> {
    let b = scan.b;
    let exact = &scan.text[s..e];
    match word {
        "auth" if exact == "AUTH" => auth_command(scan, s, e),
        "pass" if exact == "PASS" => pass_command(scan, s, e),
        "login" if exact == "LOGIN" => imap_login(scan, s, e),
        "identify" if exact == "IDENTIFY" => last_args(scan, e, 2, false),
        "identified" => identified_by(scan, e),
        "basicauth" => last_args(scan, e, 2, true),
        "machine" => netrc(scan, e),
        "private" if b[e..].starts_with(b"-Lines:") || b[e..].starts_with(b"-lines:") => {
            putty_private_lines(scan, e + 7)
        }
        "password" if s >= 9 && b[s - 9..s].eq_ignore_ascii_case(b"insecure-") => {
            let v = skip_blanks(b, e);
            let end = bare_end(b, v, 256, b"\"'");
            scan.push(v, end, "@credential_file");
            (end > v).then_some(end)
        }
        _ => None,
    }
}

/// Whether `at` is where a command starts: at the start of a line after prompt markers
/// (`C: `, `> `, `>> `, `-> `), or after a colon or quote (`command failed: AUTH ..`).
fn command_position(b: &[u8], at: usize) -> bool {
    let ls = line_start(b, at, 256);
    let prefix = &b[ls..at];
    let Some(last) = prefix.iter().rposition(|c| !c.is_ascii_whitespace()) else {
        return true;
    };
    let markers_only = prefix[..=last].iter().all(|c| {
        matches!(
            c,
            b'>' | b'<' | b'-' | b':' | b'C' | b'S' | b'|' | b'$' | b'#'
        )
    });
    markers_only
        || matches!(
            prefix[last],
            b':' | b'"' | b'\'' | b'`' | b'(' | b'[' | b']' | b'>'
        )
}

/// The arguments after a command at `e`, on its line, up to a separator (`->`, `|`,
/// a quote closing the command): bounds of at most `max` of them.
fn args(b: &[u8], e: usize, max: usize) -> (Vec<(usize, usize)>, usize) {
    let limit = line_end(b, e, e + 512);
    let mut out = Vec::new();
    let mut p = e;
    while out.len() <= max {
        p = skip_blanks(b, p);
        if p >= limit || b[p..].starts_with(b"->") || b[p..].starts_with(b"=>") || b[p] == b'|' {
            break;
        }
        if let Some((qs, qe, after)) = quoted(b, p, 256) {
            out.push((qs, qe));
            p = after;
            continue;
        }
        let end = bare_end(b, p, 256, b"\"'`)");
        if end == p {
            break;
        }
        out.push((p, end.min(limit)));
        p = end;
    }
    (out, p)
}

/// `AUTH <mechanism> <initial response>` (SMTP, IMAP `AUTHENTICATE`), or Redis's
/// `AUTH [user] <password>`.
fn auth_command(scan: &mut Scan<'_, '_>, s: usize, e: usize) -> Option<usize> {
    let b = scan.b;
    // `"AUTH" "user" "pw"` (redis-cli MONITOR): the arguments start after the quote.
    let e = match (s.checked_sub(1).map(|k| b[k]), b.get(e)) {
        (Some(q @ (b'"' | b'\'')), Some(&c)) if c == q => e + 1,
        _ => e,
    };
    let (args, end) = args(b, e, 3);
    *scan.steps += (end - e) as u64;
    let first = *args.first()?;
    let mech = &scan.text[first.0..first.1];
    if SASL_WITH_SECRET.contains(&mech) {
        let (rs, re) = *args.get(1)?;
        if &b[rs..re] == b"=" {
            return None;
        }
        scan.push(rs, re, "@transcript");
        return Some(re);
    }
    if SASL_OTHER.contains(&mech) {
        return None;
    }
    // Redis: one or two arguments, the last the password; with more (`AUTH <pw> took
    // 12ms`, `AUTH user <pw> (WRONGPASS)`, as slowlog and error lines quote it), the
    // first credential-like one of the first two.
    if args.len() > 2 {
        let (ps, pe) = args[..2].iter().copied().find(|&(ps, pe)| {
            let v = &b[ps..pe];
            stats(v).credential_like(v)
        })?;
        scan.push(ps, pe, "@transcript");
        return Some(pe);
    }
    let (ps, pe) = *args.last()?;
    let value = &b[ps..pe];
    if command_position(b, s) || stats(value).credential_like(value) {
        scan.push(ps, pe, "@transcript");
        return Some(pe);
    }
    None
}

/// A Redis command in RESP (the wire protocol, as a transcript or `Debug` of its bytes
/// prints it, line ends real or escaped as `\r\n`): at `at`, `$4<CRLF>AUTH<CRLF>`, then
/// its bulk strings (`$<len><CRLF><data><CRLF>`): one (the password) or two (user and
/// password), each taken by its declared length.
pub(super) fn resp_auth(scan: &mut Scan<'_, '_>, at: usize) -> Option<usize> {
    let b = scan.b;
    let crlf: &[u8] = if b[at + 2..].starts_with(b"\\r\\n") {
        b"\\r\\n"
    } else {
        b"\r\n"
    };
    let mut p = at + 2 + crlf.len();
    if !b.get(p..p + 4)?.eq_ignore_ascii_case(b"auth") || !b[p + 4..].starts_with(crlf) {
        return None;
    }
    p += 4 + crlf.len();
    let mut strings = Vec::with_capacity(2);
    while strings.len() < 2 && b.get(p) == Some(&b'$') {
        let digits = b[p + 1..]
            .iter()
            .take(4)
            .take_while(|c| c.is_ascii_digit())
            .count();
        let len: usize = std::str::from_utf8(&b[p + 1..p + 1 + digits])
            .ok()?
            .parse()
            .ok()?;
        let start = p + 1 + digits;
        if !b[start..].starts_with(crlf) {
            break;
        }
        let start = start + crlf.len();
        // The declared length, unless the data is shorter (escaped bytes, a cut text):
        // then up to the next line end.
        let end = match b.get(start + len..) {
            Some(rest) if rest.starts_with(crlf) || rest.is_empty() => start + len,
            _ => memchr::memmem::find(&b[start..], crlf).map_or(b.len(), |i| start + i),
        };
        strings.push((start, end));
        p = (end + crlf.len()).min(b.len());
    }
    *scan.steps += (p - at) as u64;
    let &(ps, pe) = strings.last()?;
    scan.push(ps, pe, "@transcript");
    Some(pe)
}

/// `PASS <password>` (FTP, POP3, IRC): the rest of the line at a command's position,
/// else a credential-like word.
fn pass_command(scan: &mut Scan<'_, '_>, s: usize, e: usize) -> Option<usize> {
    let b = scan.b;
    let v = skip_blanks(b, e);
    if command_position(b, s) {
        let mut end = line_end(b, v, v + 256);
        while end > v && b[end - 1].is_ascii_whitespace() {
            end -= 1;
        }
        *scan.steps += (end - v) as u64;
        scan.push(v, end, "@transcript");
        return (end > v).then_some(end);
    }
    let end = bare_end(b, v, 256, b"\"'");
    let value = &b[v..end];
    if stats(value).credential_like(value) {
        scan.push(v, end, "@transcript");
        return Some(end);
    }
    None
}

/// IMAP `<tag> LOGIN <user> <password>`, or `LOGIN <user> <password>` at a command's
/// position.
fn imap_login(scan: &mut Scan<'_, '_>, s: usize, e: usize) -> Option<usize> {
    let b = scan.b;
    // The tag: a short word of letters and digits (`a001`, `A1`, `7`) before LOGIN.
    let mut t = s;
    while t > 0 && b[t - 1] == b' ' && s - t < 2 {
        t -= 1;
    }
    let tag_end = t;
    while t > 0 && b[t - 1].is_ascii_alphanumeric() && tag_end - t < 12 {
        t -= 1;
    }
    let tagged = tag_end < s
        && t < tag_end
        && b[t..tag_end].iter().any(u8::is_ascii_digit)
        && command_position(b, t);
    if !tagged && !command_position(b, s) {
        return None;
    }
    let (args, end) = args(b, e, 2);
    *scan.steps += (end - e) as u64;
    if args.len() != 2 {
        return None;
    }
    let (ps, pe) = args[1];
    scan.push(ps, pe, "@transcript");
    Some(pe)
}

/// The last of one to `max` arguments (`IDENTIFY [nick] <password>`, `BasicAuth <user>
/// <password>`); with `exact`, only when there are exactly `max`.
fn last_args(scan: &mut Scan<'_, '_>, e: usize, max: usize, exact: bool) -> Option<usize> {
    let (args, end) = args(scan.b, e, max);
    *scan.steps += (end - e) as u64;
    if args.is_empty() || args.len() > max || (exact && args.len() != max) {
        return None;
    }
    let (ps, pe) = *args.last()?;
    scan.push(ps, pe, "@transcript");
    Some(pe)
}

/// SQL `IDENTIFIED BY '<password>'` and `IDENTIFIED WITH <plugin> BY '<password>'`.
fn identified_by(scan: &mut Scan<'_, '_>, e: usize) -> Option<usize> {
    let b = scan.b;
    let mut p = skip_blanks(b, e);
    if b.len() >= p + 4 && b[p..p + 4].eq_ignore_ascii_case(b"with") {
        p = skip_blanks(b, bare_end(b, skip_blanks(b, p + 4), 64, b""));
    }
    if !(b.len() >= p + 2 && b[p..p + 2].eq_ignore_ascii_case(b"by")) {
        return None;
    }
    let v = skip_blanks(b, p + 2);
    if let Some((qs, qe, after)) = quoted(b, v, 256) {
        scan.push(qs, qe, "@transcript");
        return Some(after);
    }
    let end = bare_end(b, v, 256, b";,)");
    scan.push(v, end, "@transcript");
    (end > v).then_some(end)
}

/// `.netrc`: `machine <host>` followed by `login`, `password` and `account` tokens; the
/// values of `password` and `account` are secrets, whatever they look like.
fn netrc(scan: &mut Scan<'_, '_>, e: usize) -> Option<usize> {
    let b = scan.b;
    let limit = (e + 1024).min(b.len());
    let token = |p: usize| -> (usize, usize) {
        let s = {
            let mut k = p;
            while k < limit && b[k].is_ascii_whitespace() {
                k += 1;
            }
            k
        };
        (s, bare_end(b, s, 256, b"").min(limit))
    };
    let (hs, he) = token(e);
    if he == hs {
        return None;
    }
    let mut p = he;
    let mut seen_keyword = false;
    let mut last = None;
    for _ in 0..8 {
        let (ks, ke) = token(p);
        if ke == ks {
            break;
        }
        let keyword = &b[ks..ke];
        let (vs, ve) = token(ke);
        match keyword {
            b"login" | b"password" | b"account" if ve > vs => {
                seen_keyword = true;
                if keyword != b"login" {
                    scan.push(vs, ve, "@credential_file");
                    last = Some(ve);
                }
                p = ve;
            }
            _ => break,
        }
    }
    *scan.steps += (p - e) as u64;
    if seen_keyword {
        last
    } else {
        None
    }
}

/// The lines after `Private-Lines: N` of a PuTTY key file.
fn putty_private_lines(scan: &mut Scan<'_, '_>, after_colon: usize) -> Option<usize> {
    let b = scan.b;
    let p = skip_blanks(b, after_colon);
    let digits_end = bare_end(b, p, 3, b"");
    let count: usize = std::str::from_utf8(&b[p..digits_end]).ok()?.parse().ok()?;
    let mut line = line_end(b, digits_end, digits_end + 8);
    let mut first = None;
    let mut last = line;
    for _ in 0..count.min(64) {
        while line < b.len() && matches!(b[line], b'\n' | b'\r') {
            line += 1;
        }
        if line >= b.len() {
            break;
        }
        let end = line_end(b, line, line + 256);
        first.get_or_insert(line);
        last = end;
        line = end;
    }
    *scan.steps += (last - after_colon) as u64;
    let first = first?;
    scan.push(first, last, "@credential_file");
    Some(last)
}

/// A password hash starting at `at` (`$apr1$salt$hash`, `$2y$10$...`, `{SSHA}...`): the
/// whole hash, when long enough to hold a salt or digest.
pub(super) fn hash(scan: &mut Scan<'_, '_>, at: usize) -> Option<usize> {
    let b = scan.b;
    let mut end = at;
    while end < b.len()
        && end - at < 512
        && (b[end].is_ascii_alphanumeric()
            || matches!(
                b[end],
                b'$' | b'.' | b'/' | b'=' | b'+' | b',' | b'_' | b'-' | b'{' | b'}'
            ))
    {
        end += 1;
    }
    *scan.steps += (end - at) as u64;
    // The digest part: after the last `$` or `}`.
    let tail = b[at..end]
        .iter()
        .rposition(|c| matches!(c, b'$' | b'}'))
        .map_or(end, |i| at + i + 1);
    // The token is looked at once, whether it is a hash or not.
    if end - at >= 20 && end - tail >= 8 {
        scan.push(at, end, "@password_hash");
    }
    Some(end)
}

/// After `:CL:` of a 3proxy user list (`users alice:CL:password`): the password.
/// Not inside a URL's userinfo (`http://svc:cl:]A@db.internal:5432/app`: the URL rule
/// reads that password, and the host and port stay).
pub(super) fn cleartext_user(scan: &mut Scan<'_, '_>, end: usize) -> Option<usize> {
    let b = scan.b;
    let at = end.saturating_sub(4);
    let word_start = b[..at]
        .iter()
        .rposition(|c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\''))
        .map_or(0, |i| i + 1);
    *scan.steps += (at - word_start) as u64;
    if b[word_start..at].windows(3).any(|w| w == b"://") {
        return None;
    }
    let v_end = bare_end(b, end, 256, b"\"'");
    scan.push(end, v_end, "@credential_file");
    (v_end > end).then_some(v_end)
}

/// After an SMTP server's `334 UGFzc3dvcmQ6` (`Password:`): the client's next line.
pub(super) fn smtp_password_line(scan: &mut Scan<'_, '_>, end: usize) -> Option<usize> {
    let b = scan.b;
    let eol = line_end(b, end, end + 16);
    if eol >= b.len() || b[end..eol].iter().any(|c| !c.is_ascii_whitespace()) {
        return None;
    }
    let mut p = eol;
    while p < b.len() && matches!(b[p], b'\n' | b'\r') && p - eol < 2 {
        p += 1;
    }
    // The client's prompt markers (`C: `, `> `, `>> `, `-> `).
    let mut v = p;
    while v < b.len() && matches!(b[v], b'>' | b'-' | b' ' | b'C' | b':') && v - p < 6 {
        v += 1;
    }
    if v > p && b[v - 1] == b'C' {
        v -= 1;
    }
    let line_stop = line_end(b, v, v + 512);
    let value_end = bare_end(b, v, 512, b"").min(line_stop);
    *scan.steps += (value_end - end) as u64;
    scan.push(v, value_end, "@transcript");
    (value_end > v).then_some(value_end)
}

/// `.pgpass` entries, `host:port:database:user:password`, as a line or a word: the
/// password (the fifth field). Looked for only around a `:` followed by a port (digits
/// or `*`) and another `:`.
pub(super) fn find_pgpass(scan: &mut Scan<'_, '_>) {
    let b = scan.b;
    let mut done = 0;
    for colon in memchr::memchr_iter(b':', b) {
        if colon < done {
            continue;
        }
        let mut p = colon + 1;
        while p < b.len() && (b[p].is_ascii_digit() || b[p] == b'*') && p - colon <= 5 {
            p += 1;
        }
        if p == colon + 1 || b.get(p) != Some(&b':') {
            continue;
        }
        // The word around it.
        let stop =
            |c: u8| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'(' | b')' | b',');
        let mut start = colon;
        while start > 0 && !stop(b[start - 1]) && colon - start < 256 {
            start -= 1;
        }
        let mut end = p;
        while end < b.len() && !stop(b[end]) && end - p < 256 {
            end += 1;
        }
        *scan.steps += (end - start) as u64;
        pgpass_entry(scan, start, end);
        done = end;
    }
}

fn pgpass_entry(scan: &mut Scan<'_, '_>, start: usize, end: usize) {
    let b = scan.b;
    let word = &b[start..end];
    // Four colons not escaped with a backslash.
    let mut colons = [0usize; 4];
    let mut n = 0;
    for (k, &c) in word.iter().enumerate() {
        if c == b':' && (k == 0 || word[k - 1] != b'\\') {
            if n == 4 {
                return;
            }
            colons[n] = k;
            n += 1;
        }
    }
    if n != 4 {
        return;
    }
    let field = |i: usize| {
        let s = if i == 0 { 0 } else { colons[i - 1] + 1 };
        let e = if i == 4 { word.len() } else { colons[i] };
        &word[s..e]
    };
    let host = field(0);
    let port = field(1);
    let host_ok = !host.is_empty()
        && host
            .iter()
            .any(|c| c.is_ascii_alphabetic() || matches!(c, b'.' | b'*'))
        && host.iter().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b'*' | b'~' | b'/')
        });
    let port_ok = port == b"*"
        || (!port.is_empty() && port.len() <= 5 && port.iter().all(u8::is_ascii_digit));
    let named = |f: &[u8]| !f.is_empty() && (f == b"*" || f.iter().any(u8::is_ascii_alphabetic));
    if host_ok && port_ok && named(field(2)) && named(field(3)) && !field(4).is_empty() {
        scan.push(start + colons[3] + 1, end, "@credential_file");
    }
}

/// Whether [`find_files`] could report anything: a multipart part's header, a line
/// starting with `[`, or a run of MRZ fillers.
pub(super) fn may_hold_files(b: &[u8]) -> bool {
    multipart_positions(b).next().is_some()
        || memchr::memmem::find(b, b"<<").is_some()
        || memchr::memchr_iter(b'[', b).any(|at| at_line_start(b, at))
}

/// After each `form-data;` (as clients write it, or in capitals).
fn multipart_positions(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    static FINDERS: std::sync::OnceLock<[memchr::memmem::Finder<'static>; 2]> =
        std::sync::OnceLock::new();
    let [lower, upper] = FINDERS.get_or_init(|| {
        [
            memchr::memmem::Finder::new(b"form-data;"),
            memchr::memmem::Finder::new(b"FORM-DATA;"),
        ]
    });
    lower
        .find_iter(b)
        .chain(upper.find_iter(b))
        .map(|at| at + "form-data;".len())
}

/// Whether `at` is the first byte of its line other than blanks.
fn at_line_start(b: &[u8], at: usize) -> bool {
    let ls = line_start(b, at, 64);
    // `line_start` stops at its limit: a real start is the text's or a line break's.
    (ls == 0 || matches!(b[ls - 1], b'\n' | b'\r'))
        && b[ls..at].iter().all(|c| matches!(c, b' ' | b'\t'))
}

/// Multipart form parts whose name is sensitive (RFC 7578 `Content-Disposition:
/// form-data; name="password"`): the value after the part's blank line, up to the next
/// boundary line; Postfix `sasl_passwd` lines (`[host]:port user:password`, postconf(5)
/// `smtp_sasl_password_maps`): the password; passports' machine-readable zones (ICAO
/// 9303 TD3, two lines of 44, check digits verified): both lines.
pub(super) fn find_files(scan: &mut Scan<'_, '_>) {
    let b = scan.b;
    for at in multipart_positions(b) {
        multipart_part(scan, at);
    }
    for at in memchr::memchr_iter(b'[', b) {
        if at_line_start(b, at) {
            sasl_passwd_line(scan, at);
        }
    }
    let mut done = 0;
    for at in memchr::memmem::find_iter(b, b"<<") {
        if at < done {
            continue;
        }
        let (ls, le) = (line_start(b, at, 64), line_end(b, at, at + 64));
        done = le;
        mrz_lines(scan, ls, le);
    }
}

/// After `form-data;` at `at`: the part's `name`, and its value if the name is sensitive.
fn multipart_part(scan: &mut Scan<'_, '_>, at: usize) {
    let b = scan.b;
    let le = line_end(b, at, at + 512);
    let header = &b[at..le];
    let Some(n) = memchr::memmem::find(header, b"name=\"") else {
        return;
    };
    // `filename="..."` names a file, not the field.
    if n >= 4 && header[n - 4..n].eq_ignore_ascii_case(b"file") {
        return;
    }
    let ns = at + n + 6;
    let Some(ne) = memchr::memchr(b'"', &b[ns..le]).map(|i| ns + i) else {
        return;
    };
    if ne == ns || !scan.keys.is_sensitive(&scan.text[ns..ne]) {
        return;
    }
    // The part's headers end at an empty line.
    let mut p = le;
    let mut value_start = None;
    for _ in 0..8 {
        // Past this line's break (`\r\n` or `\n`).
        if b.get(p) == Some(&b'\r') {
            p += 1;
        }
        if b.get(p) != Some(&b'\n') {
            return;
        }
        p += 1;
        let next_end = line_end(b, p, p + 512);
        if next_end == p {
            value_start = Some(p + usize::from(b.get(p) == Some(&b'\r')) + 1);
            break;
        }
        p = next_end;
    }
    let Some(vs) = value_start.filter(|&v| v <= b.len()) else {
        return;
    };
    // The value runs to the line break before the next boundary (`--`), or the end.
    let mut ve = vs;
    let limit = (vs + 4096).min(b.len());
    while ve < limit {
        let e = line_end(b, ve, limit);
        let mut next = e;
        if b.get(next) == Some(&b'\r') {
            next += 1;
        }
        if b.get(next) == Some(&b'\n') {
            next += 1;
        }
        if next >= b.len() || b[next..].starts_with(b"--") || e >= limit {
            ve = e;
            break;
        }
        ve = next;
    }
    *scan.steps += (ve - at) as u64;
    if ve > vs {
        scan.push(vs, ve, "@credential_file");
    }
}

/// `[host]:port user:password` at `at` (the `[`): the password.
fn sasl_passwd_line(scan: &mut Scan<'_, '_>, at: usize) {
    let b = scan.b;
    let le = line_end(b, at, at + 512);
    let Some(close) = memchr::memchr(b']', &b[at..le]).map(|i| at + i) else {
        return;
    };
    let host = &b[at + 1..close];
    if host.is_empty()
        || !host.iter().any(u8::is_ascii_alphabetic)
        || !host
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
    {
        return;
    }
    let mut p = close + 1;
    if b.get(p) == Some(&b':') {
        p += 1;
        let digits = b[p..le].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return;
        }
        p += digits;
    }
    let vs = skip_blanks(b, p);
    if vs == p || vs >= le {
        return;
    }
    let ve = bare_end(b, vs, le - vs, b"");
    // The credential is the line's last field: `user:password`.
    if skip_blanks(b, ve) != le {
        return;
    }
    let Some(colon) = memchr::memchr(b':', &b[vs..ve]).map(|i| vs + i) else {
        return;
    };
    *scan.steps += (ve - at) as u64;
    if colon > vs && colon + 1 < ve {
        scan.push(colon + 1, ve, "@credential_file");
    }
}

/// ICAO 9303 check digit of `field` (weights 7, 3, 1; `<` is 0, letters 10 to 35).
fn mrz_check(field: &[u8]) -> Option<u8> {
    let mut sum = 0u32;
    for (i, &c) in field.iter().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'<' => 0,
            _ => return None,
        };
        sum += v * [7, 3, 1][i % 3];
    }
    Some(b'0' + (sum % 10) as u8)
}

/// The line `ls..le`, if it is a TD3 MRZ's second line (44 characters, its document
/// number, birth date, expiry and composite check digits right): it and the line above
/// (the names) when that is the first.
fn mrz_lines(scan: &mut Scan<'_, '_>, ls: usize, le: usize) {
    let b = scan.b;
    let valid_chars = |l: &[u8]| {
        l.iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'<')
    };
    let line = &b[ls..le];
    if line.len() != 44 || !valid_chars(line) {
        return;
    }
    let checks = [(0..9, 9), (13..19, 19), (21..27, 27)];
    let fields_ok = checks
        .iter()
        .all(|(r, c)| mrz_check(&line[r.clone()]) == Some(line[*c]));
    let composite: Vec<u8> = line[..10]
        .iter()
        .chain(&line[13..20])
        .chain(&line[21..43])
        .copied()
        .collect();
    if !fields_ok || mrz_check(&composite) != Some(line[43]) {
        return;
    }
    scan.push(ls, le, "@credential_file");
    // The names' line above.
    if ls >= 2 {
        let above_end = ls - 1 - usize::from(ls >= 2 && b[ls - 2] == b'\r');
        let above_start = line_start(b, above_end, 64);
        let above = &b[above_start..above_end];
        if above.len() == 44 && above[0] == b'P' && valid_chars(above) {
            scan.push(above_start, above_end, "@credential_file");
        }
    }
}
