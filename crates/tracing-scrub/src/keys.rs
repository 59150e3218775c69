//! Which keys name secrets or personal data.
//!
//! A key is split into lowercase words (`USER_PASSWORD`, `clientSecret`, `x-api-key`,
//! `APIKey` all split the same way) and matched word by word, so `author`,
//! `authority`, `tokenizer` and `secretary` are different words from `auth`,
//! `token` and `secret` and never match.

use crate::words::split_words;

/// Words that name a secret wherever they stand in a key.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwords",
    "passwd",
    "pwd",
    "pw",
    "passphrase",
    "passcode",
    "secrets",
    "apikey",
    "apikeys",
    // Application keys (Datadog's `DD-APPLICATION-KEY`, `appkey` of Chinese APIs).
    "appkey",
    "appkeys",
    "applicationkey",
    // WireGuard's `PresharedKey` (wg(8)), wpa_supplicant's `psk` (wpa_supplicant.conf).
    "presharedkey",
    "psk",
    // A wallet's recovery words (BIP-39).
    "mnemonic",
    "seedphrase",
    "authorization",
    "proxyauthorization",
    "credential",
    "credentials",
    "creds",
    "cookie",
    "cookies",
    "jwt",
    "bearer",
    "otp",
    "totp",
    "hotp",
    "mfa",
    "2fa",
    "cvv",
    "cvv2",
    "cvc",
    "cvn",
    "ssn",
    "iban",
    "dsn",
    "sessionid",
    "sessid",
    "phpsessid",
    "jsessionid",
    "aspsessionid",
    "sessiontoken",
    "sessionkey",
    "csrf",
    "xsrf",
    "csrftoken",
    "xsrftoken",
    "accesstoken",
    "accesstokens",
    "refreshtokens",
    "apitokens",
    "authtokens",
    "idtokens",
    "refreshtoken",
    "idtoken",
    "authtoken",
    "apitoken",
    "privatekey",
    "privkey",
    "secretkey",
    "accesskey",
    "clientsecret",
    "cardnumber",
    "ccnumber",
    "connectionstring",
    "connstr",
    "databaseurl",
    "dburl",
    "mysqlpwd",
    "pgpassword",
    "appsecret",
    "appid",
    "accountkey",
    "sharedaccesskey",
    "subscriptionkey",
    "masterkey",
    "securityanswer",
    "secretanswer",
    // OAuth and OpenID Connect credentials without a secret word (RFC 7521, 7636, 8628;
    // OIDC Core 3.1.2.1).
    "clientassertion",
    "codeverifier",
    "devicecode",
    "idtokenhint",
    // Password in other languages (German, Spanish, French, Portuguese, Russian, Dutch,
    // Swedish, Finnish, Polish, Czech, Hungarian, Turkish, Romanian, Italian, Chinese,
    // Japanese, Korean).
    "passwort",
    "kennwort",
    "contraseña",
    "contrasena",
    "motdepasse",
    "senha",
    "пароль",
    "wachtwoord",
    "lösenord",
    "losenord",
    "salasana",
    "hasło",
    "haslo",
    "heslo",
    "jelszó",
    "jelszo",
    "şifre",
    "sifre",
    "parolă",
    "parola",
    "密码",
    "パスワード",
    "비밀번호",
];

/// Words that name a secret only as the last word of a key or before one of their
/// `followers` (`auth`, `auth_token`, `session_id`), never before other words
/// (`auth_server`, `token_budget`, `secret_arn`, `secret_santa_round`, `pass_rate`).
const WEAK_WORDS: &[(&str, &[&str])] = &[
    (
        "auth",
        &[
            "token", "tokens", "key", "header", "code", "string", "value", "data", "cookie",
            "secret", "hash", "info",
        ],
    ),
    ("token", &["value", "string", "secret", "hash", "data"]),
    (
        "secret",
        &[
            "key", "keys", "value", "values", "string", "token", "data", "answer",
        ],
    ),
    (
        "session",
        &[
            "id", "key", "token", "cookie", "secret", "data", "value", "string",
        ],
    ),
    ("pass", &["word", "phrase", "code"]),
    ("pin", &["code", "number", "num"]),
    ("signature", &["value", "string"]),
    ("sig", &[]),
    // Shopify's `hmac` query value, `X-Shopify-Hmac-Sha256`.
    (
        "hmac",
        &["sha256", "sha1", "sha512", "signature", "digest", "value"],
    ),
    ("cookie", &["value", "string", "header", "data"]),
];

/// Keys that name a credential only as the whole key: the access and secret key of
/// Baidu's and other Chinese clouds' APIs (`ak`, `sk`), a session id (`sid`); inside
/// longer keys (`account_sid`, `disk_sk`) they are ids or other words.
const WHOLE_KEY_WORDS: &[&str] = &["ak", "sk", "sid"];

