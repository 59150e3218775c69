//! Credentials passed on command lines, as logged plainly (`mysql -u root -pX db`) and
//! as `std::process::Command`'s `Debug` prints them, each argument quoted (`"-p" "X"`,
//! `"-pX"`, `"--password" "X"`, `"--password=X"`): flags naming a secret (long flags by
//! the key rules, `-p`, `-a`, `-w` by their common meaning), with the value separate,
//! after `=`, or attached (`-pX`, only where the command is a MySQL client, whose `-p`
//! takes it so), OpenSSL's `-passin pass:X` / `-passout pass:X`, and `-u user:X`.

use super::bytes::{bare_end, line_start, quoted};
use super::shape::stats;
use super::Scan;

/// Short flags whose value is a password (`-p` MySQL, sshpass, docker login; `-P`
/// sqlcmd, bcp, osql; `-a` redis-cli; `-w` the LDAP tools). Their value must still
/// look like a credential (`-P 2222`, a port, stays).
const SHORT_SECRET_FLAGS: &[u8] = b"pPaw";

/// Long-flag endings that name where a secret comes from, not the secret.
const SOURCE_SUFFIXES: &[&str] = &[
    "stdin", "file", "env", "path", "prompt", "cmd", "command", "helper", "source", "length",
    "policy", "type", "store",
];

/// Commands whose `-p` takes the password attached (`-pX`).
const ATTACHED_P_COMMANDS: &[&str] = &[
    "mysql",
    "mysqldump",
    "mysqladmin",
    "mariadb",
    "mariadb-dump",
    "mysqlimport",
    "mysqlcheck",
    "mysqlshow",
    "mysqlpump",
    "mysqlsh",
    "mysqlbinlog",
];

/// Commands whose `-N`/`-P` take a passphrase (OpenSSH's new and old passphrase).
const PASSPHRASE_N_COMMANDS: &[&str] = &["ssh-keygen"];

/// Samba's tools, whose `-U`/`--user` takes `user%password`.
const SAMBA_COMMANDS: &[&str] = &[
    "smbclient",
    "rpcclient",
    "smbcacls",
    "smbget",
    "smbmap",
    "smbtree",
    "smbstatus",
    "net",
    "wbinfo",
    "winexe",
    "mount.cifs",
];

/// FreeRDP's clients, whose `/p:` is the password (`/p:` of others is a property:
/// `msbuild /p:Configuration=Release`).
const FREERDP_COMMANDS: &[&str] = &[
    "xfreerdp",
    "xfreerdp3",
    "wfreerdp",
    "sdl-freerdp",
    "sdl-freerdp3",
    "wlfreerdp",
    "freerdp",
];

/// Windows-style switch names whose value is a password (`/password:X`, `cmdkey
/// /pass:X`); `/p:` only after a FreeRDP client.
const WINDOWS_PASSWORD_SWITCHES: &[&str] = &["password", "pass", "pwd", "passwd", "p"];

/// Redis directives whose argument is a password (`requirepass X`, `masterauth X`, in
/// `redis.conf` and after `CONFIG SET`).
const PASSWORD_DIRECTIVES: &[&str] = &["requirepass", "masterauth"];

