//! The built-in test model over real HTTP: tool choice, argument generation from schemas, the answer turn,
//! structured output, and streaming.

mod support;

use serde_json::{Value, json};
use support::*;
use toolsmith_testing::{Reply, TestServer};

fn weather_tool() -> Value {
    tool(
        "get_weather",
        json!({"type": "object", "properties": {
            "city": {"type": "string", "description": "City name"},
            "units": {"type": "string", "enum": ["celsius", "fahrenheit"]}
        }, "required": ["city"]}),
    )
}

fn calculator_tools() -> Value {
    let schema = json!({"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
                        "required": ["a", "b"]});
    json!(["add", "subtract", "multiply", "divide"].map(|name| tool(name, schema.clone())))
}

fn request(text: &str, tools: Value) -> Value {
    let mut body = user(text);
    body["tools"] = tools;
    body
}

/// The assistant message for a request written as text (keeps the schema's key order).
async fn turn_text(server: &TestServer, body: String) -> Value {
    let raw = post_text(&format!("{}/chat/completions", server.base_url()), body).await;
    assert_eq!(raw.status, 200, "{}", raw.body);
    let response: Value = serde_json::from_str(&raw.body).unwrap();
    response["choices"][0]["message"].clone()
}

/// A request text with one user message and tools given as JSON text.
fn ordered_request(text: &str, tools: &str) -> String {
    format!(r#"{{"model":"m","messages":[{{"role":"user","content":{}}}],"tools":{tools}}}"#, json!(text))
}

/// The assistant message of a non-streaming reply.
async fn turn(server: &TestServer, body: &Value) -> Value {
    let (status, response) = chat(&server.base_url(), body).await;
    assert_eq!(status, 200, "{response}");
    response["choices"][0]["message"].clone()
}

fn calls(message: &Value) -> Vec<(String, Value)> {
    message["tool_calls"]
        .as_array()
        .map(|calls| {
            calls
                .iter()
                .map(|c| {
                    let arguments = c["function"]["arguments"].as_str().unwrap();
                    (c["function"]["name"].as_str().unwrap().to_owned(), serde_json::from_str(arguments).unwrap())
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Appends the assistant message and one tool message per call, answered by `result(name, arguments)`.
fn answer_calls(body: &mut Value, message: &Value, result: impl Fn(&str, &Value) -> String) {
    let messages = body["messages"].as_array_mut().unwrap();
    messages.push(message.clone());
    for call in message["tool_calls"].as_array().unwrap() {
        let arguments: Value = serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
        let content = result(call["function"]["name"].as_str().unwrap(), &arguments);
        messages.push(json!({"role": "tool", "tool_call_id": call["id"], "content": content}));
    }
}

#[tokio::test]
async fn weather_question_makes_parallel_calls_then_summarises() {
    let server = TestServer::test_model().await.unwrap();
    let mut body = request("Weather in Paris and in Rome?", json!([weather_tool()]));
    let message = turn(&server, &body).await;
    assert_eq!(message["content"], Value::Null);
    assert_eq!(
        calls(&message),
        [("get_weather".to_owned(), json!({"city": "Paris"})), ("get_weather".to_owned(), json!({"city": "Rome"}))]
    );
    let ids: Vec<&str> = message["tool_calls"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["call_0_0", "call_0_1"]);

    answer_calls(&mut body, &message, |_, args| format!("{}: 18 °C, sunny", args["city"].as_str().unwrap()));
    let answer = turn(&server, &body).await;
    assert_eq!(
        answer["content"],
        "Here is what I found:\nget_weather: Paris: 18 °C, sunny\nget_weather: Rome: 18 °C, sunny"
    );
    assert!(answer.get("tool_calls").is_none());
}

#[tokio::test]
async fn enum_value_said_in_the_message_is_used_for_a_required_enum() {
    let server = TestServer::test_model().await.unwrap();
    let strict = r#"[{"type":"function","function":{"name":"get_weather","strict":true,"parameters":{
        "type":"object",
        "properties":{"city":{"type":"string"},"units":{"type":"string","enum":["celsius","fahrenheit"]},
                      "days":{"type":["integer","null"]}},
        "required":["city","units","days"],"additionalProperties":false}}}]"#;
    let message = turn_text(&server, ordered_request("How is the weather in New York, in Fahrenheit?", strict)).await;
    // "Fahrenheit" is an enum value, not a place: one call.
    assert_eq!(
        calls(&message),
        [("get_weather".to_owned(), json!({"city": "New York", "units": "fahrenheit", "days": null}))]
    );
    // The arguments keep the schema's property order.
    assert_eq!(
        message["tool_calls"][0]["function"]["arguments"],
        r#"{"city":"New York","units":"fahrenheit","days":null}"#
    );
}

#[tokio::test]
async fn calculator_picks_the_matching_tool_and_reports_its_error() {
    let server = TestServer::test_model().await.unwrap();
    let mut body = request("What is 7 divided by 0?", calculator_tools());
    let message = turn(&server, &body).await;
    assert_eq!(calls(&message), [("divide".to_owned(), json!({"a": 7, "b": 0}))]);
    answer_calls(&mut body, &message, |_, _| "Error: division by zero".to_owned());
    let answer = turn(&server, &body).await;
    assert_eq!(answer["content"], "Here is what I found:\ndivide failed: division by zero");
}

#[tokio::test]
async fn without_a_matching_name_the_model_answers_in_text() {
    let server = TestServer::test_model().await.unwrap();
    for text in ["Hello", "Compute 2 and 3 please"] {
        let message = turn(&server, &request(text, calculator_tools())).await;
        assert!(message.get("tool_calls").is_none(), "no tool named in {text:?}, no call: {message}");
        assert_eq!(message["content"], format!("You said: {text}"));
    }
    let (status, body) = chat(&server.base_url(), &request("Hello", calculator_tools())).await;
    assert_eq!((status, &body["choices"][0]["finish_reason"]), (200, &json!("stop")));
}

#[tokio::test]
async fn required_tool_choice_without_a_matching_name_calls_every_tool() {
    let server = TestServer::test_model().await.unwrap();
    let mut body = request("Compute 2 and 3 please", calculator_tools());
    body["tool_choice"] = json!("required");
    let message = turn(&server, &body).await;
    let names: Vec<String> = calls(&message).into_iter().map(|(name, _)| name).collect();
    assert_eq!(names, ["add", "subtract", "multiply", "divide"]);
    assert!(calls(&message).iter().all(|(_, args)| *args == json!({"a": 2, "b": 3})));
}

#[tokio::test]
async fn no_tools_or_tool_choice_none_echoes() {
    let server = TestServer::test_model().await.unwrap();
    let message = turn(&server, &user("Hello there")).await;
    assert_eq!(message["content"], "You said: Hello there");
    let mut body = request("Weather in Paris?", json!([weather_tool()]));
    body["tool_choice"] = json!("none");
    let message = turn(&server, &body).await;
    assert_eq!(message["content"], "You said: Weather in Paris?");
}

#[tokio::test]
async fn streamed_replies_match_the_non_streamed_ones() {
    let server = TestServer::test_model().await.unwrap();
    let mut body = request("Weather in Paris and in Rome?", json!([weather_tool()]));
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let raw = post(&server.base_url(), &body).await;
    let chunks = chunks(&raw.body);
    assert_eq!(
        streamed_calls(&chunks),
        [
            ("call_0_0".into(), "get_weather".into(), r#"{"city":"Paris"}"#.into()),
            ("call_0_1".into(), "get_weather".into(), r#"{"city":"Rome"}"#.into())
        ]
    );
    assert_eq!(chunks[chunks.len() - 2]["choices"][0]["finish_reason"], "tool_calls");
    assert!(chunks[chunks.len() - 1]["usage"]["prompt_tokens"].as_u64().unwrap() > 10);

    let messages = body["messages"].as_array_mut().unwrap();
    messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_0_0", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}},
        {"id": "call_0_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Rome\"}"}}
    ]}));
    messages.push(json!({"role": "tool", "tool_call_id": "call_0_0", "content": "sunny"}));
    messages.push(json!({"role": "tool", "tool_call_id": "call_0_1", "content": "rainy"}));
    let raw = post(&server.base_url(), &body).await;
    let chunks = support::chunks(&raw.body);
    assert_eq!(streamed_text(&chunks), "Here is what I found:\nget_weather: sunny\nget_weather: rainy");
    assert!(chunks.len() > 6, "word-sized deltas");
}