/// Headers that carry an API key without saying so (Honeycomb's `X-Honeycomb-Team`,
/// docs.honeycomb.io "API Keys").
const KEY_HEADERS: &[&[&str]] = &[&["x", "honeycomb", "team"]];

/// Words before `key` in an `X-<...>-Key` header that make it a key of data, not a
/// credential (`X-Cache-Key`, `X-Idempotency-Key`: a client-chosen request id).
const DATA_KEY_KINDS: &[&str] = &[
    "cache",
    "idempotency",
    "idempotent",
    "request",
    "correlation",
    "dedup",
    "dedupe",
    "deduplication",
    "partition",
    "sort",
    "routing",
    "shard",
    "public",
    "primary",
    "foreign",
    "object",
    "lookup",
    "hash",
    "range",
    "row",
    "message",
    "event",
    "group",
    "ordering",
    "sequence",
    "trace",
    "tracking",
    "page",
    "cursor",
];

/// Keys named by their form rather than their words: `X-<anything>-Key` headers (vendor
/// API keys: `X-ClickHouse-Key`, `X-RapidAPI-Key`, New Relic's `X-Insert-Key`), names
/// ending in `_PAT` (a personal access token: `AZURE_DEVOPS_EXT_PAT`, `GITHUB_PAT`),
/// [`WHOLE_KEY_WORDS`] and [`KEY_HEADERS`].
fn credential_by_form(words: &[String]) -> bool {
    let n = words.len();
    let last = words[n - 1].as_str();
    (n == 1 && WHOLE_KEY_WORDS.contains(&last))
        || KEY_HEADERS
            .iter()
            .any(|h| h.len() == n && h.iter().zip(words).all(|(a, b)| *a == b))
        || (n >= 3
            && words[0] == "x"
            && last == "key"
            && !DATA_KEY_KINDS.contains(&words[n - 2].as_str()))
        || (n >= 2 && last == "pat")
}

/// Personal-data words with the same rule as [`WEAK_WORDS`]; only while
/// `send_default_pii` is off.
const WEAK_PII_WORDS: &[(&str, &[&str])] = &[
    ("mobile", &["number", "phone", "no", "num"]),
    ("ip", &["address", "addr"]),
    ("phone", &["number", "no", "num"]),
    // Where a message or fax goes (`sms_to`, `fax_number`), not `sms_provider`.
    ("sms", &["to", "number", "no", "num", "recipient", "phone"]),
    ("fax", &["to", "number", "no", "num"]),
    ("telephone", &["number", "no", "num"]),
    ("email", &["address", "addr"]),
];

/// First words that make a key a flag about the secret, not the secret (`is_mobile`,
/// `has_password`).
const FLAG_WORDS: &[&str] = &[
    "is", "has", "use", "uses", "enable", "enabled", "should", "can", "allow", "require",
    "requires",
];

/// Words naming personal data, matched only while `send_default_pii` is off.
const PII_WORDS: &[&str] = &[
    "emails",
    "emailaddress",
    "phonenumber",
    "mobilenumber",
    "telephonenumber",
    "msisdn",
    "ipaddress",
    "ipaddr",
    "dob",
    "birthdate",
    "birthday",
    "dateofbirth",
    "maidenname",
    "mothersmaidenname",
    "passportnumber",
    "taxid",
];

/// Word pairs `(first, second)`: the pair names a secret, neither word alone does.
const SECRET_PAIRS: &[(&[&str], &[&str])] = &[
    (
        &[
            "api",
            "private",
            "secret",
            "access",
            "encryption",
            "signing",
            "master",
            "client",
            "session",
            "license",
            "ssh",
            "gpg",
            "pgp",
            "hmac",
            "aes",
            "rsa",
            "account",
            "subscription",
            "functions",
            "function",
            "app",
            "admin",
            "service",
            "storage",
            "shared",
            "webhook",
            "bot",
            "stripe",
            "twilio",
            "sendgrid",
            "openai",
            "anthropic",
            "github",
            "gitlab",
            "slack",
            "aws",
            "google",
            "azure",
            "mailgun",
            "algolia",
            "firebase",
            "sentry",
            "datadog",
            "dd",
            "license",
            "root",
            "application",
            "preshared",
            "wallet",
            "priv",
        ],
        &["key", "keys"],
    ),
    (&["seed", "recovery"], &["phrase", "words"]),
    (&["connect"], &["sid"]),
    (&["security", "secret"], &["answer", "answers"]),
    (
        &["card", "cc", "credit", "account", "routing", "security"],
        &["number", "num", "no"],
    ),
    (&["credit"], &["card"]),
    (
        &[
            "database",
            "db",
            "redis",
            "mongo",
            "mongodb",
            "postgres",
            "postgresql",
            "mysql",
            "amqp",
            "connection",
            "conn",
            "broker",
        ],
        &["url", "uri", "dsn"],
    ),
    (&["connection", "conn"], &["string", "str"]),
    (&["two"], &["factor"]),
    (
        // One-time codes by their purpose; `error_code`, `status_code`, `country_code`
        // name no secret.
        &[
            "verification",
            "recovery",
            "backup",
            "security",
            "reset",
            "login",
            "signin",
            "logon",
            "confirm",
            "confirmation",
            "otp",
            "mfa",
            "2fa",
            "activation",
            "unlock",
        ],
        &["code", "codes"],
    ),
];

