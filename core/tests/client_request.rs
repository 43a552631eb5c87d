//! What the client writes: profile sanitising (Q13, Q15, Q17, Q27–Q32, L15) checked on the bytes a real
//! server on 127.0.0.1 received.

mod common;

use common::*;
use serde_json::{Value, json};
use toolsmith_core::client::{Client, ClientError, MaxTokensField, Profile, ToolCallContent};
use toolsmith_core::tool::ToolDefinition;
use toolsmith_core::wire::{
    AssistantMessage, ChatRequest, Content, ContentPart, ImageUrl, Message, ResponseFormat, TextMessage, ToolCall,
    ToolChoice,
};

async fn sent_with(profile: Profile, request: &ChatRequest, stream: bool) -> Value {
    let server = Server::one(if stream {
        Reply::sse(&sse_of(&[finish_chunk("stop")]))
    } else {
        Reply::json(200, &completion_body("ok"))
    })
    .await;
    let client = client_with(&server, |b| b.profile(profile));
    if stream {
        client.chat_stream(request).await.unwrap().completion().await.unwrap();
    } else {
        client.chat(request).await.unwrap();
    }
    server.requests()[0].json()
}

fn history() -> ChatRequest {
    let assistant = AssistantMessage {
        content: None,
        reasoning_content: Some("thinking".into()),
        refusal: None,
        name: None,
        tool_calls: vec![
            ToolCall::new("call_a", "empty", ""),
            ToolCall::new("call_b", "bad", "{\"{\"tagIds\":[1,2]}"),
            ToolCall::new("call_c", "good", "{\"city\": \"Paris\"}"),
            ToolCall::new("call_d", "nullish", "null"),
        ],
    };
    let mut request = ChatRequest::new(
        "m",
        vec![
            Message::developer("be terse"),
            Message::user("hi"),
            Message::Assistant(assistant),
            Message::tool("call_a", "1"),
            Message::tool("call_b", "2"),
            Message::tool("call_c", "3"),
            Message::tool("call_d", "4"),
        ],
    );
    request.tools = vec![ToolDefinition::new("good", "", json!({"type":"object","properties":{}}))];
    request
}

#[tokio::test]
async fn l15_q13_q22_arguments_are_always_json_strings() {
    let sent = sent_with(Profile::generic(), &history(), false).await;
    let calls = &sent["messages"][2]["tool_calls"];
    assert_eq!(calls[0]["function"]["arguments"], json!("{}"), "Q13: empty → {{}}");
    let bad: Value = serde_json::from_str(calls[1]["function"]["arguments"].as_str().unwrap()).unwrap();
    assert_eq!(bad, json!({"INVALID_JSON": "{\"{\"tagIds\":[1,2]}"}), "L15: invalid JSON wrapped");
    assert_eq!(calls[2]["function"]["arguments"], json!("{\"city\": \"Paris\"}"), "L15: exact bytes kept");
    assert_eq!(calls[3]["function"]["arguments"], json!("{}"));
    assert_eq!(calls[0]["type"], json!("function"));
}

#[tokio::test]
async fn q17_tool_call_content_null_or_empty_per_profile() {
    let sent = sent_with(Profile::generic(), &history(), false).await;
    assert_eq!(sent["messages"][2]["content"], Value::Null);
    assert!(sent["messages"][2].as_object().unwrap().contains_key("content"));
    let sent = sent_with(Profile::ollama(), &history(), false).await;
    assert_eq!(sent["messages"][2]["content"], json!(""));
    let mut profile = Profile::generic();
    profile.tool_call_content = ToolCallContent::Empty;
    let sent = sent_with(profile, &history(), false).await;
    assert_eq!(sent["messages"][2]["content"], json!(""));
}

#[tokio::test]
async fn q17_assistant_with_neither_content_nor_calls_sends_empty_text() {
    let request = ChatRequest::new("m", vec![Message::Assistant(AssistantMessage::default()), Message::user("go")]);
    let sent = sent_with(Profile::generic(), &request, false).await;
    assert_eq!(sent["messages"][0], json!({"role":"assistant","content":""}));
}

#[tokio::test]
async fn q15_reasoning_replayed_only_where_required() {
    let sent = sent_with(Profile::generic(), &history(), false).await;
    assert!(sent["messages"][2].get("reasoning_content").is_none());
    let sent = sent_with(Profile::deepseek(), &history(), false).await;
    assert_eq!(sent["messages"][2]["reasoning_content"], json!("thinking"));
}