#[tokio::test]
async fn free_text_targets_take_quoted_phrases_or_the_whole_message() {
    let server = TestServer::test_model().await.unwrap();
    let add_note = tool(
        "add_note",
        json!({"type": "object", "properties": {"text": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
               "required": ["text"]}),
    );
    let message = turn(&server, &request(r#"Add notes "buy milk" and "call Bob""#, json!([add_note.clone()]))).await;
    assert_eq!(
        calls(&message),
        [("add_note".to_owned(), json!({"text": "buy milk"})), ("add_note".to_owned(), json!({"text": "call Bob"}))]
    );
    let message = turn(&server, &request("Note that Bob's birthday is on Friday", json!([add_note]))).await;
    assert_eq!(calls(&message), [("add_note".to_owned(), json!({"text": "Note that Bob's birthday is on Friday"}))]);
}

#[tokio::test]
async fn listing_tools_take_no_invented_values() {
    let server = TestServer::test_model().await.unwrap();
    let list = tool(
        "list_notes",
        json!({"type": "object", "properties": {
            "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10},
            "tag": {"type": "string"}
        }, "required": ["limit"]}),
    );
    let message = turn(&server, &request("List my 3 notes about Paris", json!([list]))).await;
    assert_eq!(calls(&message), [("list_notes".to_owned(), json!({"limit": 10}))]);
}

#[tokio::test]
async fn schemas_with_refs_combinators_and_bounds() {
    let server = TestServer::test_model().await.unwrap();
    let booking = r##"[{"type":"function","function":{"name":"book_trip","parameters":{
        "type": "object",
        "properties": {
            "destination": {"type": "string"},
            "travellers": {"type": "integer", "minimum": 1, "maximum": 4},
            "budget": {"type": "number", "exclusiveMinimum": 0},
            "class": {"$ref": "#/$defs/Class"},
            "traveller": {"$ref": "#/$defs/Person"},
            "stops": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "insurance": {"anyOf": [{"$ref": "#/$defs/Insurance"}, {"type": "null"}]},
            "payment": {"oneOf": [
                {"type": "object", "properties": {"card": {"const": "visa"}}, "required": ["card"]},
                {"type": "object", "properties": {"iban": {"type": "string"}}, "required": ["iban"]}
            ]},
            "extras": {"allOf": [
                {"type": "object", "properties": {"meal": {"type": "boolean"}}, "required": ["meal"]},
                {"type": "object", "properties": {"seat": {"type": "string", "enum": ["aisle", "window"]}},
                 "required": ["seat"]}
            ]},
            "depart": {"type": "string", "format": "date"},
            "contact": {"type": "string", "format": "email"},
            "code": {"type": "string", "minLength": 10},
            "note": {"type": "string"}
        },
        "required": ["destination", "travellers", "budget", "class", "traveller", "stops", "insurance",
                     "payment", "extras", "depart", "contact", "code"],
        "$defs": {
            "Class": {"type": "string", "enum": ["economy", "business"]},
            "Person": {"type": "object", "properties": {
                "age": {"type": "integer", "format": "uint8", "minimum": 0},
                "vip": {"type": "boolean"}
            }, "required": ["age", "vip"]},
            "Insurance": {"type": "object", "properties": {"level": {"type": "string"}}, "required": ["level"]}
        }}}}]"##;
    let text =
        "Book a trip to Lisbon for 9 people with 1500 euros, business class, window seat, write to ana@example.com";
    let message = turn_text(&server, ordered_request(text, booking)).await;
    let calls = calls(&message);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        calls[0].1,
        json!({
            "destination": "Lisbon", "travellers": 4, "budget": 1500, "class": "business",
            "traveller": {"age": 1, "vip": false}, "stops": ["Lisbon"], "insurance": null,
            "payment": {"card": "visa"}, "extras": {"meal": false, "seat": "window"}, "depart": "2025-01-01",
            "contact": "ana@example.com", "code": "examplexxx"
        })
    );
}

