//! Property tests of structure an attacker got through: keys, separators and quotes
//! written as escapes (HTML character references, `\u`, `\x`, form encoding). Secrets,
//! keys, forms and which characters are escaped, and how, are all generated; harmless
//! text escaped the same way must come out unchanged.

mod prop_config;

use proptest::prelude::*;
use tracing_scrub::{ScrubReport, ScrubRules, Scrubber};

fn scrubber() -> &'static Scrubber {
    static SCRUBBER: std::sync::OnceLock<Scrubber> = std::sync::OnceLock::new();
    SCRUBBER.get_or_init(|| Scrubber::new(&ScrubRules::default()).expect("defaults compile"))
}

fn scrub(text: &str) -> String {
    scrubber()
        .scrub_str(text, &mut ScrubReport::default())
        .into_owned()
}

fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9]{10,20}".prop_map(|s| format!("Zq8{s}"))
}

const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "db_password",
    "client_secret",
    "api_key",
    "access_token",
    "secret",
    "auth_token",
];

/// Forms of a pair: `{k}` the key, `{v}` the value.
const FORMS: &[&str] = &[
    "{k}={v}",
    "{k}: {v}",
    "\"{k}\":\"{v}\"",
    "{\"{k}\": \"{v}\"}",
    "'{k}' => '{v}'",
    "<{k}>{v}</{k}>",
];

/// `c` written in escape style `style`.
fn escaped(c: char, style: u8) -> String {
    let named = match c {
        '=' => Some("equals"),
        ':' => Some("colon"),
        '"' => Some("quot"),
        '\'' => Some("apos"),
        '<' => Some("lt"),
        '>' => Some("gt"),
        '_' => Some("lowbar"),
        '{' => Some("lcub"),
        '}' => Some("rcub"),
        '/' => Some("sol"),
        _ => None,
    };
    let n = c as u32;
    match style % 6 {
        0 => format!("&#{n};"),
        1 => format!("&#x{n:X};"),
        2 => match named {
            Some(name) => format!("&{name};"),
            None => format!("&#{n}"),
        },
        3 => format!("\\u{n:04x}"),
        4 => format!("\\x{n:02x}"),
        _ => format!("\\u{n:04X}"),
    }
}

/// `text` with the characters `pick` selects escaped (each in its own style), except the
/// bytes in `keep` (the secret: escaping it would hide it from the assertion).
fn escape_some(text: &str, keep: std::ops::Range<usize>, pick: &[u8]) -> String {
    let mut out = String::new();
    for (k, (i, c)) in text.char_indices().enumerate() {
        let choice = pick[k % pick.len()];
        if keep.contains(&i) || !choice.is_multiple_of(3) {
            out.push(c);
        } else {
            out.push_str(&escaped(c, choice / 3));
        }
    }
    out
}

proptest! {
    #![proptest_config(prop_config::config(256))]

    /// A secret pair whose key, separator or quotes are escaped loses its value.
    #[test]
    fn escaped_keys_and_separators_do_not_hide_a_secret(
        secret in secret(),
        key in 0..SECRET_KEYS.len(),
        form in 0..FORMS.len(),
        pick in proptest::collection::vec(any::<u8>(), 1..16),
        prefix in "([a-z]{1,10}[ ,;]){0,2}",
    ) {
        let plain = FORMS[form].replace("{k}", SECRET_KEYS[key]);
        let at = plain.find("{v}").unwrap_or(0);
        let plain = plain.replace("{v}", &secret);
        let text = format!("{prefix}{}", escape_some(&plain, at..at + secret.len(), &pick));
        let out = scrub(&text);
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
    }

    /// Form encoding: `key+%3D+value`, `key%3Dvalue`, `key%3A+value`.
    #[test]
    fn form_encoded_separators_do_not_hide_a_secret(
        secret in secret(),
        key in 0..SECRET_KEYS.len(),
        sep in prop_oneof![Just("+%3D+"), Just("%3D"), Just("%3A+"), Just("+%3d"), Just("%3a")],
        prefix in "[a-z]{0,8}",
    ) {
        let text = format!("{prefix} {}{sep}{secret}", SECRET_KEYS[key]);
        let out = scrub(&text);
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
    }

    /// Harmless pairs escaped the same way are kept byte for byte.
    #[test]
    fn escaped_harmless_pairs_are_kept(
        key in prop_oneof![Just("status"), Just("region"), Just("lang"), Just("mode"), Just("retry")],
        value in "[a-z]{3,9}",
        form in 0..FORMS.len(),
        pick in proptest::collection::vec(any::<u8>(), 1..16),
    ) {
        let plain = FORMS[form].replace("{k}", key).replace("{v}", &value);
        let text = escape_some(&plain, 0..0, &pick);
        prop_assert_eq!(scrub(&text), text);
    }
}

