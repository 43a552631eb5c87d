//! The options of `#[tool(...)]`.

use syn::LitStr;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;

#[derive(Default)]
pub(crate) struct ToolOptions {
    pub(crate) name: Option<LitStr>,
    pub(crate) description: Option<LitStr>,
    pub(crate) strict: bool,
    /// `inline`: a sync body runs in place on the async worker instead of the blocking pool (its span, for
    /// the error when the function is `async`).
    pub(crate) inline: Option<proc_macro2::Span>,
}

impl ToolOptions {
    /// Parses one `key` or `key = value` of `#[tool(...)]`.
    pub(crate) fn parse_one(&mut self, meta: ParseNestedMeta) -> syn::Result<()> {
        if meta.path.is_ident("name") {
            if self.name.is_some() {
                return Err(meta.error("`name` is given twice; keep one `name = \"...\"`"));
            }
            self.name = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("description") {
            if self.description.is_some() {
                return Err(meta.error("`description` is given twice; keep one `description = \"...\"`"));
            }
            self.description = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("strict") {
            if self.strict {
                return Err(meta.error("`strict` is given twice; keep one"));
            }
            if meta.input.peek(syn::Token![=]) {
                return Err(meta.error("write `strict` alone, without a value"));
            }
            self.strict = true;
        } else if meta.path.is_ident("inline") {
            if self.inline.is_some() {
                return Err(meta.error("`inline` is given twice; keep one"));
            }
            if meta.input.peek(syn::Token![=]) {
                return Err(meta.error("write `inline` alone, without a value"));
            }
            self.inline = Some(meta.path.span());
        } else {
            let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_else(|| "this key".to_owned());
            return Err(meta.error(format_args!(
                "unknown `#[tool]` option `{key}`; the options are `name = \"...\"`, `description = \"...\"`, `strict` and `inline`"
            )));
        }
        Ok(())
    }
}
