//! Continuing a trace that arrives with a request: Sentry's `sentry-trace` header
//! (with `baggage`) or W3C Trace Context's `traceparent`.

use std::fmt;

use sentry::protocol::{SpanId, TraceId};
use sentry::TracePropagationContext;

/// The trace a request continues: its trace id, the caller's span id (the parent of
/// the request's transaction) and the caller's sampling decision, if it made one.
///
/// Put it on the request span as the `sentry.trace` field:
///
/// ```
/// let headers = [(
///     "traceparent",
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
/// )];
/// let incoming = tracing_error_reports::IncomingTrace::from_headers(headers);
/// let span = tracing::info_span!(
///     "request",
///     sentry.trace = incoming.as_ref().map(tracing::field::display),
/// );
/// let incoming = incoming.expect("a valid traceparent");
/// assert_eq!(incoming.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(incoming.sampled(), Some(true));
/// # drop(span);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IncomingTrace {
    trace_id: TraceId,
    parent_span_id: SpanId,
    sampled: Option<bool>,
}

impl IncomingTrace {
    /// Reads the trace from request headers (names compared ignoring case): a valid
    /// `sentry-trace` header, parsed by sentry's `TracePropagationContext::try_from_headers`
    /// (which also reads `baggage`), else a valid W3C `traceparent`
    /// (<https://www.w3.org/TR/trace-context/#traceparent-header>, the first valid one: version
    /// `00` or a later version's first four fields; the sampled flag is bit 0 of the flags).
    /// `None` when neither is present and valid: the request starts its own trace.
    pub fn from_headers<'a, I>(headers: I) -> Option<Self>
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut sentry_headers = Vec::new();
        let mut traceparent = None;
        for (name, value) in headers {
            if name.eq_ignore_ascii_case("sentry-trace") || name.eq_ignore_ascii_case("baggage") {
                sentry_headers.push((name, value));
            } else if traceparent.is_none() && name.eq_ignore_ascii_case("traceparent") {
                traceparent = Self::from_traceparent(value);
            }
        }
        if let Ok(context) = TracePropagationContext::try_from_headers(sentry_headers) {
            // The context's fields are private; its header is the public way out.
            if let Some(trace) = Self::from_sentry_trace(&context.sentry_trace_header()) {
                return Some(trace);
            }
        }
        traceparent
    }

    /// Parses a `sentry-trace` value: `{32 hex trace id}-{16 hex span id}[-{0|1}]`.
    pub fn from_sentry_trace(value: &str) -> Option<Self> {
        let mut parts = value.trim().splitn(3, '-');
        let trace_id = parse_trace_id(parts.next()?)?;
        let parent_span_id = parse_span_id(parts.next()?)?;
        let sampled = match parts.next() {
            None => None,
            Some("1") => Some(true),
            Some("0") => Some(false),
            Some(_) => return None,
        };
        Some(IncomingTrace {
            trace_id,
            parent_span_id,
            sampled,
        })
    }

    /// Parses a W3C `traceparent` value exactly as the W3C Trace Context spec says
    /// (<https://www.w3.org/TR/trace-context/#traceparent-header>): `{version}-{trace
    /// id}-{parent id}-{flags}`, every part lowercase hex of its exact length (2, 32, 16,
    /// 2), the version not `ff`, neither id all zeros; version `00` is exactly 55
    /// characters, a later version at least 55, followed by `-` when longer. Only the
    /// spaces and tabs HTTP allows around a value are ignored. `None` otherwise (an
    /// uppercase id too, which OpenTelemetry refuses as well).
    pub fn from_traceparent(value: &str) -> Option<Self> {
        let value = value.trim_matches([' ', '\t']);
        let head = value.get(..55)?;
        let bytes = head.as_bytes();
        if [2, 35, 52].iter().any(|&at| bytes[at] != b'-') {
            return None;
        }
        let (version, trace_id, parent_id, flags) =
            (&head[..2], &head[3..35], &head[36..52], &head[53..55]);
        if ![version, trace_id, parent_id, flags]
            .iter()
            .all(|part| is_lower_hex(part))
            || version == "ff"
        {
            return None;
        }
        let rest = &value[55..];
        let fits = if version == "00" {
            rest.is_empty()
        } else {
            rest.is_empty() || rest.starts_with('-')
        };
        if !fits {
            return None;
        }
        let flags = u8::from_str_radix(flags, 16).ok()?;
        Some(IncomingTrace {
            trace_id: parse_trace_id(trace_id)?,
            parent_span_id: parse_span_id(parent_id)?,
            sampled: Some(flags & 1 == 1),
        })
    }

    /// The trace id the request continues.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The caller's span: the parent of the request's transaction.
    pub fn parent_span_id(&self) -> SpanId {
        self.parent_span_id
    }

    /// The caller's sampling decision; `None` when it left it to us.
    pub fn sampled(&self) -> Option<bool> {
        self.sampled
    }
}

/// The `sentry-trace` form, for the `sentry.trace` field.
impl fmt::Display for IncomingTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.trace_id, self.parent_span_id)?;
        match self.sampled {
            Some(true) => f.write_str("-1"),
            Some(false) => f.write_str("-0"),
            None => Ok(()),
        }
    }
}

