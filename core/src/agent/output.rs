//! How a run gets its final answer: free text, or a typed value through `response_format: json_schema` or,
//! for providers without it, a `final_result` tool (L12).

use serde::de::DeserializeOwned;

use crate::tool::ToolDefinition;
use crate::wire::{ResponseFormat, ToolCall};

use super::state::OutputKind;

/// The name of the tool that carries a typed answer when the provider has no `json_schema` support.
pub const FINAL_RESULT_TOOL: &str = "final_result";

type Validator = Box<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

pub(crate) enum OutputMode {
    /// Any text is the answer.
    Text,
    /// The answer text must decode as the output type.
    Native { format: ResponseFormat, validate: Validator },
    /// The answer comes as the `final_result` tool's arguments.
    Tool { definition: ToolDefinition, validate: Validator },
}

impl OutputMode {
    pub(crate) fn typed<T: DeserializeOwned + schemars::JsonSchema>(native: bool) -> Self {
        let schema = crate::tool::schema_for::<T>(true);
        let validate: Validator = Box::new(|text| decode::<T>(text).map(drop));
        if native {
            let mut format = ResponseFormat::json_schema(schema_name::<T>(), schema);
            if let ResponseFormat::JsonSchema { json_schema } = &mut format {
                json_schema.strict = Some(true);
            }
            OutputMode::Native { format, validate }
        } else {
            let definition = ToolDefinition::new_strict(
                FINAL_RESULT_TOOL,
                "Give the final answer. Call this once, with the complete answer, when you are done.",
                schema,
            );
            OutputMode::Tool { definition, validate }
        }
    }

    pub(crate) fn kind(&self) -> OutputKind {
        match self {
            OutputMode::Text => OutputKind::Text,
            OutputMode::Native { .. } => OutputKind::Native,
            OutputMode::Tool { .. } => OutputKind::Tool,
        }
    }

    pub(crate) fn tool_definition(&self) -> Option<&ToolDefinition> {
        match self {
            OutputMode::Tool { definition, .. } => Some(definition),
            _ => None,
        }
    }

    pub(crate) fn response_format(&self) -> Option<ResponseFormat> {
        match self {
            OutputMode::Native { format, .. } => Some(format.clone()),
            _ => None,
        }
    }

    /// Checks a text answer (a turn without tool calls).
    pub(crate) fn check_answer(&self, text: &str) -> Result<(), String> {
        match self {
            OutputMode::Text => Ok(()),
            OutputMode::Native { validate, .. } => validate(text),
            // A model may answer in text after all; accept it when it is the value asked for.
            OutputMode::Tool { validate, .. } => {
                validate(text).map_err(|_| format!("no call to `{FINAL_RESULT_TOOL}`"))
            }
        }
    }

    /// The message that asks the model to try again after `problem`.
    pub(crate) fn correction(&self, problem: &str) -> String {
        match self {
            OutputMode::Tool { .. } => format!(
                "Your answer was not accepted ({problem}). Call the `{FINAL_RESULT_TOOL}` tool with the complete answer."
            ),
            _ => format!(
                "Your answer was not accepted: {problem}. Reply again with only the JSON value that matches the \
                 requested schema."
            ),
        }
    }

    /// The position of the `final_result` call (the first one), when the answer comes through that tool.
    pub(crate) fn final_call_index(&self, calls: &[ToolCall]) -> Option<usize> {
        match self {
            OutputMode::Tool { .. } => calls.iter().position(|call| call.function.name == FINAL_RESULT_TOOL),
            _ => None,
        }
    }

    /// The tool message for the `final_result` call and the answer it carries, or why it was rejected.
    pub(crate) fn take_final_call(&self, call: &ToolCall) -> (String, Result<String, String>) {
        let OutputMode::Tool { validate, .. } = self else {
            return (String::new(), Err("no typed output was requested".to_owned()));
        };
        let arguments = if call.function.arguments.trim().is_empty() { "{}" } else { call.function.arguments.as_str() };
        match validate(arguments) {
            Ok(()) => ("Final result accepted.".to_owned(), Ok(arguments.to_owned())),
            Err(problem) => (
                format!("Error: the final result was not accepted: {problem}. Call `{FINAL_RESULT_TOOL}` again."),
                Err(problem),
            ),
        }
    }
}

/// Decodes an answer, tolerating a Markdown code fence around the JSON (small models add one).
pub(crate) fn decode<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let trimmed = strip_fence(text.trim());
    serde_json::from_str(trimmed).map_err(|error| error.to_string())
}

fn strip_fence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else { return text };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric());
    rest.strip_suffix("```").unwrap_or(rest).trim()
}

/// A `json_schema.name` from the type's name: the pattern of tool names, at most 64 characters.
fn schema_name<T>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let last = base.rsplit("::").next().unwrap_or(base);
    let name: String = last.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').take(64).collect();
    if name.is_empty() { "output".to_owned() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_fenced_json() {
        let value: serde_json::Value = decode("```json\n{\"a\": 1}\n```").unwrap();
        assert_eq!(value["a"], 1);
    }

    #[test]
    fn schema_names_follow_the_tool_name_pattern() {
        assert_eq!(schema_name::<Vec<String>>(), "Vec");
        assert_eq!(schema_name::<u8>(), "u8");
    }
}
