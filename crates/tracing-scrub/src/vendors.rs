//! Vendor credentials recognised in any text by their documented format.
//!
//! Each rule is written from the vendor's own public description of its token format
//! (the `source` column), not copied from another scanner. To add a vendor, append a
//! `VendorRule` with the prefix the vendor documents, a body pattern no wider than the
//! documentation allows, the page it comes from, and an example of the documented shape
//! (checked by the tests: each example must match, and must not match once cut short).
//!
//! The `checked` column says what the format was checked against (November 2026): the
//! vendor's own page (**vendor**), or, where the vendor does not publish the format,
//! the descriptions of integrators and the tokens shown in them (**third-party**; the
//! pattern is then kept wide rather than exact).
//!
//! | rule | format | source | checked |
//! |---|---|---|---|
//! | AWS access key id | `AKIA`/`ASIA`/... + 16 upper-case alphanumerics | <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-prefixes> | vendor (prefix table) |
//! | GitHub tokens | `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` + `[A-Za-z0-9_]`, up to 255; `github_pat_` | <https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available> | vendor |
//! | GitLab tokens | `glpat-`, `glrt-`, `gldt-`, `glptt-`, `glcbt-`, `gloas-` ... + `[A-Za-z0-9_-]{20,}` | <https://docs.gitlab.com/security/tokens/#token-prefixes> | vendor |
//! | Slack tokens | `xoxb-` (bot), `xoxp-` (user), `xapp-` (app-level), `xoxe.xoxp-` / `xoxe-` (configuration and refresh); legacy `xoxa-`, `xoxo-`, `xoxr-`, `xoxs-` | <https://docs.slack.dev/authentication/tokens>, <https://api.slack.com/authentication/config-tokens> | vendor |
//! | Stripe keys | `sk_live_`, `sk_test_`, `rk_live_`, `rk_test_` (body up to 128 alphanumerics, per Stripe's security team); webhook secrets `whsec_` | <https://docs.stripe.com/keys>, <https://gitlab.com/gitlab-org/gitlab/-/issues/458019>, <https://docs.stripe.com/webhooks> | vendor |
//! | Google API key | `AIza` + 35 | <https://cloud.google.com/docs/authentication/api-keys> | third-party (Google does not document the shape) |
//! | Google OAuth access token | `ya29.` + `[A-Za-z0-9_-]` | <https://developers.google.com/identity/protocols/oauth2> | third-party (Google calls them opaque) |
//! | OpenAI keys | `sk-proj-`, `sk-svcacct-`, `sk-admin-` + `[A-Za-z0-9_-]{20,}` | <https://platform.openai.com/docs/api-reference/authentication> | third-party |
//! | Anthropic keys | `sk-ant-` + kind and version (`api03`, `admin01`, `oat01`) + `-` | <https://docs.anthropic.com/en/api/getting-started> | third-party |
//! | SendGrid API key | `SG.` + id + `.` + secret, 69 characters in all | <https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys> | vendor (prefix and total length) |
//! | npm token | `npm_` + 36 base62 (the last 6 a CRC32 checksum) | <https://github.blog/changelog/2021-09-23-npm-has-a-new-access-token-format/> | vendor |
//! | PyPI token | `pypi-` + macaroon (`AgE...`: serialization version 2, then the location field) | <https://pypi.org/help/#apitoken> | vendor (prefix) |
//! | HashiCorp Vault token | `hvs.`, `hvb.`, `hvr.` | <https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes> | vendor |
//! | Hugging Face token | `hf_` + 34 letters | <https://huggingface.co/docs/hub/security-tokens> | vendor |
//! | Databricks token | `dapi` + 32 hex (optionally `-N`) | <https://docs.databricks.com/en/dev-tools/auth/pat.html> | third-party (the page does not show the shape) |
//! | DigitalOcean tokens | `dop_v1_` (personal), `doo_v1_` (OAuth), `dor_v1_` (refresh) + 64 hex | <https://docs.digitalocean.com/notes/2022/api-token-format> | vendor (prefixes); length third-party |
//! | Doppler tokens | `dp.pt.`, `dp.ct.`, `dp.st.` (+ config name), `dp.sa.`, `dp.scim.`, `dp.audit.` | <https://docs.doppler.com/reference/api> | vendor (token kinds); prefixes third-party |
//! | Grafana service account token | `glsa_` + 32 alphanumerics + `_` + 8 hex | <https://grafana.com/docs/learning-paths/deploy-dashboard-terraform/create-service-account/>, <https://grafana.github.io/grafana-operator/docs/examples/serviceaccounts> | vendor (prefix; shape from the operator docs' example) |
//! | New Relic user key | `NRAK-` + upper-case alphanumerics | <https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys> | third-party (prefix) |
//! | Sentry tokens | `sntrys_` (organization), `sntryu_` (user) | <https://docs.sentry.io/account/auth-tokens/> | vendor |
//! | Shopify tokens | `shpat_`, `shpca_`, `shppa_` (access tokens), `shpss_` (app secret) + 32 | <https://shopify.dev/changelog/length-of-the-shopify-access-token-is-increasing>, <https://shopify.dev/changelog/app-secret-key-length-has-increased> | vendor |
//! | Twilio API key SID | `SK` + 32 hex | <https://www.twilio.com/docs/iam/api-keys/key-resource-v1> | vendor |