/// A column list of `n` harmless columns with `sensitive` inserted at `at`.
fn columns(n: usize, at: usize, sensitive: &str) -> Vec<String> {
    let harmless = [
        "user_id",
        "created_at",
        "status",
        "region",
        "plan",
        "attempts",
    ];
    let mut cols: Vec<String> = harmless.iter().take(n).map(|c| (*c).to_owned()).collect();
    cols.insert(at.min(cols.len()), sensitive.to_owned());
    cols
}

proptest! {
    #![proptest_config(prop_config::config(128))]

    /// Serialisations that pair a name with a value by position or markup: XML CDATA,
    /// PHP `serialize()`, Java properties XML (`<entry key=..>`), SQL `INSERT` column
    /// and value lists, JSON Web Keys.
    #[test]
    fn serialised_pairs_lose_their_value(
        secret in secret(),
        key in 0..SECRET_KEYS.len(),
        prefix in "[a-z]{2,8}",
        n in 0usize..5,
        at in 0usize..6,
        shape in 0u8..5,
    ) {
        let k = SECRET_KEYS[key];
        let text = match shape {
            0 => format!("<{k}><![CDATA[{secret}]]></{k}>"),
            1 => format!(
                "a:2:{{s:{}:\"{prefix}\";i:{n};s:{}:\"{k}\";s:{}:\"{secret}\";}}",
                prefix.len(), k.len(), secret.len()
            ),
            2 => format!("<properties><entry key=\"{prefix}.{k}\">{secret}</entry></properties>"),
            3 => {
                let cols = columns(n, at, k);
                let values: Vec<String> = cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| if c == k { format!("'{secret}'") } else { format!("{}", i + 7) })
                    .collect();
                format!("INSERT INTO {prefix} ({}) VALUES ({})", cols.join(", "), values.join(", "))
            }
            _ => {
                let member = ["k", "d", "p", "q", "dp", "dq", "qi"][n];
                format!("{{\"kty\":\"RSA\",\"kid\":\"{prefix}\",\"{member}\":\"{secret}\",\"e\":\"AQAB\"}}")
            }
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
    }

    /// The same shapes with harmless names keep every byte.
    #[test]
    fn harmless_serialisations_are_kept(
        value in "[a-z]{3,9}",
        prefix in "[a-z]{2,8}",
        n in 0usize..5,
        shape in 0u8..5,
    ) {
        let text = match shape {
            0 => format!("<region><![CDATA[{value}]]></region>"),
            1 => format!("a:1:{{s:6:\"status\";s:{}:\"{value}\";}}", value.len()),
            2 => format!("<entry key=\"{prefix}.host\">{value}</entry>"),
            3 => {
                let cols = columns(n, 0, "name_slug");
                let values: Vec<String> = (0..cols.len()).map(|i| format!("{}", i + 7)).collect();
                format!("INSERT INTO {prefix} ({}) VALUES ({})", cols.join(", "), values.join(", "))
            }
            _ => format!("{{\"k\":\"{value}\",\"d\":\"{prefix}\"}}"),
        };
        prop_assert_eq!(scrub(&text), text);
    }

    /// Command lines: a secret flag's value as the next element of an argument list
    /// (`Command`'s or a `Vec`'s `Debug`), and setters (`set KEY VALUE`, `config set`,
    /// `ENV KEY VALUE`, Redis directives) whose key is sensitive. The rest of the list
    /// is kept.
    #[test]
    fn command_line_values_lose_their_secret(
        secret in secret(),
        key in 0..SECRET_KEYS.len(),
        program in "[a-z]{3,8}",
        shape in 0u8..6,
    ) {
        let k = SECRET_KEYS[key];
        let flag = format!("--{}", k.replace('_', "-"));
        let (text, kept) = match shape {
            0 => (
                format!("Command {{ program: \"{program}\", args: [\"{program}\", \"-v\", \"{flag}\", \"{secret}\", \"run\"] }}"),
                vec![format!("\"{flag}\""), "\"run\"".to_owned()],
            ),
            1 => (format!("{program} config set {k} {secret}"), vec![format!("config set {k}")]),
            2 => (format!("{program} configure set {k} {secret}"), vec![format!("set {k}")]),
            3 => (format!("ENV {} {secret}", k.to_uppercase()), vec![k.to_uppercase()]),
            4 => (format!("npm config set //{program}.internal/:_{k} {secret}"), vec![format!("//{program}.internal/")]),
            _ => (format!("CONFIG SET requirepass \"{secret}\""), vec!["CONFIG SET requirepass".to_owned()]),
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
        for part in kept {
            prop_assert!(out.contains(&part), "lost {part:?}: {text:?} -> {out:?}");
        }
        // The list keeps its shape: only the value goes.
        if shape == 0 {
            prop_assert_eq!(&out, &text.replace(&secret, "[Filtered]"));
        }
    }

    /// Setters of harmless keys, and prose with a setter verb, are kept.
    #[test]
    fn harmless_setters_are_kept(
        value in "[a-z]{3,9}",
        n in 1u32..999,
        shape in 0u8..4,
    ) {
        let text = match shape {
            0 => format!("CONFIG SET maxmemory-policy {value}"),
            1 => format!("aws configure set region {value}"),
            2 => format!("failed to set password for {value}"),
            _ => format!("set timeout {n}"),
        };
        prop_assert_eq!(scrub(&text), text);
    }

    /// URLs: opaque tokens after a token-context path word (`/tokens/`, `/share/s/`,
    /// `/password/reset/`), query keys and fragments that carry tokens (`ticket`,
    /// `SAMLResponse`, `hash`, `license`, `#access_token`), Go MySQL DSNs.
    #[test]
    fn url_tokens_and_dsn_passwords_are_replaced(
        token in "[A-Za-z0-9]{9,24}".prop_map(|s| format!("a9Z{s}")),
        host in "[a-z]{3,9}",
        shape in 0u8..8,
    ) {
        let text = match shape {
            0 => format!("https://{host}.com/api/v1/users/42/tokens/{token}"),
            1 => format!("https://{host}.com/password/reset/{token}"),
            2 => format!("https://{host}.com/share/s/{token}"),
            3 => format!("https://{host}.com/cb?ticket=ST-{token}"),
            4 => format!("https://{host}.com/sso?SAMLResponse={token}&RelayState=x"),
            5 => format!("https://{host}.com/app#access_token={token}&expires_in=3600"),
            6 => format!("https://{host}.com/v2/data?hash={token}&user=1"),
            _ => format!("dial {host}:{token}@tcp({host}:3306)/orders?parseTime=true"),
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&token), "{text:?} -> {out:?}");
        prop_assert!(out.contains(&host), "host lost: {text:?} -> {out:?}");
    }

    /// Harmless URLs of the same shapes, and scp-style git remotes, are kept.
    #[test]
    fn harmless_urls_and_git_remotes_are_kept(
        word in "[a-z]{3,9}",
        org in "[a-z]{3,9}",
        n in 1u32..99999,
        shape in 0u8..5,
    ) {
        let text = match shape {
            0 => format!("git@github.com:{org}/{word}.git fetch failed"),
            1 => format!("https://{org}.com/api/v1/tokens/{word}"),
            2 => format!("https://{org}.com/password/reset?step={n}"),
            3 => format!("https://{org}.com/v2/data?hash={word}&page={n}"),
            _ => format!("git@gitlab.{org}.com:{word}/{org}.git"),
        };
        prop_assert_eq!(scrub(&text), text);
    }
}

