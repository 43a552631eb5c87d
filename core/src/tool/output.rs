//! Turning a tool's return value into the text of its tool message.
//!
//! `#[tool]` picks the conversion from the return type as written: `()` (or no return type) becomes
//! [`UNIT_OUTPUT`], a type whose last path segment is `Result` goes through [`ToolResult`], anything else
//! through [`ToolOutput`].

use std::fmt::Display;

use serde::Serialize;

use super::ToolError;

/// The text sent to the model for a tool that returns `()`.
pub const UNIT_OUTPUT: &str = "done";

/// A value a tool can return: anything [`Serialize`]. A value that serializes to a JSON string (`String`,
/// `&str`, a unit enum variant, ...) is sent as its text, anything else as compact JSON.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a tool: it does not implement `serde::Serialize`",
    label = "returned here",
    note = "derive it with `#[derive(serde::Serialize)]`, or return a `String`"
)]
pub trait ToolOutput {
    /// The tool message text.
    fn into_tool_output(self) -> Result<String, ToolError>;
}

impl<T: Serialize> ToolOutput for T {
    fn into_tool_output(self) -> Result<String, ToolError> {
        to_text(&self)
    }
}

/// A `Result` a tool can return: `Ok` is converted like [`ToolOutput`] (`Ok(())` gives [`UNIT_OUTPUT`]),
/// `Err` becomes [`ToolError::Failed`] with the error's `Display` text (its alternate form `{:#}`, which for
/// `anyhow::Error` includes the causes).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be returned from a tool",
    label = "returned here",
    note = "a tool may return `Result<T, E>` where `T: serde::Serialize` and `E: std::fmt::Display`"
)]
pub trait ToolResult {
    /// The tool message text, or the error the model sees.
    fn into_tool_result(self) -> Result<String, ToolError>;
}

impl<T: Serialize, E: Display> ToolResult for Result<T, E> {
    fn into_tool_result(self) -> Result<String, ToolError> {
        match self {
            Ok(value) => to_text(&value),
            Err(error) => Err(ToolError::Failed(format!("{error:#}"))),
        }
    }
}

fn to_text<T: Serialize + ?Sized>(value: &T) -> Result<String, ToolError> {
    let json = serde_json::to_string(value)
        .map_err(|error| ToolError::Failed(format!("the tool's result could not be serialized: {error}")))?;
    if json == "null" {
        // `()`, `Ok(())` and unit structs carry no data; an `Option` that is `None` (never zero-sized) stays
        // `null`, which means something to the model.
        return Ok(if std::mem::size_of_val(value) == 0 { UNIT_OUTPUT.to_owned() } else { json });
    }
    if json.starts_with('"') {
        // A JSON string: send its text, not its quoted form.
        return serde_json::from_str::<String>(&json).or(Ok(json));
    }
    Ok(json)
}