#[tokio::test]
async fn developer_role_per_profile() {
    let sent = sent_with(Profile::generic(), &history(), false).await;
    assert_eq!(sent["messages"][0], json!({"role":"system","content":"be terse"}));
    let sent = sent_with(Profile::openai(), &history(), false).await;
    assert_eq!(sent["messages"][0]["role"], json!("developer"));
}

#[tokio::test]
async fn q27_one_token_limit_field_per_profile() {
    let mut request = request();
    request.max_tokens = Some(100);
    let sent = sent_with(Profile::generic(), &request, false).await;
    assert_eq!(sent["max_tokens"], json!(100));
    assert!(sent.get("max_completion_tokens").is_none());
    let sent = sent_with(Profile::openai(), &request, false).await;
    assert_eq!(sent["max_completion_tokens"], json!(100));
    assert!(sent.get("max_tokens").is_none());
    request.max_completion_tokens = Some(50);
    let mut profile = Profile::generic();
    profile.max_tokens_field = MaxTokensField::MaxCompletionTokens;
    let sent = sent_with(profile, &request, false).await;
    assert_eq!(sent["max_completion_tokens"], json!(50));
    assert!(sent.get("max_tokens").is_none(), "never both");
}

#[tokio::test]
async fn q28_stream_options_only_with_stream_and_only_where_supported() {
    let sent = sent_with(Profile::generic(), &request(), true).await;
    assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    let sent = sent_with(Profile::groq(), &request(), true).await;
    assert!(sent.get("stream_options").is_none());
    let sent = sent_with(Profile::mistral(), &request(), true).await;
    assert!(sent.get("stream_options").is_none());
    let sent = sent_with(Profile::generic(), &request(), false).await;
    assert!(sent.get("stream_options").is_none());
}

#[tokio::test]
async fn q29_q30_only_set_fields_and_no_strict_or_name_unless_set() {
    let sent = sent_with(Profile::generic(), &history(), false).await;
    let mut keys: Vec<&str> = sent.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["messages", "model", "stream", "tools"]);
    assert_eq!(
        sent["tools"][0],
        json!({"type":"function","function":{"name":"good","parameters":{"type":"object","properties":{}}}})
    );
    assert!(sent["messages"][1].get("name").is_none());
    let mut request = history();
    request.messages[1] = Message::User(TextMessage { content: "hi".into(), name: Some("alice".into()) });
    request.tools = vec![ToolDefinition::new_strict(
        "good",
        "d",
        json!({"type":"object","properties":{},"required":[],"additionalProperties":false}),
    )];
    let sent = sent_with(Profile::generic(), &request, false).await;
    assert_eq!(sent["messages"][1]["name"], json!("alice"));
    assert_eq!(sent["tools"][0]["function"]["strict"], json!(true));
}

#[tokio::test]
async fn q31_required_falls_back_where_unsupported() {
    let mut request = history();
    request.tool_choice = Some(ToolChoice::Required);
    let sent = sent_with(Profile::generic(), &request, false).await;
    assert_eq!(sent["tool_choice"], json!("required"));
    let sent = sent_with(Profile::mistral(), &request, false).await;
    assert_eq!(sent["tool_choice"], json!({"type":"function","function":{"name":"good"}}), "single tool → named");
    request.tools.push(ToolDefinition::new("other", "", json!({"type":"object"})));
    let sent = sent_with(Profile::mistral(), &request, false).await;
    assert_eq!(sent["tool_choice"], json!("auto"));
}

#[tokio::test]
async fn tool_choice_and_parallel_calls_are_not_sent_without_tools() {
    let mut request = request();
    request.tool_choice = Some(ToolChoice::Auto);
    request.parallel_tool_calls = Some(false);
    let sent = sent_with(Profile::generic(), &request, false).await;
    assert!(sent.get("tool_choice").is_none() && sent.get("parallel_tool_calls").is_none());
}