/// The `sentry-*` entries of a W3C `baggage` header value
/// (<https://www.w3.org/TR/baggage/>): Sentry's dynamic sampling context, keyed without
/// the `sentry-` prefix, values percent-decoded; `None` when there is none. Entries that
/// are not `key=value` are skipped, and a member's properties (after `;`) ignored.
pub(crate) fn sentry_baggage(value: &str) -> Option<sentry::protocol::Map<String, String>> {
    let mut entries = sentry::protocol::Map::new();
    for member in value.split(',') {
        let member = member.split(';').next().unwrap_or("");
        let Some((key, value)) = member.split_once('=') else {
            continue;
        };
        if let Some(key) = key.trim().strip_prefix("sentry-") {
            if !key.is_empty() {
                entries.insert(key.to_owned(), percent_decode(value.trim()));
            }
        }
    }
    (!entries.is_empty()).then_some(entries)
}

/// `%XX` escapes decoded (as UTF-8, invalid sequences replaced); anything else as is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// 32 hex digits (either case), not all zero (an invalid id in both formats).
fn parse_trace_id(text: &str) -> Option<TraceId> {
    let value = (text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u128::from_str_radix(text, 16).ok())
        .flatten()
        .filter(|v| *v != 0)?;
    Some(TraceId::from(value.to_be_bytes()))
}

/// 16 hex digits, not all zero.
fn parse_span_id(text: &str) -> Option<SpanId> {
    let value = (text.len() == 16 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u64::from_str_radix(text, 16).ok())
        .flatten()
        .filter(|v| *v != 0)?;
    Some(SpanId::from(value.to_be_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_versions_flags_and_bad_values() {
        let ok = IncomingTrace::from_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        )
        .expect("valid");
        assert_eq!(ok.sampled(), Some(false));
        assert_eq!(ok.parent_span_id().to_string(), "00f067aa0ba902b7");
        // A later version may append fields; version 00 may not.
        assert!(IncomingTrace::from_traceparent(
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03-extra"
        )
        .is_some_and(|t| t.sampled() == Some(true)));
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0é-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            // Uppercase hex: the spec allows lowercase only (OpenTelemetry refuses it).
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A",
            "0A-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            // A later version's extra part must follow a dash.
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-é",
        ] {
            assert_eq!(IncomingTrace::from_traceparent(bad), None, "{bad}");
        }
    }

    proptest::proptest! {
        /// Any text: no panic, and what is accepted is a canonical `traceparent` (so
        /// OpenTelemetry, which parses the same spec, continues the same trace).
        #[test]
        fn any_traceparent_text_is_refused_or_canonical(
            value in "(0[0-9a-fA-F]|[0-9a-fA-F]{0,3})-[0-9a-fA-F]{30,33}-[0-9a-fA-F]{15,17}-[0-9a-fA-F]{1,3}(-.{0,4}|.{0,2})|\\PC{0,70}"
        ) {
            if let Some(trace) = IncomingTrace::from_traceparent(&value) {
                let canonical = format!(
                    "{}-{}-{}-",
                    &value[..2],
                    trace.trace_id(),
                    trace.parent_span_id()
                );
                proptest::prop_assert!(value.starts_with(&canonical), "{value}");
                proptest::prop_assert!(!value.bytes().take(55).any(|b| b.is_ascii_uppercase()));
                proptest::prop_assert!(value.len() == 55 || &value[..2] != "00");
            }
        }
    }

    #[test]
    fn sentry_trace_wins_over_traceparent_and_round_trips() {
        let headers = [
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            (
                "Sentry-Trace",
                "771a43a4192642f0b136d5159a501700-b6e54d2f8d3ab74d-0",
            ),
            (
                "baggage",
                "sentry-trace_id=771a43a4192642f0b136d5159a501700",
            ),
        ];
        let trace = IncomingTrace::from_headers(headers).expect("valid");
        assert_eq!(
            trace.to_string(),
            "771a43a4192642f0b136d5159a501700-b6e54d2f8d3ab74d-0"
        );
        assert_eq!(
            IncomingTrace::from_sentry_trace(&trace.to_string()),
            Some(trace)
        );
        // An invalid sentry-trace falls back to traceparent.
        let trace = IncomingTrace::from_headers([
            ("sentry-trace", "nonsense"),
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        ])
        .expect("traceparent");
        assert_eq!(
            trace.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_eq!(IncomingTrace::from_headers([("x", "y")]), None);
        assert_eq!(
            IncomingTrace::from_sentry_trace("771a43a4192642f0b136d5159a501700-b6e54d2f8d3ab74d"),
            Some(IncomingTrace {
                sampled: None,
                ..trace_from("771a43a4192642f0b136d5159a501700", "b6e54d2f8d3ab74d")
            })
        );
    }

    #[test]
    fn sentry_entries_of_baggage_are_read_and_decoded() {
        let entries = sentry_baggage(
            "other=1, sentry-trace_id=771a43a4192642f0b136d5159a501700 ,\
             sentry-transaction=GET%20%2Forders;prop=x,sentry-sample_rate=0.25,bad,sentry-=x",
        )
        .expect("sentry entries");
        assert_eq!(entries.len(), 3, "{entries:?}");
        assert_eq!(entries["transaction"], "GET /orders");
        assert_eq!(entries["sample_rate"], "0.25");
        assert_eq!(sentry_baggage("other=1,sentry"), None);
        assert_eq!(percent_decode("%e2%9c%93%2"), "✓%2");
    }

    fn trace_from(trace: &str, span: &str) -> IncomingTrace {
        IncomingTrace {
            trace_id: parse_trace_id(trace).expect("trace"),
            parent_span_id: parse_span_id(span).expect("span"),
            sampled: None,
        }
    }
}