/// A setter command and its arguments, `set KEY VALUE` (`CONFIG SET requirepass X`,
/// `aws configure set aws_secret_access_key X`, `npm config set //reg/:_authToken X`,
/// `git config --global --set x.token X`) or `ENV KEY VALUE` / `setenv KEY VALUE`
/// (Dockerfile, csh): when the key, or its last segment after `/`, `:` or `.`, is
/// sensitive by the key rules, the value is. Also a Redis password directive.
pub(super) fn after_setter(
    scan: &mut Scan<'_, '_>,
    s: usize,
    e: usize,
    word: &str,
) -> Option<usize> {
    let b = scan.b;
    // The setter is a word of its own: `reset`, `offset`, `asset` do not start here.
    if s > 0 && (b[s - 1].is_ascii_alphanumeric() || matches!(b[s - 1], b'_' | b'-' | b'.')) {
        return None;
    }
    if b.get(e).is_some_and(|c| !matches!(c, b' ' | b'\t')) {
        return None;
    }
    let value_after = |scan: &mut Scan<'_, '_>, from: usize| -> Option<usize> {
        let v = super::bytes::skip_blanks(b, from);
        if v == from || v >= b.len() || v - from > 4 {
            return None;
        }
        let (vs, ve, after) = match quoted(b, v, 512) {
            Some((qs, qe, after)) => (qs, qe, after),
            // Unquoted, a value must look like a credential: `failed to set password
            // for bob` names no password.
            None => {
                let end = bare_end(b, v, 512, b"\"'");
                let value = &b[v..end];
                if !stats(value).credential_like(value) {
                    return None;
                }
                (v, end, end)
            }
        };
        if ve <= vs {
            return None;
        }
        scan.push(vs, ve, "@cli_credential");
        Some(after)
    };
    if PASSWORD_DIRECTIVES.contains(&word) {
        return value_after(scan, e);
    }
    if word == "htpasswd" {
        return htpasswd_batch(scan, e);
    }
    if !matches!(word, "set" | "setenv" | "env") {
        return None;
    }
    // The key: the next argument, flags (`--global`) skipped.
    let mut k = super::bytes::skip_blanks(b, e);
    for _ in 0..3 {
        if b.get(k) != Some(&b'-') {
            break;
        }
        k = super::bytes::skip_blanks(b, bare_end(b, k, 64, b""));
    }
    let key_end = bare_end(b, k, 128, b"\"'=");
    if key_end <= k || key_end - k < 2 || b.get(key_end) == Some(&b'=') {
        return None;
    }
    *scan.steps += (key_end - s) as u64;
    let key = &scan.text[k..key_end];
    let last = key.rsplit(['/', ':', '.']).next().unwrap_or(key);
    let sensitive = PASSWORD_DIRECTIVES.contains(&last.to_ascii_lowercase().as_str())
        || scan.keys.is_sensitive(last)
        || scan.keys.is_sensitive(key);
    if !sensitive {
        return None;
    }
    value_after(scan, key_end)
}

/// Whether `b` has a `-` that starts an argument (after whitespace or a quote), as
/// every flag this module reports does.
pub(super) fn may_hold(b: &[u8]) -> bool {
    memchr::memchr_iter(b'-', b)
        .any(|at| at == 0 || b[at - 1].is_ascii_whitespace() || matches!(b[at - 1], b'"' | b'\''))
}

/// At a `-`: a flag starting an argument (after whitespace, or a quote after whitespace
/// as in `Command`'s `Debug`).
pub(super) fn at_dash(scan: &mut Scan<'_, '_>, at: usize) -> Option<usize> {
    let b = scan.b;
    let quote = at
        .checked_sub(1)
        .map(|p| b[p])
        .filter(|c| matches!(c, b'"' | b'\''));
    let before = if quote.is_some() {
        at.checked_sub(2)
    } else {
        at.checked_sub(1)
    };
    if before.is_some_and(|p| !b[p].is_ascii_whitespace()) {
        return None;
    }
    let long = b.get(at + 1) == Some(&b'-');
    let name_start = at + if long { 2 } else { 1 };
    let mut name_end = name_start;
    while name_end < b.len()
        && (b[name_end].is_ascii_alphanumeric() || matches!(b[name_end], b'-' | b'_'))
        && name_end - name_start < 48
    {
        name_end += 1;
    }
    if name_end == name_start {
        return None;
    }
    *scan.steps += (name_end - at) as u64;
    let name = &scan.text[name_start..name_end];
    // The end of this argument: the closing quote, or whitespace.
    let arg_end = |from: usize| match quote {
        Some(q) => quoted_end(b, from, q),
        None => bare_end(b, from, 512, b""),
    };
    let next = b.get(name_end).copied();
    // Java's and Go's single-dash long flags (`keytool -storepass X -keypass Y`,
    // `-srcstorepass`, `-clientSecret`): named like long ones.
    let single_dash_long = !long
        && name.len() > 3
        && !matches!(name, "passin" | "passout")
        && single_dash_names_secret(scan, name);
    if name.to_ascii_lowercase().ends_with("stdin")
        && next.is_none_or(|c| c.is_ascii_whitespace() || Some(c) == quote)
    {
        if let Some(end) = piped_into_stdin_flag(scan, at, name_end, name) {
            return Some(end);
        }
    }
    let long = long || single_dash_long;
    if !long && name.len() > 1 {
        // `-pX`: attached to `-p` (getopt style): anything where the command is a
        // MySQL client, else a credential-like value (`-pthread`, `-pedantic` stay).
        if name.starts_with('p') && !name.starts_with("pass") {
            let end = arg_end(name_start + 1);
            let value = &b[name_start + 1..end];
            let shaped = stats(value).credential_like(value)
                && !value.iter().all(u8::is_ascii_digit)
                && !value.contains(&b'/');
            if shaped || mysql_command_before(b, at) {
                scan.push(name_start + 1, end, "@cli_credential");
                return Some(end);
            }
            return None;
        }
        // OpenSSL's `-passin pass:X`, `-passout pass:X`, `-pass pass:X`.
        if matches!(name, "passin" | "passout" | "pass") {
            return openssl_pass(scan, name_end, quote);
        }
        return None;
    }
    let secret_flag = if single_dash_long {
        true
    } else if long {
        flag_names_secret(scan, name)
    } else {
        SHORT_SECRET_FLAGS.contains(&name.as_bytes()[0])
            // OpenSSL's `enc -k X` (the passphrase; `curl -k`, `sort -k 2` are not).
            || (name == "k" && command_before(b, at, &["openssl"]))
    };
    let secret_flag = secret_flag || (name == "N" && command_before(b, at, PASSPHRASE_N_COMMANDS));
    let user_flag =
        matches!(name, "u" | "user") || (name == "U" && command_before(b, at, SAMBA_COMMANDS));
    if !secret_flag && !user_flag {
        return None;
    }
    // `--password=X`, `--user=u:X`.
    if next == Some(b'=') {
        let end = arg_end(name_end + 1);
        let value = name_end + 1;
        if single_dash_long && benign_flag_value(&b[value..end]) {
            return Some(end);
        }
        return report(scan, value, end, long, user_flag);
    }
    // The value is the next argument: `"-p" "X"` or `-p X`.
    let after_flag = match quote {
        // A list of arguments (`args: ["mysql", "--password", "X"]`, a `Vec`'s
        // `Debug`): the value is the next element, after the comma.
        Some(q) if next == Some(q) => {
            name_end + 1 + usize::from(b.get(name_end + 1) == Some(&b','))
        }
        None if next.is_some_and(|c| c == b' ' || c == b'\t') => name_end,
        _ => return None,
    };
    let mut v = after_flag;
    while v < b.len() && matches!(b[v], b' ' | b'\t') && v - after_flag < 4 {
        v += 1;
    }
    if v >= b.len() || b[v] == b'-' {
        return None;
    }
    if let Some((qs, qe, after)) = quoted(b, v, 512) {
        if qe > qs && b[qs] == b'-' {
            return None;
        }
        if single_dash_long && benign_flag_value(&b[qs..qe]) {
            return Some(after);
        }
        report(scan, qs, qe, long, user_flag)?;
        return Some(after);
    }
    let end = bare_end(b, v, 512, b"\"'");
    if single_dash_long && benign_flag_value(&b[v..end]) {
        return Some(end);
    }
    report(scan, v, end, long, user_flag)
}