#[tokio::test]
async fn q32_text_parts_flattened_and_images_refused_for_text_only_profiles() {
    let parts = Content::Parts(vec![ContentPart::Text { text: "a".into() }, ContentPart::Text { text: "b".into() }]);
    let request = ChatRequest::new("m", vec![Message::User(TextMessage { content: parts.clone(), name: None })]);
    let sent = sent_with(Profile::deepseek(), &request, false).await;
    assert_eq!(sent["messages"][0]["content"], json!("ab"));
    let sent = sent_with(Profile::generic(), &request, false).await;
    assert_eq!(sent["messages"][0]["content"], json!([{"type":"text","text":"a"},{"type":"text","text":"b"}]));

    let image = Content::Parts(vec![
        ContentPart::Text { text: "what is this".into() },
        ContentPart::ImageUrl {
            image_url: ImageUrl { url: "data:image/png;base64,iVBOR".into(), detail: Some("auto".into()) },
        },
    ]);
    let request = ChatRequest::new("m", vec![Message::User(TextMessage { content: image, name: None })]);
    let server = Server::one(Reply::json(200, &completion_body("ok"))).await;
    let error = client_with(&server, |b| b.profile(Profile::deepseek())).chat(&request).await.unwrap_err();
    assert!(
        matches!(&error, ClientError::Config { message } if message.contains("messages[0]") && message.contains("image")),
        "{error:?}"
    );
    assert_eq!(server.request_count(), 0, "fails before sending");
}

#[tokio::test]
async fn q42_temperature_clamped_for_anthropic() {
    let mut request = request();
    request.temperature = Some(1.5);
    let sent = sent_with(Profile::anthropic_compat(), &request, false).await;
    assert_eq!(sent["temperature"], json!(1.0));
    let sent = sent_with(Profile::generic(), &request, false).await;
    assert_eq!(sent["temperature"], json!(1.5));
}

#[tokio::test]
async fn extra_fields_are_flattened_without_overriding_typed_ones() {
    let mut request = request();
    request.temperature = Some(0.5);
    request.extra.insert("reasoning_effort".into(), json!("low"));
    request.extra.insert("temperature".into(), json!(2));
    request.extra.insert("stream".into(), json!(true));
    request.response_format = Some(ResponseFormat::json_schema("answer", json!({"type":"object"})));
    let sent = sent_with(Profile::generic(), &request, false).await;
    assert_eq!(sent["reasoning_effort"], json!("low"));
    assert_eq!(sent["temperature"], json!(0.5));
    assert_eq!(sent["stream"], json!(false));
    assert_eq!(
        sent["response_format"],
        json!({"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object"}}})
    );
}

#[tokio::test]
async fn the_wire_body_matches_the_plain_serialization_for_a_clean_request() {
    // The reference request of §1.1, minus the fields the generic profile rewrites.
    let mut request: ChatRequest = serde_json::from_value(json!({
        "model": "openai/gpt-4o",
        "messages": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}],
        "temperature": 0.25, "tool_choice": "auto", "response_format": {"type": "text"}, "seed": 7, "stop": ["\n"]
    }))
    .unwrap();
    request.stream = false;
    let sent = sent_with(Profile::generic(), &request, false).await;
    let mut plain = serde_json::to_value(&request).unwrap();
    plain["stream"] = json!(false);
    plain.as_object_mut().unwrap().remove("tool_choice"); // no tools → not sent
    assert_eq!(sent, plain);
}

#[tokio::test]
async fn extra_headers_and_no_auth_without_key() {
    let server = Server::one(Reply::json(200, &completion_body("ok"))).await;
    let client = Client::builder().base_url(server.base_url()).header("X-Title", "toolsmith tests").build().unwrap();
    client.chat(&request()).await.unwrap();
    let recorded = &server.requests()[0];
    assert_eq!(recorded.header("x-title"), Some("toolsmith tests"));
    assert_eq!(recorded.header("authorization"), None);
    assert_eq!(recorded.header("content-type"), Some("application/json"));
}

#[test]
fn debug_never_prints_the_key() {
    let client = Client::new("https://api.mintcloud.ai/v1", "sk-very-secret").unwrap();
    let debug = format!("{client:?}");
    assert!(!debug.contains("sk-very-secret"), "{debug}");
    assert!(debug.contains("api.mintcloud.ai"));
    let clone = client.clone();
    assert_eq!(clone.base_url(), "https://api.mintcloud.ai/v1");
    let ollama = client.with_profile(Profile::ollama());
    assert_eq!(ollama.profile().name, "ollama");
    assert_eq!(client.profile().name, "generic");
}

