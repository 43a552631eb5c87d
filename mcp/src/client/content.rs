//! An MCP tool result as the text of a tool message: text joined, `structuredContent` as JSON, everything else
//! described in words (the tool message is text; a model cannot read base64).

use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};

/// Sent when a result has no content at all, so the model does not read an empty message as a failure.
pub(crate) const EMPTY_RESULT: &str = "(the tool returned no content)";

/// The text of `result`.
pub(crate) fn result_text(result: &CallToolResult) -> String {
    let mut parts: Vec<String> = result.content.iter().map(block_text).collect();
    if let Some(structured) = &result.structured_content {
        // The spec has servers repeat structured content as text; some wrap it (the Python SDK sends
        // `{"result": ...}` beside the plain text). The text is what the server meant a reader to see, so the
        // JSON goes in only when there is no text.
        if !result.content.iter().any(|block| block.as_text().is_some()) {
            parts.push(structured.to_string());
        }
    }
    if parts.is_empty() { EMPTY_RESULT.to_owned() } else { parts.join("\n") }
}

fn block_text(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Image(image) => format!("[image: {}, {} bytes]", image.mime_type, decoded_len(&image.data)),
        ContentBlock::Audio(audio) => format!("[audio: {}, {} bytes]", audio.mime_type, decoded_len(&audio.data)),
        ContentBlock::Resource(embedded) => match &embedded.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => format!("[resource {uri}]\n{text}"),
            ResourceContents::BlobResourceContents { uri, mime_type, blob, .. } => {
                format!("[resource {uri}: {}, {} bytes]", mime_type.as_deref().unwrap_or("binary"), decoded_len(blob))
            }
            other => describe_unknown(other),
        },
        ContentBlock::ResourceLink(link) => {
            let mut text = format!("[resource link {}: {}", link.uri, link.name);
            if let Some(description) = &link.description {
                text.push_str(" - ");
                text.push_str(description);
            }
            text.push(']');
            text
        }
        other => describe_unknown(other),
    }
}

/// A content kind newer than this crate: its JSON, so nothing is lost.
fn describe_unknown<T: serde::Serialize>(content: &T) -> String {
    serde_json::to_string(content).unwrap_or_else(|_| "[content of an unknown kind]".to_owned())
}

/// The size of base64 `data` once decoded.
fn decoded_len(data: &str) -> usize {
    let padding = data.bytes().rev().take_while(|&byte| byte == b'=').count();
    (data.len() / 4 * 3).saturating_sub(padding)
}

#[cfg(test)]
mod tests {
    use rmcp::model::{ContentBlock, Resource};
    use serde_json::json;

    use super::*;

    #[test]
    fn text_is_joined_and_structured_content_sent_once() {
        let result = CallToolResult::success(vec![ContentBlock::text("a"), ContentBlock::text("b")]);
        assert_eq!(result_text(&result), "a\nb");
        let mut result = CallToolResult::success(vec![ContentBlock::text("1")]);
        result.structured_content = Some(json!({"result": 1}));
        assert_eq!(result_text(&result), "1");
        let mut result = CallToolResult::success(vec![]);
        result.structured_content = Some(json!({"x": 1}));
        assert_eq!(result_text(&result), r#"{"x":1}"#);
        assert_eq!(result_text(&CallToolResult::success(vec![])), EMPTY_RESULT);
    }

    #[test]
    fn binary_content_is_described() {
        let result = CallToolResult::success(vec![
            ContentBlock::image("aGVsbG8=", "image/png"),
            ContentBlock::embedded_text("file:///a.txt", "hello"),
            ContentBlock::resource_link(Resource::new("file:///b", "b")),
        ]);
        assert_eq!(
            result_text(&result),
            "[image: image/png, 5 bytes]\n[resource file:///a.txt]\nhello\n[resource link file:///b: b]"
        );
    }
}