/// A random string of `n` characters of `alphabet`, from `seed`.
fn draw(seed: &[u8], alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|i| {
            let s = seed[i % seed.len()] as usize + i * 31 + seed.len() * 7;
            char::from(alphabet[s % alphabet.len()])
        })
        .collect()
}

const BASE62: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE58: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
const HEX_DIGITS: &[u8] = b"0123456789abcdef";

proptest! {
    #![proptest_config(prop_config::config(128))]

    /// Tokens of the formats the attacker's probe found leaking, with generated bodies,
    /// in a sentence or as a configuration value.
    #[test]
    fn vendor_formats_with_generated_bodies_are_replaced(
        seed in proptest::collection::vec(any::<u8>(), 8..32),
        kind in 0u8..11,
        framing in 0u8..3,
    ) {
        let token = match kind {
            0 => format!("s.{}", draw(&seed, BASE62, 24)),
            1 => format!("GR1348941{}", draw(&seed, BASE62, 20)),
            2 => format!("xprv9{}", draw(&seed, BASE58, 106)),
            3 => format!("AAAA{}:APA91b{}", draw(&seed, BASE62, 7), draw(&seed, BASE62, 134)),
            4 => format!("00D{}!AQ{}", draw(&seed, BASE62, 15), draw(&seed, BASE62, 90)),
            5 => format!("v^1.1#i^1#p^3#r^0#I^3#f^0#t^H4sI{}", draw(&seed, BASE62, 64)),
            6 => format!("rzp_test_{}", draw(&seed, BASE62, 14)),
            7 => format!("sgp_{}", draw(&seed, HEX_DIGITS, 40)),
            8 => format!("rnd_{}", draw(&seed, BASE62, 32)),
            9 => format!("fw_{}", draw(&seed, BASE62, 24)),
            _ => format!("csk-{}", draw(&seed, b"abcdefghijklmnopqrstuvwxyz0123456789", 48)),
        };
        let text = match framing {
            0 => format!("upstream rejected {token} (401)"),
            1 => format!("config value {token}"),
            _ => format!("{{\"value\":\"{token}\"}}"),
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&token), "{text:?} -> {out:?}");
    }
}

