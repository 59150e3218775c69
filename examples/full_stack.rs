//! fmt + error reports (Sentry) + traces over OTLP (Tempo) + logs (Loki) in one
//! subscriber, all configured from the environment, each one optional:
//!
//! ```text
//! SENTRY_DSN=...                                        # error reports, else off
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://tempo:4318         # traces, else off
//! LOKI_URL=http://loki:3100                             # logs, else off
//! cargo run --example full_stack --features opentelemetry
//! ```
//!
//! A request's Sentry report, its Tempo trace and its Loki lines share one trace id
//! (`link_trace`), carry the tenant, and the Loki line after an error names the Sentry
//! event id. One scrubbing policy covers every sink: fmt, Tempo and Loki are wrapped in
//! `Scrubbed` with the compiled rules of the Sentry configuration, so the bearer token,
//! email and card number logged below reach none of them.

use std::time::Duration;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::{SdkTracerProvider, Tracer};
use tracing::{error, info, info_span, warn};
use tracing_error_reports::scrub::ScrubLayerExt;
use tracing_subscriber::prelude::*;

/// The OTLP/HTTP exporter to Tempo, if `OTEL_EXPORTER_OTLP_ENDPOINT` is set and valid.
/// A generic function, so the layer fits whatever subscriber it is added to.
fn tempo<S>() -> (
    Option<tracing_opentelemetry::OpenTelemetryLayer<S, Tracer>>,
    Option<SdkTracerProvider>,
)
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let Ok(endpoint) = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT") else {
        eprintln!("OTEL_EXPORTER_OTLP_ENDPOINT not set: traces off");
        return (None, None);
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", endpoint.trim_end_matches('/')))
        .with_timeout(Duration::from_secs(5))
        .build();
    match exporter {
        Ok(exporter) => {
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .build();
            let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("full_stack"));
            (Some(layer), Some(provider))
        }
        Err(err) => {
            eprintln!("OTLP exporter not started ({err}): traces off");
            (None, None)
        }
    }
}

/// The Loki layer and its background task, if `LOKI_URL` is set and valid.
fn loki() -> Option<(
    tracing_loki::Layer,
    tracing_loki::BackgroundTaskController,
    tracing_loki::BackgroundTask,
)> {
    let url = std::env::var("LOKI_URL").ok().or_else(|| {
        eprintln!("LOKI_URL not set: Loki off");
        None
    })?;
    let url = tracing_loki::url::Url::parse(&url)
        .map_err(|err| eprintln!("LOKI_URL is invalid ({err}): Loki off"))
        .ok()?;
    tracing_loki::builder()
        .label("service", "full_stack_example")
        .and_then(|b| b.build_controller_url(url))
        .map_err(|err| eprintln!("Loki layer not started ({err}): Loki off"))
        .ok()
}

fn handle_request(tenant: &str) {
    let span = info_span!(
        "request",
        tenant_id = tenant,
        customer_email = "jane.doe@example.com",
        trace_id = tracing::field::Empty
    );
    let trace_id = tracing_error_reports::link_trace(&span);
    if let Some(trace_id) = &trace_id {
        // What an operator would paste into Tempo (CI checks it against a real collector).
        println!("request of {tenant}: trace_id {trace_id}");
    }
    let _entered = span.enter();
    info!(
        route = "/checkout",
        authorization = "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "checkout started"
    );
    error!(card = "4111 1111 1111 1111", "payment declined");
    if let Some(event_id) = tracing_error_reports::last_event_id() {
        warn!(sentry_event_id = %event_id, ?trace_id, "reported to Sentry");
    }
}

fn main() {
    let config = tracing_error_reports::Config::builder()
        .default_release(tracing_error_reports::release_name!())
        .with_env()
        .build_lenient();
    // The rules Sentry reports are scrubbed with, compiled once, for every other sink.
    let scrubber = config.scrubber();
    let (error_reports, guard) = tracing_error_reports::init(config);
    let (otel, provider) = tempo();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime for the Loki task");
    let (loki_layer, loki_controller) = match loki() {
        Some((layer, controller, task)) => {
            runtime.spawn(task);
            (Some(layer), Some(controller))
        }
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO),
        )
        .with(error_reports)
        .with(otel)
        .with(loki_layer)
        // Scrubbed once, at the entry: every layer above sees only scrubbed values.
        .scrubbed(&scrubber)
        .init();

    for tenant in ["acme", "initech"] {
        handle_request(tenant);
    }

    // Shut down in order, each with a bound: traces, logs, then error reports.
    if let Some(provider) = provider {
        let _ = provider.shutdown_with_timeout(Duration::from_secs(5));
    }
    if let Some(controller) = loki_controller {
        runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(5), controller.shutdown()).await;
        });
    }
    println!("error reporting: {:?}", guard.status());
    drop(guard);
}
