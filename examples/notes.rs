//! A note keeper: a `#[toolbox]` whose tools share one `Notes` value, used over a multi-turn session that
//! is saved to JSON and restored between two messages, as an application would between two requests.
//!
//! ```text
//! cargo run --example notes
//! ```

mod common;

use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use toolsmith::{Agent, Message};

use common::{Style, paint};

#[derive(Clone, Serialize)]
struct Note {
    id: usize,
    text: String,
}

/// The tools' shared state: every tool of the toolbox holds the same `Arc<Notes>`.
#[derive(Default)]
struct Notes {
    notes: Mutex<Vec<Note>>,
    next_id: Mutex<usize>,
}

#[toolsmith::toolbox]
impl Notes {
    /// Add a note to the user's list.
    ///
    /// # Arguments
    /// * `text` - The note, in the user's words.
    #[tool]
    fn add_note(&self, text: String) -> String {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *next += 1;
            *next
        };
        self.notes().push(Note { id, text });
        format!("added note {id}")
    }

    /// List every note, oldest first.
    #[tool]
    fn list_notes(&self) -> Vec<Note> {
        self.notes().clone()
    }

    /// Remove a note by its id.
    ///
    /// # Arguments
    /// * `id` - The note's id, as `add_note` and `list_notes` report it.
    #[tool]
    fn remove_note(&self, id: usize) -> Result<String, String> {
        let mut notes = self.notes();
        let position = notes.iter().position(|note| note.id == id).ok_or(format!("there is no note {id}"))?;
        let removed = notes.remove(position);
        Ok(format!("removed note {id}: {}", removed.text))
    }

    // Not a tool: `#[toolbox]` leaves methods without `#[tool]` alone.
    fn notes(&self) -> std::sync::MutexGuard<'_, Vec<Note>> {
        self.notes.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

// One thread: the two calls of a turn then start in the order the model made them, so note ids follow the
// order of the request (on a multi-threaded runtime they run in parallel, in any order).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = common::endpoint().await?;
    let notes = Arc::new(Notes::default());
    let agent = Agent::builder(endpoint.client, endpoint.model)
        .instructions("You keep the user's notes with your tools. Answer in one or two short sentences.")
        .toolbox(notes.clone())
        .max_tokens(512)
        .build();

    let mut session = agent.session();
    say(&mut session, "Add 'buy oat milk' and 'call Ada on Friday'.").await?;

    // Between two requests, an application keeps the conversation somewhere: here, a JSON file.
    let path = std::env::temp_dir().join(format!("toolsmith-notes-{}.json", std::process::id()));
    let saved = serde_json::to_string_pretty(session.messages())?;
    std::fs::write(&path, &saved)?;
    drop(session);
    println!("{}", paint(Style::Dim, &format!("saved {} bytes to {}; restoring", saved.len(), path.display())));
    let messages: Vec<Message> = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    std::fs::remove_file(&path)?;
    let mut session = agent.resume(messages);

    say(&mut session, "Remove number 1, I did that already.").await?;
    say(&mut session, "Show me the full list.").await?;

    let left: Vec<String> = notes.notes().iter().map(|note| format!("{}: {}", note.id, note.text)).collect();
    println!("{}", paint(Style::Dim, &format!("notes kept: {}", left.join("; "))));
    Ok(())
}

async fn say(session: &mut toolsmith::Session, text: &str) -> Result<(), Box<dyn std::error::Error>> {
    println!("{} {}", paint(Style::Bold, "you>"), text);
    let started = Instant::now();
    let result = session.send(text).await?;
    common::print_run(&result, started.elapsed());
    println!();
    Ok(())
}