/// Names of secret environment variables and settings, as manifests write them.
const SECRET_NAMES: &[&str] = &[
    "DB_PASSWORD",
    "API_TOKEN",
    "STRIPE_SECRET_KEY",
    "SMTP_PASSWORD",
    "clientSecret",
    "GITHUB_TOKEN",
    "REDIS_AUTH_TOKEN",
    "aws_secret_access_key",
];

/// Names of harmless ones.
const PLAIN_NAMES: &[&str] = &[
    "DB_HOST",
    "LOG_LEVEL",
    "PORT",
    "REGION",
    "featureFlags",
    "TOKEN_TTL_SECONDS",
];

fn quote_as(v: &str, style: u8) -> String {
    match style {
        0 => v.to_string(),
        1 => format!("\"{v}\""),
        _ => format!("'{v}'"),
    }
}

proptest! {
    #![proptest_config(prop_config::config(128))]

    /// Kubernetes/ECS env lists in YAML (`- name: X` then `value: Y` on the next line,
    /// any indentation and quoting) and JSON: the value of a secret name goes; other
    /// items, before and after it, stay.
    #[test]
    fn name_value_env_lists_lose_the_secret_value(
        name in 0..SECRET_NAMES.len(),
        plain in 0..PLAIN_NAMES.len(),
        value in secret(),
        indent in 0usize..4,
        quoting in 0u8..3,
        form in 0u8..3,
    ) {
        let (name, plain) = (SECRET_NAMES[name], PLAIN_NAMES[plain]);
        let pad = " ".repeat(indent * 2);
        let text = match form {
            0 => format!(
                "env:\n{pad}- name: {plain}\n{pad}  value: keepme\n{pad}- name: {}\n{pad}  value: {}\n{pad}- name: LOG_FORMAT\n{pad}  value: json",
                quote_as(name, quoting), quote_as(&value, quoting)
            ),
            1 => format!(
                "[{{\"name\":\"{plain}\",\"value\":\"keepme\"}},{{\"name\": \"{name}\", \"value\": \"{value}\"}},{{\"name\":\"LOG_FORMAT\",\"value\":\"json\"}}]"
            ),
            _ => format!("containers:\n{pad}  env:\n{pad}  - {{name: {name}, value: {}}}\n{pad}  - {{name: {plain}, value: keepme}}", quote_as(&value, quoting)),
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&value), "{text}\n->\n{out}");
        prop_assert!(out.contains("keepme"), "{text}\n->\n{out}");
    }

    /// A secret name whose value comes from elsewhere (`valueFrom`) does not take the
    /// next item's value.
    #[test]
    fn a_secret_name_without_a_value_leaves_the_next_item(
        name in 0..SECRET_NAMES.len(),
        plain in 0..PLAIN_NAMES.len(),
        indent in 0usize..3,
    ) {
        let pad = " ".repeat(indent * 2);
        let text = format!(
            "{pad}- name: {}\n{pad}  valueFrom:\n{pad}    secretKeyRef: {{name: db, key: pw}}\n{pad}- name: {}\n{pad}  value: keepme-{indent}",
            SECRET_NAMES[name], PLAIN_NAMES[plain]
        );
        let out = scrub(&text);
        prop_assert_eq!(&out, &text);
    }

    /// CSV, TSV, `;` and `|` tables whose header names a secret or personal-data column:
    /// that column's cell goes in every row; the other columns stay.
    #[test]
    fn table_columns_under_a_secret_header_lose_their_cells(
        delim in 0usize..4,
        at in 0usize..4,
        column in 0usize..6,
        rows in 1usize..4,
        seed in any::<u32>(),
        quoted in any::<bool>(),
    ) {
        let delim = [",", ";", "\t", "|"][delim];
        let sensitive = ["password", "api_token", "pin", "iban", "client_secret", "ssn"][column];
        let mut header = vec!["id", "city", "status"];
        header.insert(at.min(header.len()), sensitive);
        let mut text = header.join(delim);
        let mut secrets = Vec::new();
        for r in 0..rows {
            let secret = format!("s{}cell{r}x", seed.wrapping_mul(2654435761).wrapping_add(r as u32));
            let cell = if quoted { format!("\"{secret}\"") } else { secret.clone() };
            let mut row = vec![format!("{}", 1000 + r), "Lisbon".to_string(), "active".to_string()];
            row.insert(at.min(row.len()), cell);
            text.push('\n');
            text.push_str(&row.join(delim));
            secrets.push(secret);
        }
        let out = scrub(&text);
        for s in &secrets {
            prop_assert!(!out.contains(s.as_str()), "{text}\n->\n{out}");
        }
        prop_assert!(out.contains("Lisbon") && out.contains("active") && out.contains("1000"), "{text}\n->\n{out}");
        // The same table without the secret column stays as written.
        let plain = text.replace(sensitive, "notes");
        prop_assert_eq!(scrub(&plain), plain);
    }

    /// Multi-line strings under a secret key (TOML `"""`/`'''`, YAML `|`/`>` blocks):
    /// every line goes, and the next key stays.
    #[test]
    fn multi_line_values_under_a_secret_key_lose_every_line(
        key in 0..SECRET_KEYS.len(),
        form in 0u8..4,
        lines in prop::collection::vec(secret(), 2..4),
    ) {
        let key = SECRET_KEYS[key];
        let body = lines.join("\n");
        let indented = lines.iter().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n");
        let text = match form {
            0 => format!("{key} = \"\"\"{body}\"\"\"\nport = 5432"),
            1 => format!("{key} = '''\n{body}'''\nport = 5432"),
            2 => format!("{key}: |\n{indented}\nport: 5432"),
            _ => format!("{key}: >-\n{indented}\nport: 5432"),
        };
        let out = scrub(&text);
        for l in &lines {
            prop_assert!(!out.contains(l.as_str()), "{text}\n->\n{out}");
        }
        prop_assert!(out.contains("port") && out.contains("5432"), "{text}\n->\n{out}");
    }

    /// GraphQL fields whose name names a credential: their string arguments, at any
    /// depth of an input object and escaped inside a JSON body, go; ids, numbers and
    /// variables stay, and so do fields about other things.
    #[test]
    fn graphql_arguments_of_credential_fields_go(
        verb in 0usize..5,
        noun in 0usize..5,
        form in 0u8..3,
        a in secret(),
        b in secret(),
        escaped in any::<bool>(),
    ) {
        let verb = ["change", "reset", "update", "rotate", "set"][verb];
        let noun = ["Password", "ApiKey", "Token", "Secret", "Passphrase"][noun];
        let field = format!("{verb}{noun}");
        let args = match form {
            0 => format!("input: {{old: \"{a}\", new: \"{b}\"}}"),
            1 => format!("current: \"{a}\", next: \"{b}\", userId: \"u_42\""),
            _ => format!("id: \"u_42\", username: \"ci_bot\", value: \"{a}\", confirm: \"{b}\", ttl: 3600"),
        };
        let query = format!("mutation {{ {field}({args}) {{ ok }} }}");
        let text = if escaped {
            format!("{{\"query\":\"{}\"}}", query.replace('"', "\\\""))
        } else {
            query.clone()
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&a) && !out.contains(&b), "{text}\n->\n{out}");
        prop_assert!(form == 0 || out.contains("u_42"), "{text}\n->\n{out}");
        prop_assert!(form != 2 || out.contains("ci_bot"), "{text}\n->\n{out}");
        let plain = "mutation { updateProfile(input: {name: \"Bob\", city: \"Porto\"}) { ok } }".to_string();
        prop_assert_eq!(scrub(&plain), plain);
    }

    /// Docker's `config.json`: the registry credentials under `auth`, `identitytoken`
    /// and `registrytoken` go; the registry host stays.
    #[test]
    fn docker_config_credentials_go(key in 0usize..3, value in secret(), host in "[a-z]{3,8}") {
        let key = ["identitytoken", "registrytoken", "auth"][key];
        let text = format!("{{\"auths\":{{\"registry.{host}.io\":{{\"{key}\":\"{value}\"}}}}}}");
        let out = scrub(&text);
        prop_assert!(!out.contains(&value), "{text} -> {out}");
        prop_assert!(out.contains(&format!("registry.{host}.io")), "{text} -> {out}");
    }
}

