//! Non-stream calls, every error body shape of the reference (§1.4, Q16, Q18, Q28, Q35), retries (L18, Q37),
//! timeouts and size limits, over real HTTP on 127.0.0.1.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use toolsmith_core::client::{Client, ClientError, TimeoutPhase};

async fn status_error(status: u16, body: Reply) -> (ClientError, usize) {
    let mut reply = body;
    reply.status = status;
    let server = Server::one(reply).await;
    let error = client_with(&server, |b| b.max_retries(0)).chat(&request()).await.unwrap_err();
    (error, server.request_count())
}

struct Expect {
    message: &'static str,
    kind: Option<&'static str>,
    code: Option<&'static str>,
    param: Option<&'static str>,
}

async fn check_shape(status: u16, body: &str, expect: Expect) {
    let (error, _) = status_error(status, Reply::raw(status, "application/json", body.as_bytes().to_vec())).await;
    let ClientError::Status { status: got, message, kind, code, param, body_snippet, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*got, status);
    assert!(message.contains(expect.message), "{message:?} should contain {:?}", expect.message);
    assert_eq!(kind.as_deref(), expect.kind, "kind of {body}");
    assert_eq!(code.as_deref(), expect.code, "code of {body}");
    assert_eq!(param.as_deref(), expect.param, "param of {body}");
    assert!(body.starts_with(body_snippet.trim_end_matches('…')));
}

#[tokio::test]
async fn openai_error_bodies() {
    check_shape(400, r#"{"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}}"#,
        Expect { message: "Unsupported parameter", kind: Some("invalid_request_error"), code: Some("unsupported_parameter"), param: Some("max_tokens") }).await;
    check_shape(400, r#"{"error":{"message":"Invalid 'tools[21].function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.","type":"invalid_request_error","param":"tools[21].function.name","code":"invalid_value"}}"#,
        Expect { message: "does not match pattern", kind: Some("invalid_request_error"), code: Some("invalid_value"), param: Some("tools[21].function.name") }).await;
    check_shape(400, r#"{"error":{"message":"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_jJATmoUduQWxi4tRwcQjsodM","type":"invalid_request_error","param":"messages","code":null}}"#,
        Expect { message: "must be followed by tool messages", kind: Some("invalid_request_error"), code: None, param: Some("messages") }).await;
    check_shape(400, r#"{"error":{"message":"The 'stream_options' parameter is only allowed when 'stream' is enabled.","type":"invalid_request_error","param":"stream_options","code":null}}"#,
        Expect { message: "only allowed when 'stream'", kind: Some("invalid_request_error"), code: None, param: Some("stream_options") }).await;
}

#[tokio::test]
async fn q16_groq_tool_use_failed_with_extra_fields() {
    check_shape(400, r#"{"error":{"message":"Failed to call a function. Please adjust your prompt. See 'failed_generation' for more details.","type":"invalid_request_error","code":"tool_use_failed","failed_generation":"web_search{\"query\": \"x\"}</function>"}}"#,
        Expect { message: "Failed to call a function", kind: Some("invalid_request_error"), code: Some("tool_use_failed"), param: None }).await;
    check_shape(400, r#"{"error":{"message":"tool call validation failed: parameters for tool HassTurnOff did not match schema","type":"invalid_request_error","param":"","code":"tool_use_failed"}}"#,
        Expect { message: "tool call validation failed", kind: Some("invalid_request_error"), code: Some("tool_use_failed"), param: None }).await;
}

#[tokio::test]
async fn q18_mistral_top_level_error_with_string_code() {
    check_shape(400, r#"{"object":"error","message":"Tool call id was call_0fypS1hVX but must be a-z, A-Z, 0-9, with a length of 9.","type":"invalid_function_call","param":null,"code":"3280"}"#,
        Expect { message: "with a length of 9", kind: Some("invalid_function_call"), code: Some("3280"), param: None }).await;
}

