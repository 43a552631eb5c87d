//! Telemetry: a weather agent whose spans follow the OpenTelemetry GenAI semantic conventions
//! (`invoke_agent weather-bot` → `chat {model}`, `execute_tool get_weather`), exported through
//! `tracing-opentelemetry` and the OpenTelemetry SDK.
//!
//! ```text
//! cargo run --example otel                 # offline: spans printed as a tree
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 cargo run --example otel
//!                                                             # to any OTLP/HTTP collector (Jaeger, Tempo, ...)
//! TOOLSMITH_CAPTURE_CONTENT=1 cargo run --example otel   # prompts and results too
//! ```

mod common;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry::{KeyValue, Value};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use toolsmith::Agent;
use tracing_subscriber::layer::SubscriberExt;

/// The current weather in a city.
#[toolsmith::tool]
fn get_weather(city: String) -> String {
    format!("Sunny in {city}, 21 °C")
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let resource = Resource::builder().with_service_name("toolsmith-otel-example").build();
    let otlp_endpoint = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|value| !value.is_empty());
    // With a collector: the OTLP/HTTP exporter (it reads OTEL_EXPORTER_OTLP_* itself). Without one: the SDK's
    // in-memory exporter, printed below, so the example shows the same pipeline offline.
    let memory = InMemorySpanExporter::default();
    let provider = match &otlp_endpoint {
        Some(_) => SdkTracerProvider::builder()
            .with_resource(resource)
            .with_batch_exporter(opentelemetry_otlp::SpanExporter::builder().with_http().build()?)
            .build(),
        None => SdkTracerProvider::builder().with_resource(resource).with_simple_exporter(memory.clone()).build(),
    };
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("toolsmith")))
        .with(tracing_subscriber::filter::LevelFilter::INFO);
    tracing::subscriber::set_global_default(subscriber)?;

    let endpoint = common::endpoint().await?;
    let capture = std::env::var("TOOLSMITH_CAPTURE_CONTENT").is_ok_and(|value| value == "1");
    let agent = Agent::builder(endpoint.client.clone(), endpoint.model.clone())
        .name("weather-bot")
        .instructions("You answer weather questions with the get_weather tool.")
        .capture_content(capture)
        .tool(get_weather)
        .build();
    let result = agent.run("What is the weather in Paris?").await?;
    println!("{}\n", result.output);

    provider.force_flush()?;
    match otlp_endpoint {
        Some(endpoint) => println!("spans exported to {endpoint}"),
        None => print_tree(&memory.get_finished_spans()?),
    }
    provider.shutdown()?;
    Ok(())
}

/// Prints the spans as a tree with their `gen_ai.*` attributes.
fn print_tree(spans: &[SpanData]) {
    fn print(spans: &[SpanData], span: &SpanData, depth: usize) {
        let attributes: Vec<String> = span
            .attributes
            .iter()
            .filter(|KeyValue { key, .. }| key.as_str().starts_with("gen_ai.") || key.as_str() == "error.type")
            .map(|KeyValue { key, value, .. }| format!("{key}={}", short(value)))
            .collect();
        println!("{}{}  [{}]", "  ".repeat(depth), span.name, attributes.join(", "));
        let mut children: Vec<&SpanData> =
            spans.iter().filter(|child| child.parent_span_id == span.span_context.span_id()).collect();
        children.sort_by_key(|child| child.start_time);
        for child in children {
            print(spans, child, depth + 1);
        }
    }
    let ids: Vec<_> = spans.iter().map(|span| span.span_context.span_id()).collect();
    for root in spans.iter().filter(|span| !ids.contains(&span.parent_span_id)) {
        print(spans, root, 0);
    }
}

fn short(value: &Value) -> String {
    let text = value.as_str();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text.into_owned()
    }
}
