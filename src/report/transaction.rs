//! A finished request as Sentry's transaction.

use std::borrow::Cow;

use sentry::protocol::{Context, TraceContext, Transaction, Value};

use super::tags;
use crate::transaction::{FinishedTransaction, TRACE_HEADER_CONTEXT};

impl FinishedTransaction {
    pub(crate) fn into_transaction(
        self,
        release: Option<Cow<'static, str>>,
        environment: Cow<'static, str>,
    ) -> Transaction<'static> {
        let mut tx = Transaction {
            name: Some(self.name.to_string()),
            release,
            environment: Some(environment),
            start_timestamp: self.started,
            timestamp: Some(self.finished),
            spans: self.spans,
            user: self.identity.user(),
            tags: tags::tags(
                [self.fields.as_slice()],
                &self.identity,
                Some(self.trace_id),
            ),
            ..Default::default()
        };
        let mut trace = TraceContext {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            op: Some(self.op.to_string()),
            status: Some(self.status),
            // Not a context's top level: no key is reserved here.
            data: self
                .fields
                .iter()
                .filter(|(name, _)| !tags::is_tag_field(name))
                .map(|(name, value)| ((*name).to_owned(), value.to_json()))
                .collect(),
            ..Default::default()
        };
        if self.dropped_spans > 0 {
            trace
                .data
                .insert("dropped_spans".into(), Value::from(self.dropped_spans));
        }
        tx.contexts
            .insert("trace".to_owned(), Context::Trace(Box::new(trace)));
        tx.contexts
            .insert(TRACE_HEADER_CONTEXT.to_owned(), self.trace_header.context());
        tx
    }
}
