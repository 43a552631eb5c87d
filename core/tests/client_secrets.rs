//! Issue 9.6: no configuration secret (API key, credentials in the base URL, credential headers) appears in the
//! `Debug` or `Display` of any public type that holds configuration, nor in errors; the secrets are still sent.

mod common;

use common::*;
use toolsmith_core::client::{Client, ClientBuilder, Profile, RetryPolicy};

const SECRETS: [&str; 6] =
    ["SECRET-KEY", "SECRET-PASS", "SECRET-QUERY", "SECRET-AZURE", "SECRET-TOKEN", "SECRET-COOKIE"];

fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

fn builder(base_url: &str) -> ClientBuilder {
    Client::builder()
        .base_url(base_url)
        .api_key("sk-SECRET-KEY")
        .header("api-key", "SECRET-AZURE")
        .header("X-Auth-Token", "SECRET-TOKEN")
        .header("Cookie", "session=SECRET-COOKIE")
        .header("x-title", "visible title")
}

#[test]
fn builder_and_client_debug_show_no_secret() {
    let builder = builder("https://user:SECRET-PASS@api.example.com/v1?key=SECRET-QUERY");
    let debug = format!("{builder:?}");
    assert_clean("ClientBuilder's Debug", &debug);
    // What is not secret stays visible, so the output is still useful.
    assert!(
        debug.contains("api.example.com") && debug.contains("visible title") && debug.contains("api-key"),
        "{debug}"
    );
    let pretty = format!("{builder:#?}");
    assert_clean("ClientBuilder's pretty Debug", &pretty);

    let client = builder.build().unwrap();
    let debug = format!("{client:?}");
    assert_clean("Client's Debug", &debug);
    assert!(debug.contains("api.example.com"), "{debug}");
    assert_clean("Client's pretty Debug", &format!("{client:#?}"));
    assert_clean("Profile's Debug", &format!("{:?}", client.profile()));
    assert_clean("a Client with another profile", &format!("{:?}", client.with_profile(Profile::openai())));
    assert_clean("RetryPolicy's Debug", &format!("{:?}", RetryPolicy::default()));
}

#[test]
fn configuration_errors_show_no_secret() {
    for url in ["ftp://user:SECRET-PASS@host/v1", "http://user:SECRET-PASS@/v1?key=SECRET-QUERY"] {
        let error = builder(url).build().unwrap_err();
        assert_clean("the error's Display", &error.to_string());
        assert_clean("the error's Debug", &format!("{error:?}"));
    }
    // A key that cannot be a header value is named, not shown.
    let error = Client::builder().base_url("http://127.0.0.1:1/v1").api_key("SECRET-KEY\n").build().unwrap_err();
    assert_clean("the error's Display", &error.to_string());
    assert_clean("the error's Debug", &format!("{error:?}"));
    let error = Client::builder().base_url("http://127.0.0.1:1/v1").header("x-api-key", "SECRET-KEY\n").build();
    let error = error.unwrap_err();
    assert_clean("the error's Display", &error.to_string());
    assert_clean("the error's Debug", &format!("{error:?}"));
}

#[tokio::test]
async fn secrets_are_still_sent() {
    let server = Server::one(Reply::json(200, &completion_body("ok"))).await;
    let client = builder(&server.base_url()).retry_policy(RetryPolicy::none()).build().unwrap();
    let request = toolsmith_core::wire::ChatRequest::new("m", vec![toolsmith_core::wire::Message::user("hi")]);
    client.chat(&request).await.unwrap();
    let recorded = &server.requests()[0];
    assert_eq!(recorded.header("authorization"), Some("Bearer sk-SECRET-KEY"));
    assert_eq!(recorded.header("api-key"), Some("SECRET-AZURE"));
    assert_eq!(recorded.header("x-auth-token"), Some("SECRET-TOKEN"));
    assert_eq!(recorded.header("x-title"), Some("visible title"));
}

#[tokio::test]
async fn transport_errors_show_no_secret() {
    // Nothing listens on port 1: the connection error must not print the user-info of the URL.
    let client = builder("http://user:SECRET-PASS@127.0.0.1:1/v1").retry_policy(RetryPolicy::none()).build().unwrap();
    let request = toolsmith_core::wire::ChatRequest::new("m", vec![toolsmith_core::wire::Message::user("hi")]);
    let error = client.chat(&request).await.unwrap_err();
    assert_clean("the connect error's Display", &error.to_string());
    assert_clean("the connect error's Debug", &format!("{error:?}"));
}