/// Personal-data word pairs, matched only while `send_default_pii` is off.
const PII_PAIRS: &[(&[&str], &[&str])] = &[
    (&["ip", "remote", "client"], &["address", "addr", "ip"]),
    (&["forwarded"], &["for"]),
    (&["real"], &["ip"]),
    (&["first", "last", "full", "given", "family"], &["name"]),
    (&["phone", "mobile"], &["number"]),
    (&["email"], &["address"]),
];

/// A word after a matched one that turns the key into metadata about the secret
/// (`token_count`, `password_length`, `auth_method`, `session_timeout`), not the secret.
const METADATA_WORDS: &[&str] = &[
    // Bounds (`password_min_length`, `token_max_age`, `x_dob_max_connections_per_host`).
    "max",
    "min",
    "maximum",
    "minimum",
    // An authentication challenge's parameters (RFC 9110 §11.6.1, RFC 6750 §3):
    // `WWW-Authenticate: Bearer realm="api", scope="read"` names no credential.
    "realm",
    "scope",
    "scopes",
    "count",
    "counts",
    "len",
    "length",
    "size",
    "limit",
    "limits",
    "type",
    "types",
    "kind",
    "enabled",
    "disabled",
    "required",
    "provider",
    "providers",
    "source",
    "sources",
    "method",
    "methods",
    "status",
    "expiry",
    "expires",
    "expired",
    "expiration",
    "ttl",
    "duration",
    "timeout",
    "at",
    "version",
    "policy",
    "mode",
    "url",
    "uri",
    "endpoint",
    "name",
    "algorithm",
    "alg",
    "verified",
    "valid",
    "present",
    "missing",
    "set",
    "used",
    "usage",
    "scheme",
    "header",
    "domain",
    "path",
    "error",
    "errors",
    "reason",
    "result",
    "id",
    "ids",
    "arn",
    "ref",
    "rate",
    "budget",
    "round",
    "reset",
    "hint",
    "strength",
    "rotation",
    "rotated",
    "changed",
    "updated",
    "created",
    "store",
    "manager",
    "server",
    "service",
    "platform",
    "prefix",
    "format",
    "file",
    "rs",
    // `credential_source = Ec2InstanceMetadata`, `credential_process = <command>`,
    // `credential.helper = store` (AWS and git configuration).
    "source",
    "process",
    "helper",
    // Password policy and history (`password_failures`, `password attempts`).
    "failures",
    "failure",
    "failed",
    "attempts",
    "attempt",
    "tries",
    "retries",
    "change",
    "changes",
    "history",
    "rules",
    "complexity",
    "age",
    "lifetime",
    // The same metadata in the languages of the password words above (length, attempts,
    // errors, expiry, change, policy), as keys are folded (lower case, marks kept and
    // dropped): `Passwort-Länge`, `longitud de contraseña`, `срок пароля`.
    "länge",
    "lange",
    "versuche",
    "fehlversuche",
    "fehler",
    "ablauf",
    "änderung",
    "anderung",
    "richtlinie",
    "longitud",
    "intentos",
    "caducidad",
    "cambio",
    "política",
    "politica",
    "longueur",
    "tentatives",
    "changement",
    "politique",
    "comprimento",
    "tentativas",
    "alteração",
    "alteracao",
    "длина",
    "попытки",
    "попыток",
    "ошибки",
    "ошибок",
    "срок",
    "смена",
    "изменение",
    "политика",
    "lengte",
    "pogingen",
    "wijziging",
    "längd",
    "langd",
    "försök",
    "forsok",
    "pituus",
    "yritykset",
    "długość",
    "dlugosc",
    "próby",
    "proby",
    "zmiana",
    "délka",
    "delka",
    "pokusy",
    "změna",
    "zmena",
    "hossz",
    "hossza",
    "kísérletek",
    "kiserletek",
    "uzunluk",
    "uzunluğu",
    "uzunlugu",
    "deneme",
    "lungime",
    "încercări",
    "incercari",
    "lunghezza",
    "tentativi",
    "scadenza",
];

fn pair_matches(pairs: &[(&[&str], &[&str])], first: &str, second: &str) -> bool {
    pairs
        .iter()
        .any(|(firsts, seconds)| firsts.contains(&first) && seconds.contains(&second))
}

fn weak_match(table: &[(&str, &[&str])], words: &[String], i: usize) -> bool {
    let Some((_, followers)) = table.iter().find(|(w, _)| *w == words[i]) else {
        return false;
    };
    match words.get(i + 1) {
        None => true,
        Some(next) => followers.contains(&next.as_str()) && !followed_by_metadata(words, i + 2),
    }
}