#[test]
fn from_env_variables() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| (*v).to_owned())
    };
    let client = Client::from_vars(vars(&[("MINTCLOUD_API_KEY", "mc")])).unwrap();
    assert_eq!(client.base_url(), "https://api.mintcloud.ai/v1");
    let client =
        Client::from_vars(vars(&[("OPENAI_API_KEY", "sk"), ("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")])).unwrap();
    assert_eq!(client.base_url(), "http://127.0.0.1:9/v1");
    let client = Client::from_vars(vars(&[("OPENAI_API_KEY", "sk")])).unwrap();
    assert_eq!(client.profile().name, "openai");
    let error = Client::from_vars(vars(&[])).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("OPENAI_API_KEY") && message.contains("MINTCLOUD_API_KEY"), "{message}");
}

#[tokio::test]
async fn an_invalid_base_url_fails_clearly() {
    let error = Client::builder().base_url("not a url").build().unwrap_err();
    assert!(matches!(error, ClientError::Config { .. }));
    // Rejected when the client is built, not at the first request (issue 11.4).
    let error = Client::new("ftp://x", "k").unwrap_err();
    assert!(matches!(&error, ClientError::Config { message } if message.contains("ftp://x")), "{error:?}");
    for bad in ["", "http://", "127.0.0.1:8080/v1", "mailto:a@b", "http://a b/v1"] {
        let error = Client::new(bad, "k").unwrap_err();
        assert!(matches!(error, ClientError::Config { .. }), "{bad:?}: {error:?}");
    }
}

#[tokio::test]
async fn q18_mistral_ids_are_nine_alphanumerics_and_still_pair_calls_with_results() {
    let mut request = history();
    request.messages.push(Message::Assistant(AssistantMessage {
        tool_calls: vec![ToolCall::new("abcDEF123", "good", "{}")],
        ..AssistantMessage::default()
    }));
    request.messages.push(Message::tool("abcDEF123", "5"));
    let sent = sent_with(Profile::mistral(), &request, false).await;
    let messages = sent["messages"].as_array().unwrap();
    let call_ids: Vec<&str> =
        messages[2]["tool_calls"].as_array().unwrap().iter().map(|call| call["id"].as_str().unwrap()).collect();
    let result_ids: Vec<&str> = messages[3..7].iter().map(|m| m["tool_call_id"].as_str().unwrap()).collect();
    assert_eq!(call_ids, result_ids, "each result keeps pointing at its call");
    for id in &call_ids {
        assert!(id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
    }
    let unique: std::collections::HashSet<&&str> = call_ids.iter().collect();
    assert_eq!(unique.len(), 4);
    assert_eq!(messages[7]["tool_calls"][0]["id"], "abcDEF123", "a valid id is kept");
    assert_eq!(messages[8]["tool_call_id"], "abcDEF123");
    // Other profiles send ids as they are.
    let sent = sent_with(Profile::generic(), &request, false).await;
    assert_eq!(sent["messages"][2]["tool_calls"][0]["id"], "call_a");
}

#[tokio::test]
async fn reasoning_effort_is_sent_the_way_each_profile_expects() {
    use toolsmith_core::wire::ReasoningEffort;
    let mut request = history();
    request.reasoning_effort = Some(ReasoningEffort::High);
    let sent = sent_with(Profile::openai(), &request, false).await;
    assert_eq!(sent["reasoning_effort"], "high");
    assert!(sent.get("reasoning").is_none());
    let sent = sent_with(Profile::openrouter(), &request, true).await;
    assert_eq!(sent["reasoning"], json!({"effort": "high"}));
    assert!(sent.get("reasoning_effort").is_none());
    // Anthropic's compatible endpoint ignores it (Q42): not sent.
    let sent = sent_with(Profile::anthropic_compat(), &request, false).await;
    assert!(sent.get("reasoning_effort").is_none() && sent.get("reasoning").is_none(), "{sent}");
    // A typed effort is not doubled by `extra` in the other spelling.
    request.extra.insert("reasoning_effort".into(), json!("low"));
    let sent = sent_with(Profile::openrouter(), &request, false).await;
    assert!(sent.get("reasoning_effort").is_none(), "{sent}");
    // None: omitted, whatever the profile.
    let sent = sent_with(Profile::openai(), &history(), false).await;
    assert!(sent.get("reasoning_effort").is_none() && sent.get("reasoning").is_none(), "{sent}");
    assert_eq!(Profile::for_base_url("https://openrouter.ai/api/v1").name, "openrouter");
}