#[tokio::test]
async fn final_result_comes_after_the_other_tools() {
    let server = TestServer::test_model().await.unwrap();
    let final_result = tool(
        "final_result",
        json!({"type": "object", "properties": {
            "city": {"type": "string"},
            "temperature_c": {"type": "number"},
            "summary": {"type": "string"},
            "conditions": {"type": "string", "enum": ["sunny", "cloudy", "rainy"]}
        }, "required": ["city", "temperature_c", "summary", "conditions"]}),
    );
    let mut body = request("Weather in Oslo?", json!([weather_tool(), final_result]));
    body["tool_choice"] = json!("required");
    let first = turn(&server, &body).await;
    assert_eq!(calls(&first), [("get_weather".to_owned(), json!({"city": "Oslo"}))]);
    body["tool_choice"] = json!("auto");
    answer_calls(&mut body, &first, |_, _| r#"{"temperature_c": -3.5, "conditions": "cloudy"}"#.to_owned());
    let second = turn(&server, &body).await;
    let (name, arguments) = &calls(&second)[0];
    assert_eq!(name, "final_result");
    assert_eq!(
        arguments,
        &json!({"city": "Oslo", "temperature_c": -3.5,
                "summary": "get_weather: {\"temperature_c\": -3.5, \"conditions\": \"cloudy\"}", "conditions": "cloudy"})
    );
    answer_calls(&mut body, &second, |_, _| "Final result processed.".to_owned());
    let third = turn(&server, &body).await;
    assert!(third["content"].as_str().unwrap().starts_with("Here is what I found:"), "{third}");

    // Alone, final_result is called at once.
    let alone = tool(
        "final_result",
        json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}),
    );
    let message = turn(&server, &request("Extract the person: Grace Hopper", json!([alone]))).await;
    assert_eq!(calls(&message), [("final_result".to_owned(), json!({"name": "Grace Hopper"}))]);
}

