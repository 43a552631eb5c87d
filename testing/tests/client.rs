//! The crate's own client against the test model: a two-turn tool round, non-streamed then streamed, through
//! `TestServer::client()`. The validating server accepts the history the client writes.

use serde_json::json;
use toolsmith_core::tool::ToolDefinition;
use toolsmith_core::wire::{ChatRequest, Message};
use toolsmith_testing::TestServer;

fn weather() -> ToolDefinition {
    ToolDefinition::new(
        "get_weather",
        "Current weather for a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    )
}

#[tokio::test]
async fn tool_round_through_the_crate_client() {
    let server = TestServer::test_model().await.unwrap();
    let client = server.client();
    let mut request = ChatRequest::new("test-model", vec![Message::user("Weather in Paris and in Rome?")]);
    request.tools = vec![weather()];

    let response = client.chat(&request).await.unwrap();
    let message = response.choices[0].message.clone();
    let cities: Vec<&str> = message.tool_calls.iter().map(|call| call.function.arguments.as_str()).collect();
    assert_eq!(cities, [r#"{"city":"Paris"}"#, r#"{"city":"Rome"}"#]);
    let results: Vec<Message> =
        message.tool_calls.iter().map(|call| Message::tool(call.id.clone(), "18 °C and sunny")).collect();
    request.messages.push(Message::Assistant(message));
    request.messages.extend(results);

    let completion = client.chat_stream(&request).await.unwrap().completion().await.unwrap();
    assert_eq!(
        completion.message.text(),
        "Here is what I found:\nget_weather: 18 °C and sunny\nget_weather: 18 °C and sunny"
    );
    assert!(completion.usage.is_some(), "the client asks for include_usage and gets the usage chunk");
    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].header("authorization"), Some("Bearer test-key"));
    assert_eq!(sent[1].body["stream"], true);
}
