//! An error report as Sentry's event, assembled from its parts.

use sentry::protocol::{self, Event};

use super::breadcrumbs::{breadcrumb, sentry_level};
use super::pending::{EventDetails, Occurrence, PendingReport};
use super::{contexts, exception, tags};
use crate::errors;
use crate::transaction::TRACE_HEADER_CONTEXT;

impl PendingReport {
    /// The report as Sentry's event (on the worker).
    pub(crate) fn into_event(self) -> Event<'static> {
        let PendingReport {
            event_id,
            timestamp,
            occurrence,
            scope,
        } = self;
        let mut event = Event {
            event_id,
            timestamp,
            level: protocol::Level::Fatal,
            transaction: scope.transaction.as_deref().map(str::to_owned),
            ..Default::default()
        };
        let span_fields = scope.spans.iter().map(|span| span.fields.as_slice());
        let trace_id = scope.trace.map(|(trace_id, _)| trace_id);
        match occurrence {
            Occurrence::Event(details) => {
                let EventDetails {
                    metadata,
                    log_source,
                    message,
                    mut fields,
                    mut errors,
                    stacktrace,
                    suppressed,
                } = details;
                event.level = sentry_level(metadata.level());
                event.logger = Some(match &log_source {
                    Some(source) => source.target.clone(),
                    None => metadata.target().to_owned(),
                });
                if log_source.is_some() {
                    // tracing-log's own fields; their content is the logger and location.
                    fields.retain(|(name, _)| !name.starts_with("log."));
                }
                event.tags = tags::tags(
                    std::iter::once(fields.as_slice()).chain(span_fields),
                    &scope.identity,
                    trace_id,
                );
                exception::take_error_fields(&mut fields, &mut errors);
                let mut exceptions = exception::chains(errors);
                if let Some(backtrace) = stacktrace {
                    exception::attach_stacktrace(&mut event, &mut exceptions, backtrace);
                }
                // ANSI codes and a report's backtrace or help are never the message.
                let message = message.map(|message| errors::message_text(&message));
                event.message = exception::title(message, &exceptions, &fields)
                    .or_else(|| Some(metadata.name().to_owned()));
                event.exception = exceptions.into();
                contexts::insert_fields(&mut event.contexts, &fields, suppressed);
                contexts::insert_event_location(&mut event.contexts, metadata, log_source.as_ref());
            }
            Occurrence::Panic(mut panic) => {
                panic.message = errors::message_text(&panic.message);
                event.tags = tags::tags(span_fields, &scope.identity, trace_id);
                event.message = Some(panic.message.clone());
                event.exception = vec![exception::panic(&mut panic)].into();
                contexts::insert_panic_location(&mut event.contexts, &panic);
            }
            Occurrence::RequestContext => {
                event.tags = tags::tags(span_fields, &scope.identity, trace_id);
            }
        }
        event.user = scope.identity.user();
        event.request = scope.http_request.as_deref().cloned();
        if let Some((trace_id, span_id)) = scope.trace {
            contexts::insert_trace(
                &mut event.contexts,
                trace_id,
                span_id,
                scope.transaction.as_deref(),
            );
        }
        contexts::insert_spans(&mut event.contexts, &scope.spans);
        if let Some(header) = &scope.trace_header {
            event
                .contexts
                .insert(TRACE_HEADER_CONTEXT.to_owned(), header.context());
        }
        event.breadcrumbs = scope
            .breadcrumbs
            .iter()
            .map(breadcrumb)
            .collect::<Vec<_>>()
            .into();
        if let Some(hub) = scope.hub {
            hub.fill(&mut event);
        }
        event
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sentry::protocol::{Context, Value};

    use super::*;
    use crate::errors::CapturedError;
    use crate::fields::FieldValue;
    use crate::request::{ScopeSnapshot, SpanSnapshot};
    use crate::scrub::{ScrubRules, Scrubber, UNSCRUBBABLE};
    use crate::wire::{FIELDS_CONTEXT, SPANS_CONTEXT};