proptest! {
    #![proptest_config(prop_config::config(128))]

    /// Single-dash long flags named for a secret (Java's keytool and jarsigner, Go
    /// tools: `-storepass X`, `-srcstorepass`, `-keypass`, `-clientSecret`), plainly and
    /// as `Command`'s `Debug` prints them: the value goes; flags about a secret's source
    /// or kind (`-storetype`, `-passfile`, `-keystore`) keep theirs.
    #[test]
    fn single_dash_secret_flags_lose_their_value(
        prefix in 0usize..7,
        suffix in 0usize..5,
        camel in any::<bool>(),
        debug in any::<bool>(),
        value in secret(),
    ) {
        let prefix = ["", "src", "dest", "new", "key", "store", "client"][prefix];
        let suffix = ["pass", "password", "passwd", "secret", "token"][suffix];
        let suffix = if camel && !prefix.is_empty() {
            let mut c = suffix.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
        } else {
            suffix.to_string()
        };
        let flag = format!("-{prefix}{suffix}");
        let text = if debug {
            format!("\"keytool\" \"-importkeystore\" \"-storetype\" \"PKCS12\" \"{flag}\" \"{value}\" \"-keystore\" \"ks.p12\"")
        } else {
            format!("keytool -importkeystore -storetype PKCS12 {flag} {value} -keystore ks.p12 -passfile /etc/app/pw")
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&value), "{text} -> {out}");
        for keep in ["PKCS12", "ks.p12"] {
            prop_assert!(out.contains(keep), "{text} -> {out}");
        }
    }

    /// A secret fed to a command that reads it from standard input
    /// (`--password-stdin`, `-password-stdin`, `--token-stdin`): echoed or printed into
    /// the pipe, or as a here-string, it goes; the command's other arguments stay.
    #[test]
    fn secrets_piped_to_a_stdin_flag_go(
        feeder in 0usize..5,
        flag in 0usize..3,
        tool in 0usize..3,
        value in secret(),
    ) {
        let flag = ["--password-stdin", "-password-stdin", "--token-stdin"][flag];
        let tool = ["docker login -u ci", "helm registry login registry.example.io --username ci", "podman login -u ci"][tool];
        let text = match feeder {
            0 => format!("echo {value} | {tool} {flag} registry.example.io"),
            1 => format!("echo -n '{value}' | {tool} {flag}"),
            2 => format!("printf '%s' \"{value}\" | {tool} {flag}"),
            3 => format!("set -e; echo \"{value}\" | {tool} {flag} && echo done"),
            _ => format!("{tool} {flag} <<< \"{value}\""),
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&value), "{text} -> {out}");
        prop_assert!(out.contains(tool), "{text} -> {out}");
    }
}