#[tokio::test]
async fn q28_groq_and_mistral_object_message() {
    check_shape(400, r#"{"error":{"message":"property 'stream_options' is unsupported, did you mean 'stream'?","type":"invalid_request_error"}}"#,
        Expect { message: "stream_options", kind: Some("invalid_request_error"), code: None, param: None }).await;
    check_shape(422, r#"{"object":"error","message":{"detail":[{"type":"extra_forbidden","loc":["body","stream_options","include_usage"],"msg":"Extra inputs are not permitted","input":true}]},"type":"invalid_request_error","param":null,"code":null}"#,
        Expect { message: "Extra inputs are not permitted", kind: Some("invalid_request_error"), code: None, param: None }).await;
}

#[tokio::test]
async fn q35_every_non_standard_shape() {
    check_shape(400, r#"{"object":"error","message":"This model's maximum context length is 2048 tokens.","type":"BadRequestError","param":null,"code":400}"#,
        Expect { message: "maximum context length", kind: Some("BadRequestError"), code: Some("400"), param: None }).await;
    check_shape(
        404,
        r#"{"error":"model \"x\" not found, try pulling it first"}"#,
        Expect { message: "not found, try pulling", kind: None, code: None, param: None },
    )
    .await;
    check_shape(
        402,
        r#"{"error":{"code":402,"message":"Insufficient credits","metadata":{"provider_name":"x"}}}"#,
        Expect { message: "Insufficient credits", kind: None, code: Some("402"), param: None },
    )
    .await;
    check_shape(400, r#"[{"error":{"code":400,"message":"Unknown name \"web_search_options\": Cannot find field.","status":"INVALID_ARGUMENT","details":[]}}]"#,
        Expect { message: "Cannot find field", kind: None, code: Some("400"), param: None }).await;
    check_shape(
        500,
        r#"{"success":false,"error":{"code":"INTERNAL_SERVER_ERROR","status":500}}"#,
        Expect { message: "INTERNAL_SERVER_ERROR", kind: None, code: Some("INTERNAL_SERVER_ERROR"), param: None },
    )
    .await;
    check_shape(
        400,
        r#"{"code":"Client specified an invalid argument","error":"Only messages of role 'user' can have a name."}"#,
        Expect {
            message: "can have a name",
            kind: None,
            code: Some("Client specified an invalid argument"),
            param: None,
        },
    )
    .await;
    check_shape(
        403,
        r#"{"error":{"code":403,"message":"Input flagged by moderation","metadata":{"reasons":["x"]}}}"#,
        Expect { message: "flagged", kind: None, code: Some("403"), param: None },
    )
    .await;
}