/// Strong words written into one word with others (`newpassword`, `dbpassword`,
/// `appsecret`): a word that ends in one of these.
const STRONG_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "passwort",
    "secret",
    "apikey",
    "accesstoken",
    "authtoken",
    "sessionid",
];

/// Words ending in `pass` that name no password (`bypass`, Vulkan's `renderpass`, a
/// compiler's `multipass`): a last key word ending in `pass` or `pwd` otherwise does
/// (`PGPASS`, `smtppass`, `dbpwd`).
const NOT_PASS_COMPOUNDS: &[&str] = &[
    "bypass",
    "compass",
    "surpass",
    "trespass",
    "overpass",
    "underpass",
    "subpass",
    "renderpass",
    "multipass",
    "singlepass",
    "onepass",
    "twopass",
    "firstpass",
    "secondpass",
    "boardingpass",
];

/// A last key word written as `<prefix>pass` or `<prefix>pwd` (`pgpass`, `dbpwd`).
fn pass_compound(words: &[String], i: usize) -> bool {
    let w = words[i].as_str();
    i + 1 == words.len()
        && w.len() >= 5
        && (w.ends_with("pass") || w.ends_with("pwd"))
        && w.bytes().all(|c| c.is_ascii_lowercase())
        && !NOT_PASS_COMPOUNDS.contains(&w)
}

/// True when the word at `i` is followed by a metadata word.
fn followed_by_metadata(words: &[String], end: usize) -> bool {
    words.get(end).is_some_and(|w| {
        METADATA_WORDS.contains(&w.as_str())
            || super::locale_words::SCRIPT_METADATA.contains(&w.as_str())
    })
}

/// Prepositions between a metadata word and the secret it is about (`longitud de
/// contraseña`, `longueur du mot de passe`, `length of password`).
const METADATA_PREPOSITIONS: &[&str] = &[
    "of", "de", "del", "da", "do", "della", "del", "du", "des", "di", "van", "för", "for",
];

/// Classifies keys; built once from the configured rules.
#[derive(Debug)]
pub(crate) struct KeyMatcher {
    extra: Vec<Vec<String>>,
    safe: Vec<String>,
    pii: bool,
    /// Every word any rule needs (joined forms, pairs joined, suffixes, weak words):
    /// a key whose letters and digits contain none of them cannot match, and is
    /// answered without splitting it into words.
    /// `None` when the words do not fit in a regex (huge configured keys): no prefilter.
    atoms: Option<regex::bytes::Regex>,
    /// Verdicts by key (prefilter and full check): field names repeat in every report,
    /// so each is checked once. Bounded; past the bound keys are checked each time.
    verdicts: std::sync::RwLock<std::collections::HashMap<Box<str>, bool, KeyHash>>,
    /// Verdicts of `'static` names (tracing field names) by their address: one atomic
    /// load per lookup, no hashing of the text, no lock. See [`StaticVerdicts`].
    #[cfg_attr(not(feature = "layer"), allow(dead_code))] // the fast path of `Scrubbed`
    static_verdicts: StaticVerdicts,
}

/// The verdict map's hasher: rustc-hash's Fx. Keys are short field names, mostly from
/// the service's own code, and the map is bounded, so SipHash's flooding resistance buys
/// nothing here and costs most of a lookup.
type KeyHash = rustc_hash::FxBuildHasher;

/// Slots of [`StaticVerdicts`] (a power of two).
const STATIC_SLOTS: usize = 1024;

/// A direct-mapped cache of verdicts for `'static` key texts, by address and length.
///
/// A `'static` string is never freed or changed, so its address and length identify
/// its text for the life of the process. Each slot packs `address << 16 | length << 1
/// | verdict` into one atomic word, so a reader sees a whole entry or an old one, never
/// a torn one; a slot taken by another name is simply overwritten (the verdict is then
/// found again through [`KeyMatcher::is_sensitive`]). Names at addresses of 48 bits or
/// more, or longer than 32,767 bytes, are not cached.
#[cfg_attr(not(feature = "layer"), allow(dead_code))] // the fast path of `Scrubbed`
struct StaticVerdicts(Box<[std::sync::atomic::AtomicU64]>);

impl std::fmt::Debug for StaticVerdicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticVerdicts")
    }
}

impl Default for StaticVerdicts {
    fn default() -> Self {
        StaticVerdicts(
            (0..STATIC_SLOTS)
                .map(|_| std::sync::atomic::AtomicU64::new(0))
                .collect(),
        )
    }
}

#[cfg_attr(not(feature = "layer"), allow(dead_code))] // the fast path of `Scrubbed`
impl StaticVerdicts {
    /// The packed entry of `key` without its verdict bit; `None` when it cannot be cached.
    fn tag(key: &'static str) -> Option<u64> {
        let address = key.as_ptr() as usize as u64;
        let len = key.len() as u64;
        (address < 1 << 48 && len < 1 << 15 && !key.is_empty()).then_some(address << 16 | len << 1)
    }