    /// A callsite of this file, for the reports below.
    fn callsite() -> &'static tracing::Metadata<'static> {
        struct Callsite;
        impl tracing::callsite::Callsite for Callsite {
            fn set_interest(&self, _: tracing::subscriber::Interest) {}
            fn metadata(&self) -> &tracing::Metadata<'_> {
                &METADATA
            }
        }
        static CALLSITE: Callsite = Callsite;
        static METADATA: tracing::Metadata<'static> = tracing::Metadata::new(
            "event report/event.rs",
            "billing",
            tracing::Level::ERROR,
            Some(file!()),
            Some(line!()),
            Some(module_path!()),
            tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
            tracing::metadata::Kind::EVENT,
        );
        &METADATA
    }

    fn details(fields: Vec<(&'static str, FieldValue)>) -> EventDetails {
        EventDetails {
            metadata: callsite(),
            log_source: None,
            message: Some("charge declined".into()),
            fields,
            errors: Vec::new(),
            stacktrace: None,
            suppressed: 0,
        }
    }

    fn report(fields: Vec<(&'static str, FieldValue)>, spans: Vec<SpanSnapshot>) -> PendingReport {
        PendingReport::new(
            Occurrence::Event(details(fields)),
            ScopeSnapshot {
                spans,
                ..Default::default()
            },
        )
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Str(s.to_owned())
    }

    #[test]
    fn reserved_keys_and_span_names_survive_the_scrubber() {
        let span = SpanSnapshot {
            name: "type",
            fields: Arc::new(vec![("type", text("api")), ("tags.region", text("eu"))]),
        };
        let event = report(
            vec![
                ("type", text("card_declined")),
                ("value", FieldValue::U64(42)),
                ("tags.team", text("billing")),
                ("tags.region", text("us")),
            ],
            vec![span],
        )
        .into_event();
        let scrubbed = Scrubber::new(&ScrubRules::default())
            .expect("default rules")
            .scrub_event(event);
        assert_eq!(scrubbed.message.as_deref(), Some("charge declined"));
        assert_ne!(scrubbed.message.as_deref(), Some(UNSCRUBBABLE));
        assert_eq!(
            scrubbed.tags.get("team").map(String::as_str),
            Some("billing")
        );
        // The event's own tag wins over the span's.
        assert_eq!(scrubbed.tags.get("region").map(String::as_str), Some("us"));
        let Some(Context::Other(fields)) = scrubbed.contexts.get(FIELDS_CONTEXT) else {
            panic!("{:?}", scrubbed.contexts)
        };
        assert_eq!(fields.get("type_"), Some(&Value::from("card_declined")));
        assert_eq!(fields.get("value"), Some(&Value::from(42)));
        assert!(!fields.contains_key("tags.team"));
        let Some(Context::Other(spans)) = scrubbed.contexts.get(SPANS_CONTEXT) else {
            panic!("{:?}", scrubbed.contexts)
        };
        // Inside a span's entry too: one spelling of a field across the report.
        assert_eq!(
            spans.get("type_"),
            Some(&serde_json::json!({"type_": "api"}))
        );
    }

    #[test]
    fn a_report_without_message_or_error_is_titled_by_its_fields() {
        let event = |details: EventDetails| {
            PendingReport::new(Occurrence::Event(details), ScopeSnapshot::default()).into_event()
        };
        let mut untitled = details(vec![("order", FieldValue::U64(4000))]);
        untitled.message = None;
        assert_eq!(event(untitled).message.as_deref(), Some("order=4000"));
        let mut blank = details(Vec::new());
        blank.message = Some("  ".into());
        blank.errors = vec![(
            "error",
            vec![CapturedError {
                type_name: "Error".into(),
                message: "disk full".into(),
            }],
        )];
        assert_eq!(event(blank).message.as_deref(), Some("disk full"));
        let mut nothing = details(Vec::new());
        nothing.message = None;
        assert_eq!(
            event(nothing).message.as_deref(),
            Some("event report/event.rs")
        );
    }
}