#[test]
fn harmless_single_dash_flags_and_pipes_stay() {
    for text in [
        "keytool -genkeypair -keyalg RSA -keysize 2048 -storetype PKCS12 -keystore ks.p12",
        "cc -pthread -pedantic -o app main.c",
        "cat /run/secrets/registry | docker login -u ci --password-stdin registry.example.io",
        "echo building | tee build.log",
        "vault login -method=userpass -token-file /etc/vault/token",
        "openssl pkcs12 -export -passout file:/etc/app/pw -in cert.pem",
        // Counts and booleans after flags named like secret ones (found by an attacker).
        "ffmpeg -i in.mp4 -c:v libvpx-vp9 -b:v 2M -pass 1 -f null /dev/null",
        "vpxenc -pass 2 -o out.webm in.y4m",
        "opt -enable-loop-pass 1 in.ll",
        "sort -bypass true data.txt",
        "wrk -maxtoken 512 http://localhost",
    ] {
        assert_eq!(scrub(text), text);
    }
}

/// Tables whose secret-named column holds only counts, flags or short words are no
/// secret tables (found by an attacker: test results, NLP tokens, session counts); a
/// PIN column's numbers still go.
#[test]
fn tables_of_counts_and_flags_under_secret_names_stay() {
    for text in [
        "suite,pass,fail,skip\napi,120,3,1\nweb,98,0,2",
        "test,pass,time_ms\nlogin,true,12",
        "token,pos,lemma\nThe,DET,the\ncat,NOUN,cat",
        "sku\tname\tsecret\tprice\nA-1\tmug\tno\t9.99",
        "region;session;requests\neu-west-1;42;1000",
        "model,max_tokens,price\ngpt,4096,0.01",
    ] {
        assert_eq!(scrub(text), text);
    }
    for (text, secret) in [
        ("user;pin;iban\nbob;4821;none", "4821"),
        ("user,password\nbob,1234", "1234"),
        ("user,password\nbob,abc", "abc"),
    ] {
        let out = scrub(text);
        assert!(!out.contains(secret), "{out}");
    }
}

