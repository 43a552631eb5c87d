//! An agent on the tools of any MCP server. With no arguments it spawns `examples/mcp_server.rs` (the weather
//! tools) and asks about the weather; give another server's command line, or its Streamable HTTP URL, and a
//! question with `--ask`:
//!
//! ```text
//! cargo run --features mcp --example mcp_client
//! cargo run --features mcp --example mcp_client -- npx -y @modelcontextprotocol/server-everything
//! cargo run --features mcp --example mcp_client -- --ask "Add 2 and 3" http://127.0.0.1:3001/mcp
//! ```
//!
//! Offline with the built-in test model unless an endpoint is configured (see `examples/common`).

mod common;

use std::path::PathBuf;

use toolsmith::Agent;
use toolsmith::mcp::McpClient;

use common::{Style, paint};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut question = None;
    if let Some(at) = args.iter().position(|arg| arg == "--ask") {
        args.remove(at);
        question = Some(if at < args.len() { args.remove(at) } else { String::new() });
    }
    let (server, default_question) = match McpClient::command_line(args) {
        Some(server) => (server, "What can you do? Use one of your tools."),
        // The example server, built next to this one.
        None => {
            (McpClient::stdio(sibling("mcp_server")?.to_string_lossy()), "What is the weather in Paris and in Tokyo?")
        }
    };
    let question = question.filter(|text| !text.is_empty()).unwrap_or_else(|| default_question.to_owned());

    let mcp = server.connect().await?;
    let details = mcp.server();
    eprintln!(
        "{}",
        paint(
            Style::Dim,
            &format!(
                "MCP server {} {} (protocol {}): {}",
                details.name.as_deref().unwrap_or("?"),
                details.version.as_deref().unwrap_or(""),
                details.protocol_version,
                mcp.tools().names().collect::<Vec<_>>().join(", ")
            )
        )
    );
    for report in mcp.schema_reports() {
        eprintln!("{}", paint(Style::Dim, &format!("schema of {}: {report:?}", report.tool)));
    }

    let endpoint = common::endpoint().await?;
    let instructions = match mcp.instructions() {
        Some(server) => format!("You are a concise assistant. About your tools: {server}"),
        None => "You are a concise assistant.".to_owned(),
    };
    let agent = Agent::builder(endpoint.client, endpoint.model)
        .instructions(instructions)
        .tools(mcp.clone())
        .max_tokens(512)
        .build();
    println!("{}", paint(Style::Bold, &question));
    common::print_stream(agent.stream(question.as_str())).await?;
    Ok(())
}

/// Another example's binary, next to this one in `target/<profile>/examples`.
fn sibling(name: &str) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        return Err(format!(
            "{} not found: build it first (cargo build --features mcp --example {name})",
            path.display()
        )
        .into());
    }
    Ok(path)
}