    fn slot(&self, tag: u64) -> &std::sync::atomic::AtomicU64 {
        // Fibonacci hashing of the address: names of one callsite sit next to each other.
        let index =
            (tag >> 16).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - STATIC_SLOTS.trailing_zeros());
        &self.0[index as usize]
    }

    fn get(&self, tag: u64) -> Option<bool> {
        let entry = self.slot(tag).load(std::sync::atomic::Ordering::Relaxed);
        (entry & !1 == tag).then_some(entry & 1 == 1)
    }

    fn set(&self, tag: u64, verdict: bool) {
        self.slot(tag).store(
            tag | u64::from(verdict),
            std::sync::atomic::Ordering::Relaxed,
        );
    }
}

/// Most verdicts kept (field names of a service number in the hundreds).
const MAX_VERDICTS: usize = 4096;

/// Keys up to this length (ASCII, no `%`) go through the [`KeyMatcher::atoms`] prefilter.
const PREFILTER_MAX: usize = 128;

impl KeyMatcher {
    pub(crate) fn new(extra: &[String], safe: &[String], send_default_pii: bool) -> Self {
        let extra: Vec<Vec<String>> = extra
            .iter()
            .map(|k| split_words(k))
            .filter(|w| !w.is_empty())
            .collect();
        // The built-in words' prefilter is compiled once per process (a large
        // alternation: tens of milliseconds in a debug build).
        static BUILT_IN_ATOMS: std::sync::OnceLock<Option<regex::bytes::Regex>> =
            std::sync::OnceLock::new();
        let atoms = if extra.is_empty() {
            BUILT_IN_ATOMS.get_or_init(|| atoms_regex(&[])).clone()
        } else {
            atoms_regex(&extra)
        };
        KeyMatcher {
            extra,
            safe: safe.iter().map(|k| split_words(k).join("_")).collect(),
            pii: !send_default_pii,
            atoms,
            verdicts: Default::default(),
            static_verdicts: StaticVerdicts::default(),
        }
    }
}

/// One regex of every rule word (and pair of words, joined), to rule keys out quickly.
fn atoms_regex(extra: &[Vec<String>]) -> Option<regex::bytes::Regex> {
    let mut atoms: Vec<String> = SECRET_WORDS
        .iter()
        .chain(PII_WORDS)
        .chain(STRONG_SUFFIXES)
        .map(|w| w.to_string())
        .chain(
            WEAK_WORDS
                .iter()
                .chain(WEAK_PII_WORDS)
                .map(|(w, _)| w.to_string()),
        )
        // A pair matches only with both words next to each other: with separators
        // dropped, the key contains them joined.
        .chain(
            SECRET_PAIRS
                .iter()
                .chain(PII_PAIRS)
                .flat_map(|(firsts, seconds)| {
                    firsts
                        .iter()
                        .flat_map(move |f| seconds.iter().map(move |s| format!("{f}{s}")))
                }),
        )
        .chain(extra.iter().map(|words| words.concat()))
        // Keys named by their form (`credential_by_form`).
        .chain(WHOLE_KEY_WORDS.iter().map(|w| w.to_string()))
        .chain(KEY_HEADERS.iter().map(|h| h.concat()))
        .chain(["key", "pat"].map(String::from))
        .chain(super::locale_words::ascii_atoms())
        .filter(|w| w.is_ascii())
        .collect();
    atoms.sort();
    atoms.dedup();
    let pattern = atoms
        .iter()
        .map(|a| regex::escape(a))
        .collect::<Vec<_>>()
        .join("|");
    regex::bytes::Regex::new(&pattern).ok()
}

impl KeyMatcher {
    /// False when `key` certainly matches no rule: ASCII, short, and its letters and
    /// digits (lower-cased, separators dropped) contain no rule's word. No allocation.
    fn cannot_match(&self, key: &str) -> bool {
        let Some(atoms) = &self.atoms else {
            return false;
        };
        if key.len() > PREFILTER_MAX || !key.is_ascii() || key.contains('%') {
            return false;
        }
        let mut buf = [0u8; PREFILTER_MAX];
        let mut n = 0;
        for b in key.bytes().filter(u8::is_ascii_alphanumeric) {
            buf[n] = b.to_ascii_lowercase();
            n += 1;
        }
        !atoms.is_match(&buf[..n])
    }

    /// Whether personal data is scrubbed (`send_default_pii` off).
    pub(crate) fn pii(&self) -> bool {
        self.pii
    }

    /// Keys configured as never scrubbed.
    pub(crate) fn is_safe(&self, key: &str) -> bool {
        !self.safe.is_empty() && self.safe.contains(&split_words(key).join("_"))
    }