/// A real serde_json error for `input` parsed as target `kind`.
fn serde_error(kind: u8, input: &str) -> String {
    let json = serde_json::to_string(input).expect("a string serialises");
    let err = match kind {
        0 => serde_json::from_str::<u64>(&json).map(|_| ()),
        1 => serde_json::from_str::<Vec<i32>>(&format!("[{json}]")).map(|_| ()),
        2 => serde_json::from_str::<bool>(&json).map(|_| ()),
        3 => serde_json::from_str::<std::collections::HashMap<String, f64>>(&format!(
            "{{\"port\": {json}}}"
        ))
        .map(|_| ()),
        _ => serde_json::from_str::<char>(&json).map(|_| ()),
    };
    err.expect_err("a string is no number, list item, bool, float or char")
        .to_string()
}

proptest! {
    #![proptest_config(prop_config::config(128))]

    /// serde's errors echo the string that failed (`invalid type: string "X", expected
    /// u64`, `invalid value: string "X", expected a character`): it is input (a password
    /// in the wrong field), replaced whatever it looks like, plainly and inside a JSON
    /// error body; the error's shape stays.
    #[test]
    fn strings_echoed_by_serde_errors_go(
        kind in 0u8..5,
        input in "[A-Za-z0-9!#%&*+=?~ ]{2,24}",
        wrap in 0u8..3,
    ) {
        let input = format!("Q7{input}x");
        let err = serde_error(kind, &input);
        let text = match wrap {
            0 => err.clone(),
            1 => format!("failed to load settings: {err}"),
            _ => serde_json::json!({"error": err, "status": 400}).to_string(),
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&input), "{text} -> {out}");
        prop_assert!(out.contains("expected"), "{text} -> {out}");
        prop_assert!(out.contains("invalid type: string") || out.contains("invalid value: string"), "{text} -> {out}");
    }

    /// An unknown variant shaped like a credential goes; one written like a name stays.
    #[test]
    fn unknown_variants_go_unless_written_like_a_name(secret in secret(), name in "[a-z]{3,10}(_[a-z]{2,6})?[0-9]{0,2}") {
        let text = format!("unknown variant `{secret}`, expected one of `read`, `write` at line 1 column 9");
        let out = scrub(&text);
        prop_assert!(!out.contains(&secret), "{text} -> {out}");
        let text = format!("unknown variant `{name}`, expected one of `read`, `write` at line 1 column 9");
        prop_assert_eq!(scrub(&text), text);
    }
}