/// A single-dash flag's value that is no secret: a small count (`ffmpeg -pass 1`,
/// `-maxtoken 512`), a boolean (`-bypass true`) or a placeholder (`-storepass
/// <password>` in docs). Tools name such flags like secret ones (found by an attacker).
fn benign_flag_value(v: &[u8]) -> bool {
    super::bytes::small_number(v, 4)
        || super::bytes::boolean_word(v)
        || (v.len() > 2 && v.starts_with(b"<") && v.ends_with(b">"))
}

/// The index of the quote `q` closing an argument that started before `from`.
fn quoted_end(b: &[u8], from: usize, q: u8) -> usize {
    let mut k = from;
    while k < b.len() && k - from < 512 {
        if b[k] == q && b[k - 1] != b'\\' {
            return k;
        }
        if b[k] == b'\n' {
            return k;
        }
        k += 1;
    }
    k
}

/// Reports the value `start..end` of a secret flag, or of a user flag after its colon.
fn report(
    scan: &mut Scan<'_, '_>,
    start: usize,
    end: usize,
    long: bool,
    user: bool,
) -> Option<usize> {
    let b = scan.b;
    if end <= start {
        return None;
    }
    let value = &b[start..end];
    if user {
        // `user:password`; Samba's `user%password`.
        let colon = value.iter().position(|&c| c == b':').or_else(|| {
            value
                .iter()
                .position(|&c| c == b'%')
                .filter(|_| command_before(b, start, SAMBA_COMMANDS))
        })?;
        if is_host_port_path(value, colon) {
            return None;
        }
        scan.push(start + colon + 1, end, "@cli_credential");
        return Some(end);
    }
    if !long {
        // `-p 5432`, `-p 8080:80`, `-a 0.0.0.0` and paths are not passwords.
        let port = value
            .iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.'));
        let path = matches!(value[0], b'/' | b'.' | b'~' | b'%' | b'$') || value.contains(&b'/');
        if port || path || !stats(value).credential_like(value) {
            return None;
        }
    }
    scan.push(start, end, "@cli_credential");
    Some(end)
}

