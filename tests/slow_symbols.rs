//! A slow symbolizer (a debug build's first lookup, a cold disk) neither holds up other
//! reports nor costs a report its frames, and a flush still sends it. (Own test binary:
//! the panic hook and the lookup delay are process-wide.)

mod common;

use std::time::Duration;

use common::{harness, tag, WAIT};
use sentry::protocol::Event;
use tracing::{error, info_span};
use tracing_error_reports::testing::slow_symbol_lookups;
use tracing_subscriber::prelude::*;

fn tenant_of<'a>(event: &'a Event<'static>) -> Option<&'a str> {
    tag(event, "tenant_id")
}

/// The panic's frames with a function name (none when sent with addresses only: each
/// frame an address and `<unknown>`).
fn named_frames(event: &Event<'static>) -> usize {
    event
        .exception
        .values
        .iter()
        .filter_map(|e| e.stacktrace.as_ref())
        .flat_map(|s| s.frames.iter())
        .filter(|f| f.function.as_deref().is_some_and(|f| f != "<unknown>"))
        .count()
}

fn frames(event: &Event<'static>) -> usize {
    event
        .exception
        .values
        .iter()
        .filter_map(|e| e.stacktrace.as_ref())
        .map(|s| s.frames.len())
        .sum()
}

#[inline(never)]
fn panic_in_tenant(tenant: &str) {
    let _request = info_span!("request", tenant_id = tenant).entered();
    let result = std::panic::catch_unwind(|| panic!("ledger for {tenant} is corrupt"));
    assert!(result.is_err());
}

#[test]
fn a_report_waiting_for_symbols_holds_up_no_other_and_keeps_its_frames_or_goes_at_a_flush() {
    std::panic::set_hook(Box::new(|info| {
        if !info.to_string().contains("is corrupt") {
            eprintln!("{info}");
        }
    }));
    let h = harness(|b| b.install_panic_hook(true).attach_stacktrace(false));
    let subscriber = tracing_subscriber::registry().with(h.layer);
    tracing::subscriber::with_default(subscriber, || {
        // Far longer than the worker's first wait for symbols.
        slow_symbol_lookups(Duration::from_secs(3));
        panic_in_tenant("slow");
        {
            let _request = info_span!("request", tenant_id = "other").entered();
            error!("payment declined");
        }
        // The other tenant's report, queued after the panic, is not held up by it.
        let first = h.receiver.wait_for_events(1, WAIT);
        assert_eq!(first.len(), 1);
        assert_eq!(tenant_of(&first[0]), Some("other"), "{first:#?}");
        // The panic's report follows with its frames resolved.
        let both = h.receiver.wait_for_events(2, WAIT);
        assert_eq!(both.len(), 2);
        assert_eq!(tenant_of(&both[1]), Some("slow"));
        assert!(named_frames(&both[1]) > 0, "{:#?}", both[1].exception);
        assert!(both[1]
            .exception
            .values
            .iter()
            .any(|e| e
                .stacktrace
                .as_ref()
                .is_some_and(|s| s.frames.iter().any(|f| f
                    .function
                    .as_deref()
                    .is_some_and(|f| f.contains("panic_in_tenant"))))));

        // A flush does not wait out a lookup slower than its timeout: the report goes
        // with its addresses, nothing is lost.
        slow_symbol_lookups(Duration::from_secs(30));
        panic_in_tenant("flushed");
        assert!(h.guard.flush(Duration::from_secs(2)), "flushed in time");
        let all = h.receiver.wait_for_events(3, WAIT);
        assert_eq!(all.len(), 3);
        let flushed = &all[2];
        assert_eq!(tenant_of(flushed), Some("flushed"));
        assert!(frames(flushed) > 0, "the stack's addresses");
        assert_eq!(named_frames(flushed), 0, "not resolved within the flush");

        // A panic storm while every lookup takes 1 s (and the symbols thread is still
        // busy): the worker does not wait for each stack in turn (40 x its 0.2 s first
        // wait would outlast a 5 s flush); every report and a later one of another
        // tenant arrive within that flush.
        slow_symbol_lookups(Duration::from_secs(1));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .expect("runtime");
        let dispatch = tracing::dispatcher::get_default(Clone::clone);
        runtime.block_on(async {
            use tracing::Instrument as _;
            let tasks: Vec<_> = (0..40)
                .map(|i| {
                    let span = info_span!("request", tenant_id = %format!("storm{}", i % 4));
                    let dispatch = dispatch.clone();
                    tokio::spawn(async move {
                        let _default = tracing::dispatcher::set_default(&dispatch);
                        async move {
                            tokio::task::yield_now().await;
                            panic!("ledger for storm {i} is corrupt");
                        }
                        .instrument(span)
                        .await
                    })
                })
                .collect();
            for task in tasks {
                assert!(task.await.is_err());
            }
        });
        {
            let _request = info_span!("request", tenant_id = "quiet").entered();
            error!("quiet tenant's error");
        }
        assert!(h.guard.flush(Duration::from_secs(5)), "flushed in time");
        let all = h.receiver.wait_for_events(44, WAIT);
        let storm = all
            .iter()
            .filter(|e| tenant_of(e).is_some_and(|t| t.starts_with("storm")))
            .count();
        assert_eq!(storm, 40);
        assert!(all.iter().any(|e| tenant_of(e) == Some("quiet")));
        slow_symbol_lookups(Duration::ZERO);
    });
}
