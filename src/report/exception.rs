//! An event's exception chain and title: errors logged as `&dyn Error` or as text, a
//! panic, the stack trace of the code that logged (`attach_stacktrace`).

use sentry::protocol::{self, Event, Exception, Mechanism};

use super::pending::PanicDetails;
use crate::errors::{chain_from_text, is_error_field, CapturedError};
use crate::fields::FieldValue;

/// Moves errors logged as text (`error = %e`, `?err`, `#[instrument(err)]`) out of
/// `fields` into `errors`: an exception chain like an `&dyn Error` field's.
pub(super) fn take_error_fields(
    fields: &mut Vec<(&'static str, FieldValue)>,
    errors: &mut Vec<(&'static str, Vec<CapturedError>)>,
) {
    fields.retain(|(name, value)| match value {
        FieldValue::Str(text) if is_error_field(name) => {
            errors.push((*name, chain_from_text(text)));
            false
        }
        _ => true,
    });
}

/// The exceptions of every logged error's chain. Sentry lists the root cause first and
/// the error that was logged (index 0) last; the logged one carries the mechanism.
pub(super) fn chains(errors: &[(&'static str, Vec<CapturedError>)]) -> Vec<Exception> {
    errors
        .iter()
        .flat_map(|(_, chain)| {
            chain.iter().enumerate().rev().map(|(i, err)| Exception {
                ty: err.type_name.clone(),
                value: Some(err.message.clone()),
                mechanism: (i == 0).then(|| Mechanism {
                    ty: "tracing".into(),
                    handled: Some(true),
                    ..Default::default()
                }),
                ..Default::default()
            })
        })
        .collect()
}

/// A panic's exception, its stack resolved here (on the worker).
pub(super) fn panic(panic: &mut PanicDetails) -> Exception {
    Exception {
        ty: "panic".into(),
        value: Some(panic.message.clone()),
        stacktrace: panic.stacktrace.take().and_then(|mut bt| {
            bt.resolve();
            sentry_backtrace::backtrace_to_stacktrace(&bt)
        }),
        mechanism: Some(Mechanism {
            ty: "panic".into(),
            handled: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// As Sentry's `attach_stacktrace`: the caller's stack on the logged error, else as the
/// thread's.
pub(super) fn attach_stacktrace(
    event: &mut Event<'static>,
    exceptions: &mut [Exception],
    backtrace: backtrace::Backtrace,
) {
    let Some(stacktrace) = caller_stacktrace(backtrace) else {
        return;
    };
    match exceptions.last_mut() {
        Some(logged) if logged.stacktrace.is_none() => logged.stacktrace = Some(stacktrace),
        Some(_) => {}
        None => event.threads.values.push(protocol::Thread {
            stacktrace: Some(stacktrace),
            current: true,
            ..Default::default()
        }),
    }
}

/// The stack of the code that logged, resolved, without the frames of the dispatch to
/// the layer (Sentry lists the innermost frame last).
fn caller_stacktrace(mut backtrace: backtrace::Backtrace) -> Option<protocol::Stacktrace> {
    const DISPATCH: [&str; 6] = [
        "tracing_error_reports::",
        "tracing_subscriber::",
        "tracing_core::",
        "tracing::",
        "backtrace::",
        "sentry_backtrace::",
    ];
    // Standard-library frames in between (closures called through `FnOnce`, `Arc`).
    const GLUE: [&str; 3] = ["core::", "std::", "alloc::"];
    backtrace.resolve();
    let mut stacktrace = sentry_backtrace::backtrace_to_stacktrace(&backtrace)?;
    while stacktrace.frames.last().is_some_and(|frame| {
        frame.function.as_deref().is_some_and(|f| {
            DISPATCH.iter().any(|m| f.contains(m))
                || GLUE
                    .iter()
                    .any(|m| f.trim_start_matches('<').starts_with(m))
        })
    }) {
        stacktrace.frames.pop();
    }
    (!stacktrace.frames.is_empty()).then_some(stacktrace)
}

/// An error event's title, never empty: its message, else the logged error's text, else
/// its fields as `name=value` pairs (`None`: the caller falls back to the callsite name).
pub(super) fn title(
    message: Option<String>,
    exceptions: &[Exception],
    fields: &[(&'static str, FieldValue)],
) -> Option<String> {
    message
        .filter(|m| !m.trim().is_empty())
        .or_else(|| {
            exceptions
                .last()
                .and_then(|e| e.value.clone())
                .filter(|v| !v.trim().is_empty())
        })
        .or_else(|| {
            let pairs: Vec<String> = fields
                .iter()
                .map(|(name, value)| format!("{name}={}", value.to_text()))
                .collect();
            (!pairs.is_empty()).then(|| pairs.join(" "))
        })
}