/// Whether a user flag's `value`, its first colon at `colon`, is `user@host:port/path`
/// (`-u=0@db.internal:5432/app` inside a URL's password), not `user:password`: an `@`
/// before the colon, and a port then a `/` after it.
fn is_host_port_path(value: &[u8], colon: usize) -> bool {
    let after = &value[colon + 1..];
    let port = after.iter().take_while(|c| c.is_ascii_digit()).count();
    value[..colon].contains(&b'@') && (1..=5).contains(&port) && after.get(port) == Some(&b'/')
}

/// Whether a long flag's name names a secret (`--password`, `--api-key`, `--authkey`,
/// `--http-password`, `--client-secret`), not where it comes from (`--password-stdin`,
/// `--token-file`).
fn flag_names_secret(scan: &Scan<'_, '_>, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if SOURCE_SUFFIXES
        .iter()
        .any(|s| lower.ends_with(s) && lower.len() > s.len())
    {
        return false;
    }
    matches!(
        lower.as_str(),
        "authkey" | "auth-key" | "pass" | "passwd" | "pw" | "pwd"
    ) || scan.keys.is_sensitive(name)
}

/// Whether a single-dash flag's name (`storepass`, `srcstorepass`, `keypass`,
/// `clientSecret`) names a secret: it ends in a secret word, or names one by the key
/// rules; not where a secret comes from (`-passfile`).
fn single_dash_names_secret(scan: &Scan<'_, '_>, name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        "pass",
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "passphrase",
        "apikey",
    ]
    .iter()
    .any(|w| lower.ends_with(w))
        || flag_names_secret(scan, name)
}

/// A secret written to a command's standard input where a flag says it reads one
/// (`--password-stdin`, `-password-stdin`, `--token-stdin`): the value `echo`ed or
/// `printf`ed into the pipe before it (`echo X | docker login --password-stdin`), or a
/// here-string after it (`--password-stdin <<< X`).
fn piped_into_stdin_flag(
    scan: &mut Scan<'_, '_>,
    at: usize,
    name_end: usize,
    name: &str,
) -> Option<usize> {
    let b = scan.b;
    let lower = name.to_ascii_lowercase();
    let base = lower.strip_suffix("stdin")?.trim_end_matches(['-', '_']);
    if base.is_empty() || !single_dash_names_secret(scan, base) {
        return None;
    }
    // A here-string after the flag.
    let after = super::bytes::skip_blanks(b, name_end);
    if b[after..].starts_with(b"<<<") {
        let v = super::bytes::skip_blanks(b, after + 3);
        let (vs, ve, end) = quoted(b, v, 512).unwrap_or_else(|| {
            let e = bare_end(b, v, 512, b";&|");
            (v, e, e)
        });
        scan.push(vs, ve, "@cli_credential");
        return Some(end);
    }
    let ls = line_start(b, at, 1024);
    let line = &b[ls..at];
    let pipe = ls + line.iter().rposition(|&c| c == b'|')?;
    // The command feeding the pipe: the last `echo` or `printf` before it.
    let seg = &b[ls..pipe];
    let word_at = |w: &[u8]| {
        seg.windows(w.len() + 1)
            .enumerate()
            .filter(|(i, x)| {
                x[..w.len()] == *w
                    && x[w.len()] == b' '
                    && (*i == 0
                        || matches!(seg[i - 1], b' ' | b';' | b'&' | b'(' | b'`' | b'"' | b'\''))
            })
            .map(|(i, _)| i + w.len() + 1)
            .next_back()
    };
    let mut v = ls + word_at(b"echo").or_else(|| word_at(b"printf"))?;
    // Options and a format (`-n`, `-e`, `'%s'`, `"%s\n"`).
    loop {
        v = super::bytes::skip_blanks(b, v);
        if v < pipe && b[v] == b'-' {
            v = bare_end(b, v, 8, b"");
            continue;
        }
        if let Some((qs, qe, after)) = quoted(b, v, 64) {
            if b[qs..qe].contains(&b'%') {
                v = after;
                continue;
            }
        }
        break;
    }
    let mut end = pipe;
    while end > v && matches!(b[end - 1], b' ' | b'\t') {
        end -= 1;
    }
    if end <= v {
        return None;
    }
    let (vs, ve) = match quoted(b, v, 512) {
        Some((qs, qe, after)) if after >= end => (qs, qe),
        _ => (v, end),
    };
    scan.push(vs, ve, "@cli_credential");
    Some(name_end)
}

/// Whether a MySQL client command is named earlier on the same line (within 256 bytes).
fn mysql_command_before(b: &[u8], at: usize) -> bool {
    command_before(b, at, ATTACHED_P_COMMANDS)
}