#[test]
fn serde_errors_without_an_echoed_string_stay() {
    let errs = [
        serde_json::from_str::<String>("5")
            .expect_err("no string")
            .to_string(),
        serde_json::from_str::<std::collections::HashMap<String, u8>>("{\"a\": 300}")
            .expect_err("too large")
            .to_string(),
        serde_json::from_str::<Vec<u8>>("[1, 2")
            .expect_err("truncated")
            .to_string(),
        "missing field `port` at line 3 column 1".to_string(),
        "unknown field `colour`, expected `color` or `size`".to_string(),
    ];
    for text in errs {
        assert_eq!(scrub(&text), text);
    }
    // Echoed values of shapes no secret has keep the error useful (found by an
    // attacker): booleans, small numbers, durations, dates, versions, codes.
    for value in [
        "true",
        "42",
        "10s",
        "v3",
        "GBPX",
        "2024-13-01",
        "3.5",
        "512mb",
    ] {
        let text = serde_error(0, value);
        assert_eq!(scrub(&text), text);
    }
}

/// OAuth 2.0 and OpenID Connect parameters carrying a credential (RFC 6749, 7521, 7636,
/// 8628, 8693; OIDC), and refresh links.
const OAUTH_PARAMS: &[&str] = &[
    "code",
    "refresh",
    "refresh_token",
    "access_token",
    "id_token",
    "id_token_hint",
    "client_assertion",
    "assertion",
    "code_verifier",
    "subject_token",
    "actor_token",
    "device_code",
    "user_code",
    "client_secret",
];

proptest! {
    #![proptest_config(prop_config::config(128))]

    /// In a URL's query or fragment, a query string on its own (Sentry's
    /// `query_string`, a form body) and a JSON token request: the parameter's value
    /// goes, the others (`state`, `grant_type`, `scope`) stay.
    #[test]
    fn oauth_parameters_lose_their_value(
        param in 0..OAUTH_PARAMS.len(),
        value in secret(),
        form in 0u8..5,
        state in "[a-z0-9]{8,16}",
    ) {
        let param = OAUTH_PARAMS[param];
        let value = format!("4/0A{value}");
        let text = match form {
            0 => format!("GET https://app.example.com/callback?{param}={value}&state={state} 302"),
            1 => format!("{param}={value}&state={state}"),
            2 => format!("redirect to https://app.example.com/cb#{param}={value}&state={state}"),
            3 => format!("token request body: grant_type=authorization_code&{param}={value}&scope=openid"),
            _ => format!("query_string=\"{param}={value}&state={state}\""),
        };
        let out = scrub(&text);
        prop_assert!(!out.contains(&value), "{text} -> {out}");
        prop_assert!(form == 3 || out.contains(&state), "{text} -> {out}");
    }

    /// Credentials of these flows that no secret word names are keys everywhere.
    #[test]
    fn oauth_credentials_are_keys_everywhere(key in 0usize..4, value in secret()) {
        let key = ["client_assertion", "code_verifier", "device_code", "id_token_hint"][key];
        let text = format!("{{\"{key}\": \"{value}\", \"grant_type\": \"x\"}}");
        let out = scrub(&text);
        prop_assert!(!out.contains(&value), "{text} -> {out}");
    }
}

#[test]
fn codes_and_queries_that_hold_no_credential_stay() {
    for text in [
        "upstream returned code=404 after 3 retries",
        "GET /orders?page=2&sort=asc&limit=50 200",
        "page=2&sort=asc",
        "code=404&retry=1",
        "exit code=1, signal=none",
        "refresh interval=30s",
        // Status, region and error codes beside a `state` (found by an attacker).
        "code=404&state=retrying",
        "code=US&state=CA&zip=94103",
        "code=DE&state=BY",
        "code=0&state=done",
        "code=E1001&state=open",
        "breaker: code=503&state=half_open",
    ] {
        assert_eq!(scrub(text), text);
    }
}