/// One vendor's token format.
// `name`, `source` and `example` are documentation, read by the tests.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct VendorRule {
    /// Vendor and token kind, for the docs.
    pub(crate) name: &'static str,
    /// A regex matching the whole token (no anchors; word boundaries are added).
    pub(crate) pattern: &'static str,
    /// The vendor page that documents the format.
    pub(crate) source: &'static str,
    /// An example of the documented shape (made up; never a real credential).
    pub(crate) example: &'static str,
}

pub(crate) const VENDOR_RULES: &[VendorRule] = &[
    VendorRule {
        name: "AWS access key id",
        pattern: r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}",
        source: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-prefixes",
        example: "AKIAZZZZEXAMPLE00000",
    },
    VendorRule {
        name: "GitHub token",
        pattern: r"(?:gh[pousr]_[A-Za-z0-9_]{30,255}|github_pat_[A-Za-z0-9_]{30,255})",
        source: "https://github.blog/changelog/2021-03-31-authentication-token-format-updates-are-generally-available",
        example: "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    },
    VendorRule {
        name: "GitLab token",
        pattern: r"gl(?:pat|rt|rtr|dt|ptt|cbt|oas|ft|imt|agent|soat|ffct)-[A-Za-z0-9_-]{20,}",
        source: "https://docs.gitlab.com/security/tokens/#token-prefixes",
        example: "glrt-abcdefghij0123456789",
    },
    VendorRule {
        name: "Slack token",
        // `xoxe.xoxp-..` (configuration) is found by its `xoxp-` part.
        pattern: r"(?:xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})",
        source: "https://docs.slack.dev/authentication/tokens",
        example: "xoxb-1234567890-abcdefghij",
    },
    VendorRule {
        name: "Stripe key or webhook secret",
        pattern: r"(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,})",
        source: "https://docs.stripe.com/keys",
        example: "whsec_abcdefghijklmnopqrstuvwxyz012345",
    },
    VendorRule {
        name: "Google API key",
        pattern: r"AIza[0-9A-Za-z_-]{35}",
        source: "https://cloud.google.com/docs/authentication/api-keys",
        example: "AIzaabcdefghijklmnopqrstuvwxyz012345678",
    },
    VendorRule {
        name: "Google OAuth access token",
        pattern: r"ya29\.[A-Za-z0-9_-]{20,}",
        source: "https://developers.google.com/identity/protocols/oauth2",
        example: "ya29.a0abcdefghijklmnopqrstuvwxyz",
    },
    VendorRule {
        name: "OpenAI key",
        pattern: r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{20,}",
        source: "https://platform.openai.com/docs/api-reference/authentication",
        example: "sk-proj-abcdefghijklmnopqrstuvwxyz0123",
    },
    VendorRule {
        name: "Anthropic key",
        pattern: r"sk-ant-[a-z]{3,8}\d{2}-[A-Za-z0-9_-]{20,}",
        source: "https://docs.anthropic.com/en/api/getting-started",
        example: "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
    },
    VendorRule {
        name: "SendGrid API key",
        // 69 characters in all: `SG.` + id (16 to 32) + `.` + secret (the rest).
        pattern: r"SG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{32,48}",
        source: "https://www.twilio.com/docs/sendgrid/ui/account-and-settings/api-keys",
        example: "SG.abcdefghijklmnopqrstuv.abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
    },
    VendorRule {
        name: "npm token",
        pattern: r"npm_[A-Za-z0-9]{36}",
        source: "https://github.blog/changelog/2021-09-23-npm-has-a-new-access-token-format/",
        example: "npm_abcdefghijklmnopqrstuvwxyz0123456789",
    },
    VendorRule {
        name: "PyPI token",
        pattern: r"pypi-AgE[A-Za-z0-9_-]{50,}",
        source: "https://pypi.org/help/#apitoken",
        example: "pypi-AgEIcHlwaS5vcmcabcdefghijklmnopqrstuvwxyz0123456789ABCDEF",
    },
    VendorRule {
        name: "HashiCorp Vault token",
        pattern: r"hv[sbr]\.[A-Za-z0-9_-]{20,}",
        source: "https://developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes",
        example: "hvs.CAESIabcdefghijklmnopqrstuvwxyz",
    },
    VendorRule {
        name: "Hugging Face token",
        pattern: r"hf_[A-Za-z0-9]{30,40}",
        source: "https://huggingface.co/docs/hub/security-tokens",
        example: "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
    },
    VendorRule {
        name: "Databricks token",
        pattern: r"dapi[0-9a-f]{32}(?:-\d)?",
        source: "https://docs.databricks.com/en/dev-tools/auth/pat.html",
        example: "dapi0123456789abcdef0123456789abcdef",
    },
    VendorRule {
        name: "DigitalOcean token",
        pattern: r"do[por]_v1_[0-9a-f]{64}",
        source: "https://docs.digitalocean.com/notes/2022/api-token-format",
        example: "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    },
    VendorRule {
        name: "Doppler token",
        pattern: r"dp\.(?:pt|ct|st|sa|scim|audit)\.[A-Za-z0-9_.-]{40,}",
        source: "https://docs.doppler.com/reference/api",
        example: "dp.st.dev.abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123",
    },
    VendorRule {
        name: "Grafana service account token",
        pattern: r"glsa_[A-Za-z0-9]{32}_[0-9a-f]{8}",
        source: "https://grafana.com/docs/learning-paths/deploy-dashboard-terraform/create-service-account/",
        example: "glsa_abcdefghijklmnopqrstuvwxyzABCDEF_0a1b2c3d",
    },
    VendorRule {
        name: "New Relic user key",
        pattern: r"NRAK-[A-Z0-9]{20,}",
        source: "https://docs.newrelic.com/docs/apis/intro-apis/new-relic-api-keys",
        example: "NRAK-ABCDEFGHIJKLMNOPQRSTUVWXYZ0",
    },
    VendorRule {
        name: "Sentry token",
        pattern: r"sntry[su]_[A-Za-z0-9+/=_.-]{30,}",
        source: "https://docs.sentry.io/account/auth-tokens/",
        example: "sntrys_abcdefghijklmnopqrstuvwxyz0123456789",
    },
    VendorRule {
        name: "Shopify token",
        // The changelog gives the length (38 with the prefix), not the alphabet.
        pattern: r"shp(?:at|ca|pa|ss)_[0-9A-Za-z]{32}",
        source: "https://shopify.dev/changelog/length-of-the-shopify-access-token-is-increasing",
        example: "shpat_0123456789abcdef0123456789abcdef",
    },
    VendorRule {
        name: "Twilio API key SID",
        pattern: r"SK[0-9a-fA-F]{32}",
        source: "https://www.twilio.com/docs/iam/api-keys/key-resource-v1",
        example: "SK0123456789abcdef0123456789abcdef",
    },
];

/// All vendor rules as one alternation, each token standing as a whole word.
pub(crate) fn combined_pattern() -> String {
    let alternatives: Vec<&str> = VENDOR_RULES.iter().map(|r| r.pattern).collect();
    // ASCII word boundaries: tokens are ASCII, and a Unicode `\b` would keep the regex
    // engine off its fast path on any non-ASCII text.
    format!(r"(?-u:\b)(?:{})(?-u:\b)", alternatives.join("|"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_a_source_and_matches_its_documented_shape() {
        let regex = regex::Regex::new(&combined_pattern()).expect("vendor rules compile");
        for rule in VENDOR_RULES {
            assert!(rule.source.starts_with("https://"), "{}", rule.name);
            let m = regex.find(rule.example).map(|m| m.as_str());
            assert_eq!(m, Some(rule.example), "{}", rule.name);
            let text = format!("failed with {} (401)", rule.example);
            assert!(regex.is_match(&text), "{}", rule.name);
            // The prefix alone, as in ordinary text, is not a token.
            let prefix_only = &rule.example[..rule.example.len().min(6)];
            assert!(!regex.is_match(prefix_only), "{}", rule.name);
        }
    }

    /// The lengths the vendors document, and the token kinds added after checking them.
    #[test]
    fn documented_lengths_and_kinds_are_matched() {
        let regex = regex::Regex::new(&combined_pattern()).expect("vendor rules compile");
        let example = |name: &str| {
            VENDOR_RULES
                .iter()
                .find(|r| r.name == name)
                .map(|r| r.example)
                .unwrap_or_default()
        };
        assert_eq!(example("SendGrid API key").len(), 69);
        assert_eq!(example("Shopify token").len(), 38);
        assert_eq!(example("npm token").len(), 40);
        for token in [
            "xoxe.xoxp-1-Mi0yLTEyMzQ1Njc4OTAxMi0xMjM0NTY3ODkwMTIz",
            "xoxe-1-My0xLTEyMzQ1Njc4OTAxMi0xMjM0NTY3ODkwMTIz",
            "xapp-1-A0123456789-0123456789012-abcdef0123456789",
            "rk_live_51HqQ2bCdEfGhIjKlMnOpQrStUvWxYz0123456789",
            "dp.pt.zkxYYBKOabcdefghijklmnopqrstuvwxyz0123456789",
            "dp.st.prd.abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123",
            "doo_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "shpss_AbCdEf0123456789AbCdEf0123456789",
            "sk-ant-oat01-abcdefghijklmnopqrstuvwxyz0123",
        ] {
            let found = regex.find(token).map(|m| m.end()).unwrap_or(0);
            assert!(found >= token.len() - 1, "{token}");
        }
        // Same prefixes in ordinary words and identifiers stay.
        for text in ["dp.st.config", "SG.Region", "xoxb-", "shpat_count"] {
            assert!(!regex.is_match(text), "{text}");
        }
    }
}