/// Whether one of `commands` is named earlier on the same line (within 256 bytes).
fn command_before(b: &[u8], at: usize, commands: &[&str]) -> bool {
    let start = line_start(b, at, 256);
    let line = &b[start..at];
    commands.iter().any(|cmd| {
        line.windows(cmd.len()).enumerate().any(|(i, w)| {
            w == cmd.as_bytes()
                && (i == 0 || !line[i - 1].is_ascii_alphanumeric())
                && line
                    .get(i + cmd.len())
                    .is_none_or(|c| !c.is_ascii_alphanumeric() && *c != b'-')
        })
    })
}

/// `-passout pass:X`: the value after `pass:` (not `env:VAR` or `file:path`).
fn openssl_pass(scan: &mut Scan<'_, '_>, name_end: usize, quote: Option<u8>) -> Option<usize> {
    let b = scan.b;
    let mut v = name_end;
    if quote.is_some() && b.get(v) == quote.as_ref() {
        v += 1;
    }
    while v < b.len() && b[v] == b' ' && v - name_end < 4 {
        v += 1;
    }
    if quote.is_some() && b.get(v) == quote.as_ref() {
        v += 1;
    }
    if !b[v.min(b.len())..].starts_with(b"pass:") {
        return None;
    }
    let start = v + 5;
    let end = match quote {
        Some(q) => quoted_end(b, start, q),
        None => bare_end(b, start, 512, b""),
    };
    scan.push(start, end, "@cli_credential");
    Some(end)
}

/// Whether the `:` at `at` ends a Windows-style password switch (`/p:`, `/password:`)
/// that starts an argument.
pub(super) fn windows_switch_before(b: &[u8], at: usize) -> bool {
    WINDOWS_PASSWORD_SWITCHES.iter().any(|name| {
        let n = name.len();
        at > n
            && b[at - n - 1] == b'/'
            && b[at - n..at].eq_ignore_ascii_case(name.as_bytes())
            && (at == n + 1 || matches!(b[at - n - 2], b' ' | b'\t' | b'"' | b'\''))
    })
}

/// After a Windows-style password switch's `:` at `at`: its value, up to whitespace (or
/// its closing quote); `/p:` only where a FreeRDP client is the command.
pub(super) fn windows_switch(scan: &mut Scan<'_, '_>, at: usize) -> Option<usize> {
    let b = scan.b;
    let short = at >= 2 && b[at - 2] == b'/' && b[at - 1].eq_ignore_ascii_case(&b'p');
    if short && !command_before(b, at, FREERDP_COMMANDS) {
        return None;
    }
    let start = at + 1;
    let (vs, ve, after) = match quoted(b, start, 512) {
        Some(q) => q,
        None => {
            let end = bare_end(b, start, 512, b"\"'");
            (start, end, end)
        }
    };
    if ve <= vs {
        return None;
    }
    *scan.steps += (after - at) as u64;
    scan.push(vs, ve, "@cli_credential");
    Some(after)
}

/// Apache's `htpasswd` in batch mode (`-b`, the password on the command line:
/// `htpasswd -b[c] file user password`, `htpasswd -nb user password`): the last argument.
/// `e` is where the word `htpasswd` ends.
pub(super) fn htpasswd_batch(scan: &mut Scan<'_, '_>, e: usize) -> Option<usize> {
    let b = scan.b;
    let limit = super::bytes::line_end(b, e, e + 1024);
    let (mut batch, mut stdout) = (false, false);
    let mut positional: [(usize, usize); 4] = [(0, 0); 4];
    let mut count = 0;
    let mut p = e;
    let mut last = e;
    while p < limit {
        p = super::bytes::skip_blanks(b, p);
        if p >= limit {
            break;
        }
        let (vs, ve, after) = match argument_at(b, p, limit) {
            Some(arg) => arg,
            None => break,
        };
        let arg = &b[vs..ve];
        if arg.len() > 1 && arg[0] == b'-' && arg[1] != b'-' {
            batch |= arg.contains(&b'b');
            stdout |= arg.contains(&b'n');
        } else if count < positional.len() {
            positional[count] = (vs, ve);
            count += 1;
        } else {
            break;
        }
        last = after;
        p = after;
    }
    *scan.steps += (last - e) as u64;
    let wanted = if stdout { 2 } else { 3 };
    if !batch || count != wanted {
        return None;
    }
    let (vs, ve) = positional[count - 1];
    (ve > vs).then(|| {
        scan.push(vs, ve, "@cli_credential");
        last
    })
}