#[tokio::test]
async fn json_schema_answers_fill_fields_from_the_message_and_results() {
    let server = TestServer::test_model().await.unwrap();
    let body = r#"{"model":"m",
        "messages":[{"role":"user","content":"Alice Smith is 31 and lives in Berlin; reach her at alice@example.com."}],
        "response_format":{"type":"json_schema","json_schema":{"name":"Person","strict":true,"schema":{
            "type":"object",
            "properties":{"name":{"type":"string"},"age":{"type":"integer","format":"uint32","minimum":0},
                          "city":{"type":"string"},"email":{"type":"string"},
                          "role":{"type":"string","enum":["admin","user"]},"nickname":{"type":["string","null"]}},
            "required":["name","age","city","email","role","nickname"],"additionalProperties":false}}}}"#;
    let message = turn_text(&server, body.to_owned()).await;
    let document: Value = serde_json::from_str(message["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        document,
        json!({"name": "Alice Smith", "age": 31, "city": "Berlin", "email": "alice@example.com", "role": "admin",
               "nickname": "example nickname"})
    );
    // Key order follows the schema.
    assert!(message["content"].as_str().unwrap().starts_with(r#"{"name":"Alice Smith","age":31"#));

    // With tools: calls first, then a document built from the results.
    let mut body = request("Weather in Paris?", json!([weather_tool()]));
    body["response_format"] = json!({"type": "json_schema", "json_schema": {"name": "Report", "schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "temperature": {"type": "number"}, "summary": {"type": "string"}},
        "required": ["city", "temperature", "summary"]
    }}});
    let first = turn(&server, &body).await;
    assert_eq!(calls(&first).len(), 1);
    answer_calls(&mut body, &first, |_, _| "21".to_owned());
    let second = turn(&server, &body).await;
    let document: Value = serde_json::from_str(second["content"].as_str().unwrap()).unwrap();
    assert_eq!(document, json!({"city": "Paris", "temperature": 21, "summary": "get_weather: 21"}));
}

#[tokio::test]
async fn parallel_tool_calls_false_calls_one_per_turn() {
    let server = TestServer::test_model().await.unwrap();
    let mut body = request("Weather in Paris and in Rome?", json!([weather_tool()]));
    body["parallel_tool_calls"] = json!(false);
    let first = turn(&server, &body).await;
    assert_eq!(calls(&first), [("get_weather".to_owned(), json!({"city": "Paris"}))]);
    answer_calls(&mut body, &first, |_, _| "sunny".to_owned());
    let second = turn(&server, &body).await;
    assert_eq!(calls(&second), [("get_weather".to_owned(), json!({"city": "Rome"}))]);
    assert_eq!(second["tool_calls"][0]["id"], "call_1_0");
    answer_calls(&mut body, &second, |_, _| "rainy".to_owned());
    let third = turn(&server, &body).await;
    assert_eq!(third["content"], "Here is what I found:\nget_weather: sunny\nget_weather: rainy");
}

#[tokio::test]
async fn forced_tool_choice_is_obeyed_on_every_request() {
    let server = TestServer::test_model().await.unwrap();
    let mut body = request("What is 2 plus 3?", calculator_tools());
    body["tool_choice"] = json!({"type": "function", "function": {"name": "multiply"}});
    let first = turn(&server, &body).await;
    assert_eq!(calls(&first), [("multiply".to_owned(), json!({"a": 2, "b": 3}))]);
    answer_calls(&mut body, &first, |_, _| "6".to_owned());
    // Still forced: an agent that never resets tool_choice (issue 4) would loop.
    let second = turn(&server, &body).await;
    assert_eq!(calls(&second)[0].0, "multiply");
    assert_eq!(second["tool_calls"][0]["id"], "call_1_0", "ids stay unique");
    body["tool_choice"] = json!("auto");
    answer_calls(&mut body, &second, |_, _| "6".to_owned());
    let third = turn(&server, &body).await;
    assert_eq!(third["content"], "Here is what I found:\nmultiply: 6\nmultiply: 6");
}

#[tokio::test]
async fn queued_replies_come_before_the_model() {
    let server = TestServer::test_model().await.unwrap();
    server.push(Reply::text("scripted first"));
    assert_eq!(turn(&server, &user("hi")).await["content"], "scripted first");
    assert_eq!(turn(&server, &user("hi")).await["content"], "You said: hi");
}

#[tokio::test]
async fn a_multi_turn_conversation_stays_valid_for_the_strict_referee() {
    let server = TestServer::test_model().await.unwrap();
    let tools = json!([weather_tool(), tool("list_cities", json!({"type": "object", "properties": {}}))]);
    let mut body = request("Weather in Paris and in Rome?", tools);
    for question in ["And the weather in Madrid?", "List the cities", "Thanks!"] {
        loop {
            let message = turn(&server, &body).await;
            if message.get("tool_calls").is_none() {
                body["messages"].as_array_mut().unwrap().push(message);
                break;
            }
            answer_calls(&mut body, &message, |name, args| format!("{name} ok for {args}"));
        }
        body["messages"].as_array_mut().unwrap().push(json!({"role": "user", "content": question}));
    }
    // Every request above got a 200 from the validating server; the last user message is answered too.
    let last = turn(&server, &body).await;
    assert!(last.get("tool_calls").is_none(), "no tool named in \"Thanks!\", so a text answer: {last}");
    assert_eq!(last["content"], "You said: Thanks!");
    assert!(server.request_count() >= 7);
}
