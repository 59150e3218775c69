//! Captured field values: what a `tracing` visitor records, owned so it can leave the
//! calling thread.

use std::error::Error;
use std::fmt;

use serde_json::Value;
use tracing::field::{Field, Visit};

use crate::capture::{bounded_str, debug_string};
use crate::errors::{capture_chain, CapturedError};

/// One recorded field value, kept typed so numbers stay numbers in Sentry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FieldValue {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

impl FieldValue {
    pub(crate) fn to_json(&self) -> Value {
        match self {
            FieldValue::Str(s) => Value::String(s.clone()),
            FieldValue::I64(v) => Value::from(*v),
            FieldValue::U64(v) => Value::from(*v),
            FieldValue::F64(v) => Value::from(*v),
            FieldValue::Bool(v) => Value::Bool(*v),
        }
    }

    /// The value as tag or user-context text.
    pub(crate) fn to_text(&self) -> String {
        match self {
            FieldValue::Str(s) => s.clone(),
            FieldValue::I64(v) => v.to_string(),
            FieldValue::U64(v) => v.to_string(),
            FieldValue::F64(v) => v.to_string(),
            FieldValue::Bool(v) => v.to_string(),
        }
    }
}

/// Records an event's fields: the message separately, errors as chains,
/// everything else as named values.
#[derive(Default)]
pub(crate) struct FieldRecorder {
    pub(crate) message: Option<String>,
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    pub(crate) errors: Vec<(&'static str, Vec<CapturedError>)>,
}

impl FieldRecorder {
    fn push(&mut self, field: &Field, value: FieldValue) {
        if field.name() == "message" {
            // Moved, not copied: the message is most events' longest text.
            self.message = Some(match value {
                FieldValue::Str(s) => s,
                other => other.to_text(),
            });
        } else {
            self.fields.push((field.name(), value));
        }
    }
}

impl Visit for FieldRecorder {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, FieldValue::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, FieldValue::U64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, FieldValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, FieldValue::Str(bounded_str(value)));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.errors.push((field.name(), capture_chain(value)));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, FieldValue::Str(debug_string(value)));
    }
}
