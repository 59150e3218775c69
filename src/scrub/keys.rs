//! Which keys name secrets or personal data.
//!
//! A key is split into lowercase words (`USER_PASSWORD`, `clientSecret`, `x-api-key`,
//! `APIKey` all split the same way) and matched word by word, so `author`,
//! `authority`, `tokenizer` and `secretary` are different words from `auth`,
//! `token` and `secret` and never match.

/// Words that name a secret wherever they stand in a key.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "passcode",
    "secret",
    "secrets",
    "apikey",
    "apikeys",
    "auth",
    "authorization",
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
    "pin",
    "cvv",
    "cvv2",
    "cvc",
    "cvn",
    "ssn",
    "iban",
    "dsn",
    "session",
    "sessionid",
    "sessid",
    "phpsessid",
    "csrf",
    "xsrf",
    "csrftoken",
    "xsrftoken",
    "token",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "authtoken",
    "apitoken",
    "privatekey",
    "privkey",
    "secretkey",
    "accesskey",
    "clientsecret",
    "signature",
    "sig",
    "cardnumber",
    "ccnumber",
    "connectionstring",
    "connstr",
    "databaseurl",
    "dburl",
    "mysqlpwd",
];

/// Words naming personal data, matched only while `send_default_pii` is off.
const PII_WORDS: &[&str] = &[
    "email",
    "emails",
    "emailaddress",
    "phone",
    "phonenumber",
    "mobile",
    "ip",
    "ipaddress",
    "ipaddr",
    "dob",
    "birthdate",
    "birthday",
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
        ],
        &["key", "keys"],
    ),
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
        &["verification", "recovery", "backup", "security"],
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
];

/// Splits a key into lowercase words at `_ - . / : space` and camelCase boundaries.
pub(crate) fn split_words(key: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = key.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if c.is_uppercase() && !current.is_empty() {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            // `apiKey` splits before K; `APIKey` splits before K (the end of an acronym).
            if prev.is_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_uppercase() && next_is_lower)
            {
                words.push(std::mem::take(&mut current));
            }
        }
        current.extend(c.to_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn pair_matches(pairs: &[(&[&str], &[&str])], first: &str, second: &str) -> bool {
    pairs
        .iter()
        .any(|(firsts, seconds)| firsts.contains(&first) && seconds.contains(&second))
}

/// True when the word at `i` is followed by a metadata word.
fn followed_by_metadata(words: &[String], end: usize) -> bool {
    words
        .get(end)
        .is_some_and(|w| METADATA_WORDS.contains(&w.as_str()))
}

/// Classifies keys; built once from the configured rules.
#[derive(Clone, Debug)]
pub(crate) struct KeyMatcher {
    extra: Vec<Vec<String>>,
    safe: Vec<String>,
    pii: bool,
}

impl KeyMatcher {
    pub(crate) fn new(extra: &[String], safe: &[String], send_default_pii: bool) -> Self {
        KeyMatcher {
            extra: extra
                .iter()
                .map(|k| split_words(k))
                .filter(|w| !w.is_empty())
                .collect(),
            safe: safe.iter().map(|k| split_words(k).join("_")).collect(),
            pii: !send_default_pii,
        }
    }

    /// Keys configured as never scrubbed.
    pub(crate) fn is_safe(&self, key: &str) -> bool {
        !self.safe.is_empty() && self.safe.contains(&split_words(key).join("_"))
    }

    /// Whether the value under `key` must be replaced whole.
    pub(crate) fn is_sensitive(&self, key: &str) -> bool {
        let words = split_words(key);
        if words.is_empty() || self.is_safe(key) {
            return false;
        }
        let in_set = |set: &[&str], w: &str| set.contains(&w);
        for i in 0..words.len() {
            let w = words[i].as_str();
            let next = words.get(i + 1).map(String::as_str);
            // One word, or two written as one (`pass_word`, `api_key` -> `apikey`).
            if (in_set(SECRET_WORDS, w) || (self.pii && in_set(PII_WORDS, w)))
                && !followed_by_metadata(&words, i + 1)
            {
                return true;
            }
            if let Some(next) = next {
                let joined = format!("{w}{next}");
                let pair = pair_matches(SECRET_PAIRS, w, next)
                    || in_set(SECRET_WORDS, &joined)
                    || (self.pii
                        && (pair_matches(PII_PAIRS, w, next) || in_set(PII_WORDS, &joined)));
                if pair && !followed_by_metadata(&words, i + 2) {
                    return true;
                }
            }
        }
        self.extra.iter().any(|extra| {
            words
                .windows(extra.len())
                .any(|window| window == extra.as_slice())
                || words.concat() == extra.concat()
        })
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
        ] {
            assert!(m.is_sensitive(key), "{key} not matched");
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
    fn extra_and_safe_keys_are_honoured() {
        let m = KeyMatcher::new(&["internal_ref".into()], &["session".into()], false);
        assert!(m.is_sensitive("internalRef"));
        assert!(m.is_sensitive("x_internal_ref"));
        assert!(!m.is_sensitive("session"));
        assert!(m.is_sensitive("password"));
    }
}