    /// [`is_sensitive`](Self::is_sensitive) for a `'static` key (a tracing field name):
    /// answered from its address after the first time, in a few nanoseconds.
    #[cfg_attr(not(feature = "layer"), allow(dead_code))] // the fast path of `Scrubbed`
    pub(crate) fn is_sensitive_static(&self, key: &'static str) -> bool {
        let Some(tag) = StaticVerdicts::tag(key) else {
            return self.is_sensitive(key);
        };
        if let Some(verdict) = self.static_verdicts.get(tag) {
            return verdict;
        }
        let verdict = self.is_sensitive(key);
        self.static_verdicts.set(tag, verdict);
        verdict
    }

    /// Whether the value under `key` must be replaced whole.
    /// Whether `key` names metadata of a secret with the metadata word first and a
    /// preposition after it (`longitud de contraseña`, `length of password`): not the
    /// secret, whatever its last words are.
    pub(crate) fn names_metadata_first(key: &str) -> bool {
        let words = split_words(key);
        words.len() >= 3
            && METADATA_WORDS.contains(&words[0].as_str())
            && METADATA_PREPOSITIONS.contains(&words[1].as_str())
    }

    pub(crate) fn is_sensitive(&self, key: &str) -> bool {
        // The cache first: a lookup is cheaper than the prefilter's regex.
        let known = self
            .verdicts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied();
        if let Some(verdict) = known {
            return verdict;
        }
        let verdict = !self.cannot_match(key) && self.matches_rules(key);
        let mut verdicts = self.verdicts.write().unwrap_or_else(|e| e.into_inner());
        if verdicts.len() < MAX_VERDICTS {
            verdicts.insert(key.into(), verdict);
        }
        verdict
    }

    /// The full check, without the prefilter.
    fn matches_rules(&self, key: &str) -> bool {
        // Full-width and other compatibility forms as their plain forms (NFKC).
        let decoded = percent_decoded(key);
        let key = &*super::normalize::nfkc_str(&decoded);
        // `pаssword` with a Cyrillic `а`: a word mixing Latin letters with look-alikes
        // of other scripts is read as the Latin word it imitates.
        if let Some(latin) = confusables_as_latin(key) {
            if self.matches_rules(&latin) {
                return true;
            }
        }
        let words = split_words(key);
        if words.is_empty() || self.is_safe(key) {
            return false;
        }
        if FLAG_WORDS.contains(&words[0].as_str()) && words.len() > 1 {
            return false;
        }
        if credential_by_form(&words) {
            return true;
        }
        let in_set = |set: &[&str], w: &str| set.contains(&w);
        for i in 0..words.len() {
            let w = words[i].as_str();
            let strong = in_set(SECRET_WORDS, w)
                || (self.pii && in_set(PII_WORDS, w))
                || (w.len() > 6
                    && STRONG_SUFFIXES
                        .iter()
                        .any(|s| w.len() > s.len() && w.ends_with(s)))
                // A compound ending in `token` as the last word, read as `<word>_token`
                // is (Docker's `identitytoken`, `registrytoken`).
                || (i + 1 == words.len() && w.len() > 8 && w.ends_with("token"))
                || pass_compound(&words, i);
            if strong && !followed_by_metadata(&words, i + 1) {
                return true;
            }
            if weak_match(WEAK_WORDS, &words, i)
                || (self.pii && weak_match(WEAK_PII_WORDS, &words, i))
            {
                return true;
            }
            // Two or three words written as one (`pass_word`, `api_key`, `date_of_birth`).
            for n in [2, 3] {
                if i + n > words.len() {
                    break;
                }
                let joined: String = words[i..i + n].concat();
                let hit = in_set(SECRET_WORDS, &joined)
                    || (self.pii && in_set(PII_WORDS, &joined))
                    || (n == 2
                        && (pair_matches(SECRET_PAIRS, w, &words[i + 1])
                            || (self.pii && pair_matches(PII_PAIRS, w, &words[i + 1]))));
                if hit && !followed_by_metadata(&words, i + n) {
                    return true;
                }
            }
        }
        // Words of other languages and scripts, and keys of personal data.
        if super::locale_words::matches(key, self.pii, |w| METADATA_WORDS.contains(&w)) {
            return true;
        }
        self.extra.iter().any(|extra| {
            words
                .windows(extra.len())
                .any(|window| window == extra.as_slice())
                || words.concat() == extra.concat()
        })
    }
}

