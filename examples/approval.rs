//! A person approves dangerous tool calls: the before-tool-call hook asks y/n on the terminal before
//! `delete_file` runs. Without a terminal (piped, CI) it denies, and the model is told why, so it can tell
//! the user instead of pretending the file is gone.
//!
//! ```text
//! cargo run --example approval            # asks you
//! cargo run --example approval < /dev/null  # denies
//! ```

mod common;

use std::io::{BufRead, IsTerminal, Write};
use std::sync::{LazyLock, Mutex};

use toolsmith::{Agent, Approval, ToolCall, ToolContext};

use common::{Style, paint};

/// A pretend file system, so the example deletes nothing real.
static FILES: LazyLock<Mutex<Vec<String>>> =
    LazyLock::new(|| Mutex::new(vec!["notes.md".into(), "old-report.txt".into(), "budget.xlsx".into()]));

fn files() -> std::sync::MutexGuard<'static, Vec<String>> {
    FILES.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// List the files in the working directory.
#[toolsmith::tool]
fn list_files() -> Vec<String> {
    files().clone()
}

/// Delete a file from the working directory. Needs the user's approval.
///
/// # Arguments
/// * `path` - The file's name, e.g. "notes.md".
#[toolsmith::tool]
fn delete_file(path: String) -> Result<String, String> {
    let mut files = files();
    let position = files.iter().position(|file| *file == path).ok_or(format!("no file named {path:?}"))?;
    files.remove(position);
    Ok(format!("deleted {path}"))
}

/// The hook: read-only tools run; `delete_file` needs a yes from a person at the terminal.
async fn approve(call: ToolCall, _ctx: ToolContext) -> Approval {
    if call.function.name != "delete_file" {
        return Approval::Approve;
    }
    if !std::io::stdin().is_terminal() {
        return Approval::Deny(
            "deleting needs the user's approval and no one is at a terminal to give it; tell the user to run \
             the request interactively or delete the file themselves"
                .into(),
        );
    }
    // Parallel calls ask one at a time.
    static ASKING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ASKING.lock().await;
    let question = format!("allow {} {}? [y/N] ", call.function.name, call.function.arguments);
    // Reading the terminal blocks: keep it off the runtime's worker threads.
    let answer = tokio::task::spawn_blocking(move || {
        print!("{}", paint(Style::Yellow, &question));
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map(|_| line)
    })
    .await;
    match answer {
        Ok(Ok(line)) if matches!(line.trim().to_lowercase().as_str(), "y" | "yes") => Approval::Approve,
        _ => Approval::Deny("the user declined to delete the file".into()),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = common::endpoint().await?;
    let agent = Agent::builder(endpoint.client, endpoint.model)
        .instructions(
            "You manage the user's files with your tools. If a call is not run, tell the user why in one \
             sentence.",
        )
        .tool(list_files)
        .tool(delete_file)
        .before_tool_call(approve)
        .max_tokens(512)
        .build();

    let request = "Please delete the file 'old-report.txt'.";
    println!("{}", paint(Style::Bold, request));
    common::print_stream(agent.stream(request)).await?;
    println!("{}", paint(Style::Dim, &format!("files now: {}", files().join(", "))));
    Ok(())
}