/// Windows `net use [drive:] \\host\share [password | *] [/user:[domain\]user] [/switch]`:
/// the one argument that is not the device, the share, `*` or a switch is the password.
/// `at` is where `net` starts (any case).
pub(super) fn net_use(scan: &mut Scan<'_, '_>, at: usize) -> Option<usize> {
    let b = scan.b;
    if at > 0 && (b[at - 1].is_ascii_alphanumeric() || b[at - 1] == b'_') {
        return None;
    }
    let limit = super::bytes::line_end(b, at, at + 1024);
    let mut p = at + "net use".len();
    let mut last = p;
    while p < limit {
        p = super::bytes::skip_blanks(b, p);
        if p >= limit {
            break;
        }
        let (vs, ve, after) = match argument_at(b, p, limit) {
            Some(arg) => arg,
            None => break,
        };
        *scan.steps += (after - p) as u64;
        let v = &b[vs..ve];
        let device = v.len() == 2 && v[0].is_ascii_alphabetic() && v[1] == b':';
        let share = v.starts_with(b"\\\\") || v.starts_with(b"//");
        let switch = v.first() == Some(&b'/');
        if !(v.is_empty() || device || share || switch || v == b"*") {
            scan.push(vs, ve, "@cli_credential");
        }
        last = after;
        p = after;
    }
    Some(last)
}