#[tokio::test]
async fn q35_html_502_keeps_a_truncated_raw_body() {
    let html = format!("<html><head><title>502 Bad Gateway</title></head><body>{}</body></html>", "é".repeat(3000));
    let server = Server::one(Reply::raw(502, "text/html", html.clone().into_bytes())).await;
    let error = client_with(&server, |b| b.max_retries(0)).chat(&request()).await.unwrap_err();
    let ClientError::Status { status, message, body_snippet, .. } = &error else { panic!("{error:?}") };
    assert_eq!(*status, 502);
    assert!(message.starts_with("<html><head><title>502 Bad Gateway"));
    assert!(body_snippet.len() <= toolsmith_core::wire::SNIPPET_LIMIT + 4);
    assert!(body_snippet.ends_with('…'));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn empty_error_body() {
    let (error, _) = status_error(500, Reply::raw(500, "text/plain", Vec::new())).await;
    assert_eq!(error.status(), Some(500));
}

// ---- retries ----

#[tokio::test]
async fn q37_429_with_retry_after_ms_is_retried_then_succeeds() {
    let server = Server::start(vec![
        Reply::json(429, &json!({"error":{"message":"Rate limit reached for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Used 29937, Requested 385. Please try again in 644ms.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}))
            .header("retry-after-ms", "30"),
        Reply::json(200, &completion_body("done")),
    ])
    .await;
    let response = client(&server).chat(&request()).await.unwrap();
    assert_eq!(response.choices[0].message.text(), "done");
    assert_eq!(server.request_count(), 2);
    // The retry sends the same request: its body is encoded again for each attempt.
    let requests = server.requests();
    assert_eq!(requests[0].body, requests[1].body);
    assert_eq!(requests[0].headers, requests[1].headers);
}

#[tokio::test]
async fn q37_insufficient_quota_is_not_retried() {
    let server = Server::one(Reply::json(429, &json!({"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}))).await;
    let error = client(&server).chat(&request()).await.unwrap_err();
    assert_eq!(error.status(), Some(429));
    assert!(!error.is_retryable());
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn q37_request_too_large_is_not_retried() {
    let server = Server::one(Reply::json(429, &json!({"error":{"message":"Request too large for gpt-4o in organization org-x on tokens per min (TPM): Limit 30000, Requested 30601.","type":"tokens","param":null,"code":"rate_limit_exceeded"}}))).await;
    client(&server).chat(&request()).await.unwrap_err();
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn permanent_statuses_are_not_retried() {
    for status in [400, 401, 402, 403, 404, 422] {
        let server = Server::one(Reply::json(status, &json!({"error":{"message":"no"}}))).await;
        let error = client(&server).chat(&request()).await.unwrap_err();
        assert!(!error.is_retryable(), "{status}");
        assert_eq!(server.request_count(), 1, "{status}");
    }
}

#[tokio::test]
async fn transient_statuses_are_retried_up_to_the_limit() {
    for status in [408, 409, 500, 502, 503, 504, 529] {
        let server = Server::one(Reply::json(status, &json!({"error":{"message":"try later"}}))).await;
        let error = client(&server).chat(&request()).await.unwrap_err();
        assert!(error.is_retryable(), "{status}");
        assert_eq!(server.request_count(), 3, "{status}: one attempt and two retries");
    }
}

#[tokio::test]
async fn x_should_retry_overrides_the_status() {
    let server =
        Server::one(Reply::json(500, &json!({"error":{"message":"x"}})).header("x-should-retry", "false")).await;
    client(&server).chat(&request()).await.unwrap_err();
    assert_eq!(server.request_count(), 1);
    let server = Server::start(vec![
        Reply::json(400, &json!({"error":{"message":"x"}})).header("x-should-retry", "true"),
        Reply::json(200, &completion_body("ok")),
    ])
    .await;
    client(&server).chat(&request()).await.unwrap();
    assert_eq!(server.request_count(), 2);
}

#[tokio::test]
async fn retry_after_seconds_and_http_date_are_honoured() {
    let server = Server::start(vec![
        Reply::json(503, &json!({"error":{"message":"busy"}})).header("retry-after", "0.05"),
        Reply::json(503, &json!({"error":{"message":"busy"}})).header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"),
        Reply::json(200, &completion_body("ok")),
    ])
    .await;
    client(&server).chat(&request()).await.unwrap();
    assert_eq!(server.request_count(), 3);
}

#[tokio::test]
async fn retry_after_beyond_the_cap_is_not_retried() {
    let server =
        Server::one(Reply::json(429, &json!({"error":{"message":"slow down"}})).header("retry-after", "3600")).await;
    let error = client(&server).chat(&request()).await.unwrap_err();
    let ClientError::Status { retry_after, .. } = &error else { panic!("{error:?}") };
    assert_eq!(*retry_after, Some(Duration::from_secs(3600)));
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn connection_refused_is_a_retryable_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = Client::builder()
        .base_url(format!("http://{addr}/v1"))
        .retry_policy(toolsmith_core::client::RetryPolicy {
            initial_backoff: Duration::from_millis(1),
            ..Default::default()
        })
        .build()
        .unwrap();
    let error = client.chat(&request()).await.unwrap_err();
    assert!(matches!(error, ClientError::Connect { .. }), "{error:?}");
    assert!(error.is_retryable());
}

// ---- non-stream bodies, timeouts, limits ----

#[tokio::test]
async fn chat_forces_stream_false_and_decodes() {
    let server = Server::one(Reply::json(200, &completion_body("Hello! How can I help you today?"))).await;
    let mut req = request();
    req.stream = true;
    req.stream_options = Some(Default::default());
    let response = client(&server).chat(&req).await.unwrap();
    let sent = server.requests()[0].json();
    assert_eq!(sent["stream"], json!(false));
    assert!(sent.get("stream_options").is_none(), "Q28: stream_options only with stream");
    assert_eq!(server.requests()[0].path, "/v1/chat/completions");
    assert_eq!(server.requests()[0].header("authorization"), Some("Bearer sk-test"));
    let done = response.into_completion().unwrap();
    assert_eq!(done.message.text(), "Hello! How can I help you today?");
    assert_eq!(done.usage.unwrap().total_tokens, 5);
}

#[tokio::test]
async fn q39_blank_lines_before_a_non_stream_body() {
    let body = format!("\n\n\n{}", completion_body("late"));
    let server = Server::one(Reply::stream(vec![
        Piece::Bytes(b"\n".to_vec()),
        Piece::Sleep(Duration::from_millis(20)),
        Piece::Bytes(b"\n\n".to_vec()),
        Piece::Bytes(body.into_bytes()),
    ]))
    .await;
    let response = client(&server).chat(&request()).await.unwrap();
    assert_eq!(response.choices[0].message.text(), "late");
}

#[tokio::test]
async fn an_error_body_inside_a_200_is_a_status_error() {
    let server = Server::one(Reply::json(200, &json!({"error":{"message":"upstream failed","code":502}}))).await;
    let error = client_with(&server, |b| b.max_retries(0)).chat(&request()).await.unwrap_err();
    let ClientError::Status { status, message, .. } = &error else { panic!("{error:?}") };
    assert_eq!((*status, message.as_str()), (200, "upstream failed"));
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_non_json_200_is_a_decode_error_with_a_snippet() {
    let server = Server::one(Reply::raw(200, "text/html", b"<html>oops</html>".to_vec())).await;
    let error = client(&server).chat(&request()).await.unwrap_err();
    let ClientError::Decode { snippet, .. } = &error else { panic!("{error:?}") };
    assert_eq!(snippet, "<html>oops</html>");
    assert_eq!(server.request_count(), 1);
}

#[tokio::test]
async fn non_stream_size_limit() {
    let server = Server::one(Reply::json(200, &completion_body(&"x".repeat(10_000)))).await;
    let error = client_with(&server, |b| b.max_response_bytes(1000)).chat(&request()).await.unwrap_err();
    assert!(matches!(error, ClientError::TooLarge { limit: 1000 }), "{error:?}");
}

#[tokio::test]
async fn total_timeout_while_waiting_for_the_head() {
    let mut reply = Reply::json(200, &completion_body("slow"));
    reply.delay_head = Duration::from_secs(30);
    let server = Server::one(reply).await;
    let client = client_with(&server, |b| b.total_timeout(Duration::from_millis(200)).max_retries(0));
    let error = client.chat(&request()).await.unwrap_err();
    assert!(matches!(error, ClientError::Timeout { phase: TimeoutPhase::Total }), "{error:?}");
}

#[tokio::test]
async fn idle_timeout_inside_a_non_stream_body() {
    let body = completion_body("x").to_string().into_bytes();
    let mut reply = Reply::stream(vec![Piece::Bytes(body[..10].to_vec()), Piece::Sleep(Duration::from_secs(30))]);
    reply.headers = vec![("content-type".into(), "application/json".into())];
    let server = Server::one(reply).await;
    let client = client_with(&server, |b| b.idle_timeout(Duration::from_millis(200)).max_retries(0));
    let error = client.chat(&request()).await.unwrap_err();
    assert!(matches!(error, ClientError::Timeout { phase: TimeoutPhase::Idle }), "{error:?}");
}
