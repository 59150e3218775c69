//! The legacy data-scrubbing settings of a Sentry project, as the PiiConfig they stand
//! for (Sentry's documentation, "Server-Side Data Scrubbing": "Data Scrubber",
//! "Use Default Scrubbers", "Additional Sensitive Fields", "Safe Fields",
//! "Prevent Storing of IP Addresses").

use serde_json::{json, Map, Value};

use super::selector::Selector;

/// A project's legacy data-scrubbing settings (the names are Sentry's project option
/// keys, in the JSON `convert_datascrubbing_config` takes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataScrubbingSettings {
    /// `scrubData`: the data scrubber is on (sensitive fields are then filtered).
    pub scrub_data: bool,
    /// `scrubDefaults`: the default scrubbers (`@common`: passwords, credit cards,
    /// emails, IPs in text, PEM keys, URL credentials, SSNs, user names in paths).
    pub scrub_defaults: bool,
    /// `sensitiveFields`: values under keys containing one of these (any case) are
    /// replaced with `[Filtered]`.
    pub sensitive_fields: Vec<String>,
    /// `excludeFields`: selectors (usually keys) never scrubbed by these settings.
    pub exclude_fields: Vec<String>,
    /// `scrubIpAddresses`: IP addresses replaced in text, and the user's and request's
    /// IP fields removed.
    pub scrub_ip_addresses: bool,
}

impl DataScrubbingSettings {
    /// Reads the settings from Sentry's JSON shape (`scrubData`, `scrubDefaults`,
    /// `sensitiveFields`, `excludeFields`, `scrubIpAddresses`); missing keys are off or
    /// empty, values of the wrong type are ignored.
    pub fn from_json_value(value: &Value) -> DataScrubbingSettings {
        let flag = |k: &str| value.get(k).and_then(Value::as_bool).unwrap_or(false);
        let list = |k: &str| {
            value
                .get(k)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default()
        };
        DataScrubbingSettings {
            scrub_data: flag("scrubData"),
            scrub_defaults: flag("scrubDefaults"),
            sensitive_fields: list("sensitiveFields"),
            exclude_fields: list("excludeFields"),
            scrub_ip_addresses: flag("scrubIpAddresses"),
        }
    }
}

/// The PiiConfig document the settings stand for.
pub(super) fn convert(settings: &DataScrubbingSettings) -> Value {
    let mut rules = Map::new();
    let mut applied = Vec::new();
    if settings.scrub_data && settings.scrub_defaults {
        applied.push("@common:filter");
    }
    if settings.scrub_ip_addresses {
        applied.push("@ip:replace");
    }
    let fields: Vec<String> = settings
        .sensitive_fields
        .iter()
        .map(|f| f.trim())
        .filter(|f| !f.is_empty())
        .map(regex::escape)
        .collect();
    if settings.scrub_data && !fields.is_empty() {
        rules.insert(
            "strip-fields".to_owned(),
            json!({"type": "redact_pair", "keyPattern": fields.join("|"),
                   "redaction": {"method": "replace", "text": "[Filtered]"}}),
        );
        applied.push("strip-fields");
    }
    let mut selector = "($string || $number || $array || $object)".to_owned();
    for field in &settings.exclude_fields {
        // A safe field that is not a selector cannot exclude anything.
        if Selector::parse(field).is_ok() {
            selector.push_str(&format!(" && !({field})"));
        }
    }
    let mut applications = Map::new();
    if !applied.is_empty() {
        applications.insert(selector, json!(applied));
    }
    if settings.scrub_ip_addresses {
        applications.insert(
            "$user.ip_address || $http.env.REMOTE_ADDR || $sdk.client_ip".to_owned(),
            json!(["@anything:remove"]),
        );
    }
    json!({"rules": rules, "applications": applications})
}