/// How a command takes its password, by its own documented syntax.
#[derive(Clone, Copy)]
enum Takes {
    /// The `n`th positional argument (flags skipped) after the subcommand words.
    Positional(usize),
    /// The argument after this flag.
    Flag(&'static str),
    /// `-u user,password` (lftp).
    UserComma(&'static str),
    /// `user:password` on standard input: a here-string after the command, or an
    /// `echo`/`printf` piped into it (chpasswd).
    UserColonInput,
    /// `KEY VALUE`: the value when the key's last path segment is sensitive.
    KeyPathValue,
    /// `--name NAME .. --value VALUE`: the value when the name is sensitive.
    NamedValue(&'static str, &'static str),
}

/// `(command, subcommand words, syntax)`: tools that take a password in their own
/// syntax, each from its manual: PuTTY's `pscp`/`plink`/`psftp` `-pw` (PuTTY User
/// Manual 5.2.2.6, 7.2.3.1), lftp's `-u user[,pass]` (lftp(1)), Windows `net user NAME
/// PASSWORD` and `schtasks /rp` `/p` (Microsoft Learn command references), RabbitMQ's
/// `rabbitmqctl add_user|change_password|authenticate_user NAME PASSWORD`
/// (rabbitmqctl(8)), `chpasswd`'s `user:password` lines (chpasswd(8)), net-snmp's `-c`
/// community and `-A`/`-X` v3 passphrases (snmpcmd(1)), `wpa_passphrase SSID PASSPHRASE`
/// (wpa_passphrase(8)), MinIO's `mc alias set ALIAS URL ACCESSKEY SECRETKEY`, Backblaze's
/// `b2 account authorize KEYID KEY`, `consul kv put KEY VALUE` and `etcdctl put KEY
/// VALUE` under a sensitive key, AWS SSM `put-parameter` and Azure Key Vault `secret set`
/// `--name .. --value`, GitHub CLI `gh secret set NAME --body`.
const TOOLS: &[(&str, &[&str], Takes)] = &[
    ("pscp", &[], Takes::Flag("-pw")),
    ("plink", &[], Takes::Flag("-pw")),
    ("psftp", &[], Takes::Flag("-pw")),
    ("putty", &[], Takes::Flag("-pw")),
    ("lftp", &[], Takes::UserComma("-u")),
    ("net", &["user"], Takes::Positional(2)),
    ("schtasks", &[], Takes::Flag("/rp")),
    ("schtasks", &[], Takes::Flag("/p")),
    ("rabbitmqctl", &["add_user"], Takes::Positional(2)),
    ("rabbitmqctl", &["change_password"], Takes::Positional(2)),
    ("rabbitmqctl", &["authenticate_user"], Takes::Positional(2)),
    ("chpasswd", &[], Takes::UserColonInput),
    ("snmpwalk", &[], Takes::Flag("-c")),
    ("snmpbulkwalk", &[], Takes::Flag("-c")),
    ("snmpget", &[], Takes::Flag("-c")),
    ("snmpgetnext", &[], Takes::Flag("-c")),
    ("snmpbulkget", &[], Takes::Flag("-c")),
    ("snmpset", &[], Takes::Flag("-c")),
    ("snmptable", &[], Takes::Flag("-c")),
    ("snmptrap", &[], Takes::Flag("-c")),
    ("snmpstatus", &[], Takes::Flag("-c")),
    ("snmpdf", &[], Takes::Flag("-c")),
    ("snmpwalk", &[], Takes::Flag("-A")),
    ("snmpget", &[], Takes::Flag("-A")),
    ("snmpset", &[], Takes::Flag("-A")),
    ("snmpwalk", &[], Takes::Flag("-X")),
    ("snmpget", &[], Takes::Flag("-X")),
    ("snmpset", &[], Takes::Flag("-X")),
    ("wpa_passphrase", &[], Takes::Positional(2)),
    ("mc", &["alias", "set"], Takes::Positional(4)),
    ("mc", &["config", "host", "add"], Takes::Positional(4)),
    ("b2", &["authorize-account"], Takes::Positional(2)),
    ("b2", &["account", "authorize"], Takes::Positional(2)),
    ("consul", &["kv", "put"], Takes::KeyPathValue),
    ("etcdctl", &["put"], Takes::KeyPathValue),
    (
        "aws",
        &["put-parameter"],
        Takes::NamedValue("--name", "--value"),
    ),
    (
        "az",
        &["secret", "set"],
        Takes::NamedValue("--name", "--value"),
    ),
    ("gh", &["secret", "set"], Takes::Flag("--body")),
    ("gh", &["secret", "set"], Takes::Flag("-b")),
];

/// Where a command of [`TOOLS`] may start: its name as a word, before a blank or the end.
pub(super) fn tool_positions(b: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    static SEARCH: std::sync::OnceLock<aho_corasick::AhoCorasick> = std::sync::OnceLock::new();
    let search = SEARCH.get_or_init(|| {
        // Case-sensitive, so the search runs on SIMD prefilters: names as written, and
        // Windows' commands in capitals too (`NET USER`, `SCHTASKS`).
        let mut names: Vec<String> = TOOLS.iter().map(|(c, _, _)| c.to_string()).collect();
        names.extend(["NET".to_owned(), "SCHTASKS".to_owned()]);
        names.sort();
        names.dedup();
        aho_corasick::AhoCorasickBuilder::new()
            .build(&names)
            // Literal patterns of bounded count: building cannot fail.
            .expect("tool names build")
    });
    search.find_iter(b).filter_map(move |m| {
        let (s, e) = (m.start(), m.end());
        // The name stands as a word (a path's last segment too: `/usr/bin/pscp`).
        let standalone = (s == 0 || !(b[s - 1].is_ascii_alphanumeric() || b[s - 1] == b'_'))
            && b.get(e)
                .is_none_or(|c| matches!(c, b' ' | b'\t' | b'"' | b'\''));
        standalone.then_some((s, e))
    })
}

/// The argument starting at `p` (past the blanks before it), quoted or bare and ending
/// by `limit`: `(start, end, after)`, quotes removed; `None` when there is none.
fn argument_at(b: &[u8], p: usize, limit: usize) -> Option<(usize, usize, usize)> {
    quoted(b, p, 512).or_else(|| {
        let end = bare_end(b, p, 512, b"\"'").min(limit);
        (end > p).then_some((p, end, end))
    })
}

/// The arguments of a command line from `from` to the line's end: `(start, end, after)`
/// of each (quotes removed), at most 32.
fn arguments(b: &[u8], from: usize) -> Vec<(usize, usize, usize)> {
    let limit = super::bytes::line_end(b, from, from + 1024);
    let mut args = Vec::new();
    let mut p = from;
    while p < limit && args.len() < 32 {
        p = super::bytes::skip_blanks(b, p);
        if p >= limit {
            break;
        }
        let arg = match argument_at(b, p, limit) {
            Some(arg) => arg,
            None => break,
        };
        p = arg.2;
        args.push(arg);
    }
    args
}

/// A value that is a prompt or a reference, no secret: `*`, `$VAR`, `%VAR%`, `<password>`.
fn placeholder(v: &[u8]) -> bool {
    v.is_empty()
        || v == b"*"
        || v.starts_with(b"$")
        || (v.starts_with(b"%") && v.ends_with(b"%"))
        || (v.starts_with(b"<") && v.ends_with(b">"))
}

/// At a command of [`TOOLS`] (`s..e` its name): the password its syntax puts on the line.
pub(super) fn tool_password(scan: &mut Scan<'_, '_>, s: usize, e: usize) -> Option<usize> {
    let b = scan.b;
    let command = scan.text[s..e].to_ascii_lowercase();
    let args = arguments(b, e);
    *scan.steps += args.last().map_or(0, |a| (a.2 - e) as u64);
    let arg = |i: usize| &b[args[i].0..args[i].1];
    let windows = matches!(command.as_str(), "net" | "schtasks");
    let is_flag = |v: &[u8]| v.first() == Some(&b'-') || (windows && v.first() == Some(&b'/'));
    let mut reported = None;
    for (name, words, takes) in TOOLS {
        if *name != command {
            continue;
        }
        // The subcommand words, in order.
        let mut next = 0;
        let mut found = true;
        for w in *words {
            match (next..args.len()).find(|&i| arg(i).eq_ignore_ascii_case(w.as_bytes())) {
                Some(i) => next = i + 1,
                None => {
                    found = false;
                    break;
                }
            }
        }
        if !found {
            continue;
        }
        let value = match *takes {
            Takes::Positional(n) => (next..args.len())
                .filter(|&i| !is_flag(arg(i)))
                .nth(n - 1)
                .map(|i| (args[i].0, args[i].1)),
            // Flags are case-sensitive (`-a` and `-A` differ); Windows switches are not.
            Takes::Flag(flag) => (next..args.len().saturating_sub(1))
                .find(|&i| {
                    arg(i) == flag.as_bytes()
                        || (windows && arg(i).eq_ignore_ascii_case(flag.as_bytes()))
                })
                .map(|i| (args[i + 1].0, args[i + 1].1)),
            Takes::UserComma(flag) => (next..args.len().saturating_sub(1))
                .find(|&i| arg(i) == flag.as_bytes())
                .and_then(|i| {
                    let (vs, ve, _) = args[i + 1];
                    let comma = b[vs..ve].iter().position(|&c| c == b',')?;
                    Some((vs + comma + 1, ve))
                }),
            Takes::UserColonInput => user_colon_input(b, s, &args),
            Takes::KeyPathValue => (next + 1 < args.len())
                .then(|| (args[next], args[next + 1]))
                .filter(|(key, _)| path_names_secret(scan, &scan.text[key.0..key.1]))
                .map(|(_, v)| (v.0, v.1)),
            Takes::NamedValue(name_flag, value_flag) => {
                let find = |flag: &str| {
                    (next..args.len().saturating_sub(1))
                        .find(|&i| arg(i).eq_ignore_ascii_case(flag.as_bytes()))
                        .map(|i| args[i + 1])
                };
                match (find(name_flag), find(value_flag)) {
                    (Some(key), Some(v)) if path_names_secret(scan, &scan.text[key.0..key.1]) => {
                        Some((v.0, v.1))
                    }
                    _ => None,
                }
            }
        };
        if let Some((vs, ve)) = value {
            if ve > vs && !placeholder(&b[vs..ve]) {
                scan.push(vs, ve, "@cli_credential");
                reported = Some(ve.max(reported.unwrap_or(0)));
            }
        }
    }
    reported
}

/// Whether a key path's last segment (after `/`, `:` or `.`), or the whole, is
/// sensitive by the key rules (`app/db/password`, `/prod/db/password`, `db-password`).
fn path_names_secret(scan: &Scan<'_, '_>, key: &str) -> bool {
    let last = key.rsplit(['/', ':', '.']).next().unwrap_or(key);
    (!last.is_empty() && scan.keys.is_sensitive(last)) || scan.keys.is_sensitive(key)
}

/// chpasswd's `user:password` input: a here-string after the command (`chpasswd <<<
/// "u:X"`), or the `echo`/`printf` argument piped into it (`echo 'u:X' | chpasswd`).
fn user_colon_input(b: &[u8], s: usize, args: &[(usize, usize, usize)]) -> Option<(usize, usize)> {
    let pair = |(vs, ve): (usize, usize)| {
        let colon = b[vs..ve].iter().position(|&c| c == b':')?;
        (colon > 0 && vs + colon + 1 < ve).then_some((vs + colon + 1, ve))
    };
    if let Some(i) = args.iter().position(|a| &b[a.0..a.1] == b"<<<") {
        let v = args.get(i + 1)?;
        return pair((v.0, v.1));
    }
    // Before the command: `echo 'u:X' | chpasswd`.
    let ls = line_start(b, s, 512);
    let before = &b[ls..s];
    let pipe = before.iter().rposition(|&c| c == b'|')?;
    let feed = arguments(&b[..ls + pipe], ls);
    let at = feed
        .iter()
        .rposition(|a| matches!(&b[a.0..a.1], b"echo" | b"printf"))?;
    feed[at + 1..]
        .iter()
        .filter(|a| !b[a.0..a.1].starts_with(b"-"))
        .find_map(|a| pair((a.0, a.1)))
}