/// Cyrillic and Greek letters drawn like Latin ones (Unicode's confusables, UTS #39, of
/// these scripts' common letters), as the Latin letter.
const CONFUSABLES: &[(char, char)] = &[
    ('а', 'a'),
    ('е', 'e'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('у', 'y'),
    ('х', 'x'),
    ('і', 'i'),
    ('ј', 'j'),
    ('ѕ', 's'),
    ('ԁ', 'd'),
    ('һ', 'h'),
    ('ԛ', 'q'),
    ('ԝ', 'w'),
    ('к', 'k'),
    ('А', 'A'),
    ('В', 'B'),
    ('Е', 'E'),
    ('К', 'K'),
    ('М', 'M'),
    ('Н', 'H'),
    ('О', 'O'),
    ('Р', 'P'),
    ('С', 'C'),
    ('Т', 'T'),
    ('Х', 'X'),
    ('У', 'Y'),
    ('І', 'I'),
    ('Ј', 'J'),
    ('Ѕ', 'S'),
    ('α', 'a'),
    ('ο', 'o'),
    ('ρ', 'p'),
    ('ι', 'i'),
    ('κ', 'k'),
    ('ν', 'v'),
    ('Α', 'A'),
    ('Β', 'B'),
    ('Ε', 'E'),
    ('Ζ', 'Z'),
    ('Η', 'H'),
    ('Ι', 'I'),
    ('Κ', 'K'),
    ('Μ', 'M'),
    ('Ν', 'N'),
    ('Ο', 'O'),
    ('Ρ', 'P'),
    ('Τ', 'T'),
    ('Υ', 'Y'),
    ('Χ', 'X'),
];

/// `key` with the look-alike letters of its mixed-script words as Latin letters; `None`
/// when no word mixes ASCII letters with them (a Russian or Greek key stays itself).
pub(crate) fn confusables_as_latin(key: &str) -> Option<String> {
    if key.is_ascii() {
        return None;
    }
    let look_alike = |c: char| CONFUSABLES.iter().find(|(f, _)| *f == c).map(|(_, t)| *t);
    let mut mixed = false;
    for word in key.split(|c: char| !c.is_alphanumeric()) {
        let ascii = word.chars().any(|c| c.is_ascii_alphabetic());
        let other = !word.is_ascii();
        if ascii
            && other
            && word
                .chars()
                .all(|c| c.is_ascii() || look_alike(c).is_some())
        {
            mixed = true;
        }
    }
    mixed.then(|| key.chars().map(|c| look_alike(c).unwrap_or(c)).collect())
}

/// `user%5Bpassword%5D` as `user[password]`; other text unchanged.
pub(crate) fn percent_decoded(key: &str) -> std::borrow::Cow<'_, str> {
    if !key.contains('%') {
        return std::borrow::Cow::Borrowed(key);
    }
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(s) => std::borrow::Cow::Owned(s),
        Err(_) => std::borrow::Cow::Borrowed(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> KeyMatcher {
        KeyMatcher::new(&[], &[], false)
    }

    #[test]
    fn splits_every_spelling_the_same_way() {
        assert_eq!(split_words("USER_PASSWORD"), ["user", "password"]);
        assert_eq!(split_words("clientSecret"), ["client", "secret"]);
        assert_eq!(split_words("X_Api_Key"), ["x", "api", "key"]);
        assert_eq!(split_words("APIKey"), ["api", "key"]);
        assert_eq!(split_words("x-api-key"), ["x", "api", "key"]);
        assert_eq!(split_words("set-cookie"), ["set", "cookie"]);
        assert_eq!(split_words("tags.api key"), ["tags", "api", "key"]);
    }

    #[test]
    fn secret_keys_match_in_every_spelling() {
        let m = default();
        for key in [
            "password",
            "Password",
            "USER_PASSWORD",
            "passwd",
            "pwd",
            "passphrase",
            "secret",
            "client_secret",
            "clientSecret",
            "api_key",
            "apiKey",
            "API-KEY",
            "x-api-key",
            "X_Api_Key",
            "apikey",
            "auth",
            "authorization",
            "Proxy-Authorization",
            "credentials",
            "private_key",
            "privateKey",
            "access_token",
            "refreshToken",
            "id_token",
            "token",
            "csrf_token",
            "session",
            "sessionid",
            "session_id",
            "cookie",
            "set-cookie",
            "jwt",
            "database_url",
            "connection_string",
            "otp",
            "mfa_code",
            "cvv",
            "card_number",
            "ssn",
            "api_token",
            "two_factor",
            "aws_secret_access_key",
            "Passwort",
            "contraseña",
            "mot_de_passe",
            "senha",
            "пароль",
            "pw",
            "newpassword",
            "PGPASSWORD",
            "appsecret",
            "stripeKey",
            "JSESSIONID",
            "connect.sid",
            "Ocp-Apim-Subscription-Key",
            "x-functions-key",
            "AccountKey",
            "user%5Bpassword%5D",
            "user[password]",
            "refresh_tokens",
            "date_of_birth",
            "msisdn",
            "telephone",
            "security_answer",
            "secret_key",
            "session_token",
        ] {
            assert!(m.is_sensitive(key), "{key} not matched");
        }
    }

    #[test]
    fn keys_with_look_alike_letters_of_other_scripts_match() {
        let m = default();
        // Cyrillic а, о, е, р, с and Greek ο, Α in otherwise Latin keys.
        for key in [
            "pаssword",
            "аpi_key",
            "client_sеcret",
            "АCCESS_TOKEN",
            "pаsswοrd",
        ] {
            assert!(m.is_sensitive(key), "{key}");
        }
        // Keys wholly of another script are read as themselves.
        for key in ["сор", "рас", "Ассоль"] {
            assert!(!m.is_sensitive(key), "{key}");
        }
    }

    #[test]
    fn look_alike_keys_do_not_match() {
        let m = default();
        for key in [
            "author",
            "authority",
            "oauth_provider",
            "token_count",
            "tokenizer",
            "secretary",
            "tenant_id",
            "max_tokens",
            "user_id",
            "route",
            "status",
            "order_id",
            "request_id",
            "auth_method",
            "password_length",
            "secret_arn",
            "secret_id",
            "auth_server",
            "email_template",
            "token_budget",
            "pass_rate",
            "is_mobile",
            "mobile_platform",
            "secret_santa_round",
            "auth.rs",
            "session_timeout",
            "password_min_length",
            "token_max_age",
            "gloois_dob_max_connections_per_host",
            "pinned",
            "key",
        ] {
            assert!(!m.is_sensitive(key), "{key} matched");
        }
    }

    #[test]
    fn personal_data_keys_follow_send_default_pii() {
        assert!(default().is_sensitive("email"));
        assert!(default().is_sensitive("ip_address"));
        assert!(default().is_sensitive("X-Forwarded-For"));
        let pii_allowed = KeyMatcher::new(&[], &[], true);
        assert!(!pii_allowed.is_sensitive("email"));
        assert!(pii_allowed.is_sensitive("password"));
    }

    #[test]
    fn the_prefilter_never_hides_a_match() {
        // Every word of every table, alone and in pairs, in several spellings: whatever
        // the prefilter rules out, the full check rules out too.
        let m = KeyMatcher::new(&["internal_ref".into()], &[], false);
        let words = SECRET_WORDS
            .iter()
            .chain(PII_WORDS)
            .chain(STRONG_SUFFIXES)
            .map(|w| w.to_string())
            .chain(
                WEAK_WORDS
                    .iter()
                    .chain(WEAK_PII_WORDS)
                    .flat_map(|(w, followers)| {
                        std::iter::once(w.to_string())
                            .chain(followers.iter().map(move |f| format!("{w}_{f}")))
                    }),
            )
            .chain(
                SECRET_PAIRS
                    .iter()
                    .chain(PII_PAIRS)
                    .flat_map(|(firsts, seconds)| {
                        firsts
                            .iter()
                            .flat_map(move |f| seconds.iter().map(move |s| format!("{f}_{s}")))
                    }),
            )
            .chain(["internalRef".to_owned(), "date_of_birth".to_owned()]);
        let mut checked = 0;
        for word in words {
            for key in [
                word.clone(),
                word.to_uppercase(),
                format!("x-{word}"),
                format!("new{word}"),
            ] {
                if m.cannot_match(&key) {
                    assert!(!m.matches_rules(&key), "{key} hidden by the prefilter");
                }
                checked += 1;
            }
        }
        assert!(checked > 500);
        assert!(m.cannot_match("route") && m.cannot_match("order_id"));
    }

    #[test]
    fn extra_and_safe_keys_are_honoured() {
        let m = KeyMatcher::new(&["internal_ref".into()], &["session".into()], false);
        assert!(m.is_sensitive("internalRef"));
        assert!(m.is_sensitive("x_internal_ref"));
        assert!(!m.is_sensitive("session"));
        assert!(m.is_sensitive("password"));
    }

    #[test]
    fn static_verdicts_by_address_agree_with_the_rules_through_collisions() {
        let m = KeyMatcher::new(&["internal_ref".into()], &["session".into()], false);
        let fresh = KeyMatcher::new(&["internal_ref".into()], &["session".into()], false);
        let stems = [
            "password",
            "order_id",
            "status",
            "apiKey",
            "session",
            "internalRef",
            "route",
            "token_count",
            "user_email",
            "attempt",
            "db_url",
            "authority",
        ];
        // Four times the slots: slots are shared and overwritten, and the same text at
        // several addresses is cached apart.
        let keys: Vec<&'static str> = (0..4 * STATIC_SLOTS)
            .map(|i| {
                &*Box::leak(
                    format!("{}{}", stems[i % stems.len()], i / stems.len()).into_boxed_str(),
                )
            })
            .chain(stems.iter().copied())
            .chain(
                stems
                    .iter()
                    .map(|s| &*Box::leak(s.to_string().into_boxed_str())),
            )
            .collect();
        for round in 0..3 {
            for key in &keys {
                assert_eq!(
                    m.is_sensitive_static(key),
                    fresh.matches_rules(key),
                    "{key} in round {round}"
                );
            }
        }
        assert!(m.is_sensitive_static("password") && !m.is_sensitive_static("order_id"));
        assert!(!m.is_sensitive_static("") && StaticVerdicts::tag("").is_none());
    }
}
