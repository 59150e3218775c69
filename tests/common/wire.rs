//! Decoders of the real wire formats: OTLP/HTTP (as Tempo receives it) and Loki pushes.
#![allow(dead_code)]

use loki_api::prost::Message as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as OtlpValue;
use prost::Message as _;
use tracing_error_reports::testing::Received;

/// A small runtime for tracing-loki's background task.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// An OTLP/HTTP protobuf exporter to `addr` (as to Tempo).
pub fn otlp_exporter(addr: impl std::fmt::Display) -> opentelemetry_otlp::SpanExporter {
    use opentelemetry_otlp::WithExportConfig;
    opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("http://{addr}/v1/traces"))
        .with_timeout(std::time::Duration::from_millis(500))
        .build()
        .expect("otlp exporter")
}

/// A tracer provider exporting to `addr` in batches, on its own thread (not inside the
/// runtime a request runs on), as services set up Tempo.
pub fn batched_provider(
    addr: impl std::fmt::Display,
) -> opentelemetry_sdk::trace::SdkTracerProvider {
    opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(otlp_exporter(addr))
        .build()
}

/// A tracing-loki layer pushing to `addr`, its controller and its background task.
pub fn loki(
    addr: impl std::fmt::Display,
    service: &str,
) -> (
    tracing_loki::Layer,
    tracing_loki::BackgroundTaskController,
    tracing_loki::BackgroundTask,
) {
    tracing_loki::builder()
        .label("service", service)
        .and_then(|b| {
            b.build_controller_url(
                tracing_loki::url::Url::parse(&format!("http://{addr}/")).expect("url"),
            )
        })
        .expect("loki layer")
}

/// A span as an OTLP receiver (Tempo) decodes it.
#[derive(Debug)]
pub struct OtlpSpan {
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    /// Empty for a root span.
    pub parent_span_id: String,
    pub attributes: Vec<(String, String)>,
}

pub fn otlp_spans(received: &[Received]) -> Vec<OtlpSpan> {
    let mut spans = Vec::new();
    for r in received.iter().filter(|r| r.path == "/v1/traces") {
        let request = ExportTraceServiceRequest::decode(r.body.as_slice()).expect("OTLP protobuf");
        for span in request
            .resource_spans
            .into_iter()
            .flat_map(|rs| rs.scope_spans)
            .flat_map(|ss| ss.spans)
        {
            spans.push(OtlpSpan {
                name: span.name,
                trace_id: span.trace_id.iter().map(|b| format!("{b:02x}")).collect(),
                span_id: span.span_id.iter().map(|b| format!("{b:02x}")).collect(),
                parent_span_id: span
                    .parent_span_id
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect(),
                attributes: span
                    .attributes
                    .into_iter()
                    .filter_map(|kv| match kv.value.and_then(|v| v.value) {
                        Some(OtlpValue::StringValue(s)) => Some((kv.key, s)),
                        _ => None,
                    })
                    .collect(),
            });
        }
    }
    spans
}

/// Log lines as Loki decodes a push: raw snappy, then `logproto.PushRequest`.
pub fn loki_lines(received: &[Received]) -> Vec<(String, serde_json::Value)> {
    let mut lines = Vec::new();
    for r in received.iter().filter(|r| r.path == "/loki/api/v1/push") {
        let raw = snap::raw::Decoder::new()
            .decompress_vec(&r.body)
            .expect("raw snappy");
        let push = loki_api::logproto::PushRequest::decode(raw.as_slice()).expect("PushRequest");
        for stream in push.streams {
            for entry in stream.entries {
                let line = serde_json::from_str(&entry.line).expect("JSON line");
                lines.push((stream.labels.clone(), line));
            }
        }
    }
    lines
}
