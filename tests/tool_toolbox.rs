//! `#[toolbox]`: methods of one value become tools sharing it; registration through `ToolSet`.

use std::sync::{Arc, Mutex};

use toolsmith::{RunContext, Tool, ToolContext, ToolError, ToolSet, ToolSetError, Toolbox};

#[derive(Default)]
struct Notes {
    db: Mutex<Vec<String>>,
}

#[toolsmith::toolbox]
impl Notes {
    /// Save a note.
    ///
    /// # Arguments
    /// * `text` - The note's text.
    #[tool]
    async fn add_note(&self, text: String) -> usize {
        let mut db = self.db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        db.push(text);
        db.len()
    }

    /// List all notes.
    #[tool]
    fn list_notes(&self) -> Vec<String> {
        self.db.lock().map(|db| db.clone()).unwrap_or_default()
    }

    /// Delete a note by its position.
    #[toolsmith::tool(name = "delete_note", strict)]
    fn remove(&self, ctx: &ToolContext, index: usize) -> Result<String, String> {
        let mut db = self.db.lock().map_err(|_| "the notes are unavailable".to_owned())?;
        if index >= db.len() {
            return Err(format!("no note at position {index} (call {})", ctx.call_id()));
        }
        Ok(db.remove(index))
    }

    fn helper(&self) -> usize {
        self.db.lock().map(|db| db.len()).unwrap_or(0)
    }
}

fn context() -> ToolContext {
    ToolContext::new("call_7", "test", RunContext::new())
}

#[tokio::test]
async fn toolbox_methods_share_one_instance() {
    let notes = Arc::new(Notes::default());
    let tools = Arc::clone(&notes).tools();
    let names: Vec<String> = tools.iter().map(|tool| tool.definition().name().to_owned()).collect();
    assert_eq!(names, ["add_note", "list_notes", "delete_note"]);

    let ctx = context();
    assert_eq!(tools[0].call(r#"{"text":"milk"}"#, &ctx).await.unwrap(), "1");
    assert_eq!(tools[0].call(r#"{"text":"eggs"}"#, &ctx).await.unwrap(), "2");
    assert_eq!(tools[1].call("", &ctx).await.unwrap(), r#"["milk","eggs"]"#);
    assert_eq!(tools[2].call(r#"{"index":0}"#, &ctx).await.unwrap(), "milk");
    assert_eq!(
        tools[2].call(r#"{"index":5}"#, &ctx).await,
        Err(ToolError::Failed("no note at position 5 (call call_7)".into()))
    );
    // The methods are still ordinary methods, and non-tool methods are untouched.
    assert_eq!(notes.helper(), 1);
    assert_eq!(notes.add_note("bread".into()).await, 2);
    assert_eq!(notes.list_notes(), ["eggs", "bread"]);
}

#[test]
fn toolbox_definitions() {
    let tools = Arc::new(Notes::default()).tools();
    let add = tools[0].definition();
    assert_eq!(add.description(), "Save a note.");
    assert_eq!(add.parameters()["properties"]["text"]["description"], "The note's text.");
    let delete = tools[2].definition();
    assert!(delete.is_strict());
    assert_eq!(
        delete.parameters(),
        &serde_json::json!({
            "type": "object",
            "properties": {"index": {"type": "integer", "minimum": 0}},
            "required": ["index"],
            "additionalProperties": false
        })
    );
}

/// Ping.
#[toolsmith::tool]
fn ping() -> &'static str {
    "pong"
}

/// Another ping with the same name.
#[toolsmith::tool(name = "ping")]
fn ping_again() -> &'static str {
    "pong"
}

#[test]
fn tool_set_rejects_duplicates_and_keeps_order() {
    let mut set = ToolSet::new();
    set.extend(Arc::new(Notes::default()).tools()).unwrap();
    set.insert(Arc::new(ping)).unwrap();
    assert_eq!(set.insert(Arc::new(ping_again)), Err(ToolSetError::DuplicateTool { name: "ping".into() }));
    assert_eq!(set.names().collect::<Vec<_>>(), ["add_note", "list_notes", "delete_note", "ping"]);
    assert_eq!(set.len(), 4);
    assert_eq!(set.definitions().len(), 4);
    assert_eq!(set.definitions()[3].name(), "ping");
    assert!(set.get("ping").is_some());
    assert!(set.get("pong").is_none());
    assert_eq!(format!("{set:?}"), r#"["add_note", "list_notes", "delete_note", "ping"]"#);
    let err = ToolSetError::DuplicateTool { name: "ping".into() };
    assert!(err.to_string().contains("`ping`"), "{err}");
}

struct Dynamic(&'static str);

impl Tool for Dynamic {
    fn definition(&self) -> toolsmith::ToolDefinition {
        toolsmith::ToolDefinition::new(self.0, "A tool built at run time.", serde_json::json!({"type": "object"}))
    }

    fn call<'a>(&'a self, _: &'a str, _: &'a ToolContext) -> futures::future::BoxFuture<'a, Result<String, ToolError>> {
        Box::pin(async { Ok(String::new()) })
    }
}

#[test]
fn tool_set_validates_hand_written_names() {
    // Q21: providers reject names outside ^[a-zA-Z0-9_-]{1,64}$.
    let mut set = ToolSet::new();
    assert_eq!(
        set.insert(Arc::new(Dynamic("mcp.search"))),
        Err(ToolSetError::InvalidName { name: "mcp.search".into() })
    );
    assert_eq!(set.insert(Arc::new(Dynamic(""))), Err(ToolSetError::InvalidName { name: String::new() }));
    set.insert(Arc::new(Dynamic("mcp_search"))).unwrap();
    assert!(set.contains("mcp_search"));
    assert!(!set.is_empty());
}

struct Threads;

#[toolsmith::toolbox]
impl Threads {
    /// The thread the body ran on.
    #[tool(inline)]
    fn inline_here(&self) -> String {
        format!("{:?}", std::thread::current().id())
    }
}

#[tokio::test]
async fn inline_toolbox_methods_run_in_place() {
    use toolsmith::{RunContext, ToolContext, Toolbox};
    let here = format!("{:?}", std::thread::current().id());
    let tools = std::sync::Arc::new(Threads).tools();
    let ctx = ToolContext::new("call_1", "inline_here", RunContext::new());
    assert_eq!(tools[0].call("{}", &ctx).await.unwrap(), here);
}
