//! An event's exception chain and title: errors logged as `&dyn Error` or as text, a
//! panic, the stack trace of the code that logged (`attach_stacktrace`).

use sentry::protocol::{self, Event, Exception, Mechanism};

use super::pending::PanicDetails;
use super::symbols::{self, Stack};
use crate::errors::{chain_from_text, is_error_field, CapturedError};
use crate::fields::FieldValue;

/// Moves errors logged as text (`error = %e`, `?err`, `#[instrument(err)]`) out of
/// `fields` into `errors`: an exception chain like an `&dyn Error` field's.
pub(super) fn take_error_fields(
    fields: &mut Vec<(&'static str, FieldValue)>,
    errors: &mut Vec<(&'static str, Vec<CapturedError>)>,
) {
    fields.retain(|(name, value)| match value {
        // `error = ?err` of an `Option` holding none (warp's trace filter logs its 5xx
        // line so): no error, a field like any other.
        FieldValue::Str(text) if is_error_field(name) && text.trim() == "None" => true,
        FieldValue::Str(text) if is_error_field(name) => {
            // `?err` of an `Option` holding one: the error is inside.
            let text = text
                .strip_prefix("Some(")
                .and_then(|inner| inner.strip_suffix(')'))
                .filter(|inner| balanced(inner))
                .unwrap_or(text);
            errors.push((*name, chain_from_text(text)));
            false
        }
        _ => true,
    });
}

/// Whether `text`'s parentheses pair up (`Some(a) and (b)` is not one `Some(..)`).
fn balanced(text: &str) -> bool {
    let mut depth = 0_usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0
}

/// The exceptions of every logged error's chain. Sentry lists the root cause first and
/// the error that was logged (index 0) last; the logged one carries the mechanism.
/// The texts are moved, not copied.
pub(super) fn chains(errors: Vec<(&'static str, Vec<CapturedError>)>) -> Vec<Exception> {
    errors
        .into_iter()
        .flat_map(|(_, chain)| {
            chain
                .into_iter()
                .enumerate()
                .rev()
                .map(|(i, err)| Exception {
                    ty: err.type_name,
                    value: Some(err.message),
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
        stacktrace: panic.stacktrace.take().and_then(panic_stacktrace),
        mechanism: Some(Mechanism {
            ty: "panic".into(),
            handled: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Frames of std's panic entry: the panicking code is the frame just outside the
/// outermost of them (`panic!`, `unwrap`, `assert_eq!` all enter through one).
const PANIC_ENTRY: [&str; 7] = [
    "core::panicking::",
    "std::panicking::begin_panic",
    "std::panicking::rust_panic_with_hook",
    "std::panicking::panic_with_hook",
    "std::panicking::panic_handler",
    "std::panicking::begin_panic_handler",
    "std::panic::panic_any",
];

/// A panic's stack, resolved, ending at the code that panicked: without std's panic
/// machinery and this crate's hook (which Sentry would take for the crashing frames and
/// group by). Sentry lists the innermost frame last.
fn panic_stacktrace(mut stack: Stack) -> Option<protocol::Stacktrace> {
    symbols::settle_within(&mut stack, symbols::FIRST_WAIT);
    let mut stacktrace = sentry_backtrace::backtrace_to_stacktrace(&stack.backtrace)?;
    let entry = stacktrace.frames.iter().position(|frame| {
        frame.function.as_deref().is_some_and(|f| {
            let f = f.trim_start_matches('<');
            f.contains("rust_begin_unwind") || PANIC_ENTRY.iter().any(|m| f.starts_with(m))
        })
    });
    match entry {
        Some(entry) => stacktrace.frames.truncate(entry),
        // No symbols for std: at least not the hook's own frames.
        None => trim_dispatch(&mut stacktrace),
    }
    (!stacktrace.frames.is_empty()).then_some(stacktrace)
}

/// Marks the frames of an event's stack traces in-app or not, as Sentry's SDKs do
/// (`sentry_backtrace::process_event_stacktrace`: `in_app_include`, `in_app_exclude`,
/// then std, tokio and the like never): the service's own code is what Sentry's grouping
/// and its UI's stack trace start from.
pub(crate) fn mark_in_app(event: &mut Event<'static>, options: &sentry::ClientOptions) {
    let exceptions = event.exception.values.iter_mut();
    let stacks = exceptions.filter_map(|e| e.stacktrace.as_mut()).chain(
        event
            .threads
            .values
            .iter_mut()
            .filter_map(|t| t.stacktrace.as_mut()),
    );
    for stacktrace in stacks {
        // Frames whose file says whose they are, before the prefixes (which need function
        // paths, absent from a line-tables-only build's `{async_fn#0}`); else, with no frame
        // matching a prefix, sentry-backtrace marks every undecided frame in-app: hyper,
        // warp, std and libc frames of a panicking handler were.
        for frame in &mut stacktrace.frames {
            if frame.in_app.is_none() {
                frame.in_app = frame.abs_path.as_deref().and_then(placed_by_file);
            }
        }
        sentry_backtrace::process_event_stacktrace(stacktrace, options);
        // Frames no prefix decided (an inlined frame of a line-tables-only build is named
        // `{closure#0}`, without its path) are the service's when they are in a file of
        // its frames, and std's when in rustc's own sources (`/rustc/<commit>/library`).
        let own_files: Vec<String> = stacktrace
            .frames
            .iter()
            .filter(|frame| frame.in_app == Some(true))
            .filter_map(|frame| frame.abs_path.clone())
            .collect();
        for frame in &mut stacktrace.frames {
            if frame.in_app.is_none() {
                frame.in_app = frame.abs_path.as_ref().and_then(|path| {
                    if own_files.contains(path) {
                        Some(true)
                    } else {
                        path.starts_with("/rustc/").then_some(false)
                    }
                });
            }
        }
    }
}

/// Whether a frame in `path` is never the service's: Rust's own sources
/// (`/rustc/<commit>/library`), a dependency's (Cargo's registry or git checkouts), or
/// not Rust at all (libc's `./misc/../sysdeps/.../clone3.S`). `None`: the prefixes decide.
fn placed_by_file(path: &str) -> Option<bool> {
    let path = path.replace('\\', "/");
    let foreign = path.starts_with("/rustc/")
        || path.contains("/registry/src/")
        || path.contains("/.cargo/git/checkouts/")
        || !path.ends_with(".rs");
    foreign.then_some(false)
}

/// As Sentry's `attach_stacktrace`: the caller's stack on the logged error, else as the
/// thread's.
pub(super) fn attach_stacktrace(
    event: &mut Event<'static>,
    exceptions: &mut [Exception],
    stack: Stack,
) {
    let Some(stacktrace) = caller_stacktrace(stack) else {
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
fn caller_stacktrace(mut stack: Stack) -> Option<protocol::Stacktrace> {
    symbols::settle_within(&mut stack, symbols::FIRST_WAIT);
    let mut stacktrace = sentry_backtrace::backtrace_to_stacktrace(&stack.backtrace)?;
    trim_dispatch(&mut stacktrace);
    (!stacktrace.frames.is_empty()).then_some(stacktrace)
}

/// Pops the innermost frames of the dispatch to the layer (or of the hook).
fn trim_dispatch(stacktrace: &mut protocol::Stacktrace) {
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
    // An inlined frame of a line-tables-only build is named `{closure#0}`, without its
    // path: its source file tells (`tracing-0.1.44/src/macros.rs`).
    const DISPATCH_CRATES: [&str; 6] = [
        "tracing",
        "tracing-core",
        "tracing-subscriber",
        "tracing-error-reports",
        "backtrace",
        "sentry-backtrace",
    ];
    while stacktrace.frames.last().is_some_and(|frame| {
        frame.function.as_deref().is_some_and(|f| {
            DISPATCH.iter().any(|m| f.contains(m))
                || GLUE
                    .iter()
                    .any(|m| f.trim_start_matches('<').starts_with(m))
        }) || frame.abs_path.as_deref().is_some_and(|path| {
            path.starts_with("/rustc/")
                || path.starts_with(OWN_SOURCES)
                || DISPATCH_CRATES
                    .iter()
                    .any(|name| in_crate_sources(path, name))
        })
    }) {
        stacktrace.frames.pop();
    }
}

/// This crate's sources where it was built (a path crate's are not remapped).
const OWN_SOURCES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/");

/// Whether `path` is in the sources of crate `name` as cargo lays them out
/// (`.../tracing-0.1.44/src/...`, or `tracing-0.1.44/src/...` with its paths trimmed).
fn in_crate_sources(path: &str, name: &str) -> bool {
    path.split('/').any(|part| {
        part.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(text: &str) -> (usize, Vec<String>) {
        let mut fields = vec![("error", FieldValue::Str(text.to_owned()))];
        let mut errors = Vec::new();
        take_error_fields(&mut fields, &mut errors);
        let values = errors
            .iter()
            .flat_map(|(_, chain)| chain.iter().map(|e| e.message.clone()))
            .collect();
        (fields.len(), values)
    }

    #[test]
    fn frames_of_std_dependencies_and_c_are_never_in_app_whatever_their_names() {
        // A line-tables-only build: no function path matches the crate's prefix.
        let frame = |function: &str, path: &str| protocol::Frame {
            function: Some(function.to_owned()),
            abs_path: Some(path.to_owned()),
            ..Default::default()
        };
        let mut event = Event::default();
        event.threads.values.push(protocol::Thread {
            stacktrace: Some(protocol::Stacktrace {
                frames: vec![
                    frame("clone3", "./misc/../sysdeps/unix/sysv/linux/x86_64/clone3.S"),
                    frame("{closure#0}", "/rustc/59807616e/library/std/src/rt.rs"),
                    frame(
                        "{async_fn#0}",
                        "/home/u/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/hyper-1.8.1/src/proto/h1/dispatch.rs",
                    ),
                    frame("{async_fn#0}", "src/orders.rs"),
                ],
                ..Default::default()
            }),
            ..Default::default()
        });
        let mut options = sentry::ClientOptions::default();
        options.in_app_include = vec!["warpsvc"];
        mark_in_app(&mut event, &options);
        let marks: Vec<Option<bool>> = event.threads.values[0]
            .stacktrace
            .as_ref()
            .map(|s| s.frames.iter().map(|f| f.in_app).collect())
            .unwrap_or_default();
        assert_eq!(marks, [Some(false), Some(false), Some(false), Some(true)]);
    }

    #[test]
    fn an_option_of_an_error_is_its_error_or_none() {
        assert_eq!(taken("None"), (1, vec![]));
        assert_eq!(
            taken("Some(Rejection(LedgerDown))"),
            (0, vec!["Rejection(LedgerDown)".to_owned()])
        );
        assert_eq!(
            taken("Some(a) and (b)"),
            (0, vec!["Some(a) and (b)".to_owned()])
        );
    }
}
