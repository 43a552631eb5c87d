//! The `#[tool]` and `#[toolbox]` attribute macros. Use them through the `toolsmith` crate, whose docs show
//! them in use; generated code reaches the runtime only through `toolsmith::__private`.

mod ast;
mod attr;
mod docs;
mod errors;
mod expand;
mod path;
mod tool_fn;
mod toolbox;

use proc_macro::TokenStream;
use syn::parse::Parser;

use crate::attr::ToolOptions;
use crate::errors::Errors;

/// Turns a function into a tool the model can call.
///
/// The function is replaced by a unit struct of the same name that implements `toolsmith::Tool` and still
/// calls like the function (`get_weather("Paris".into(), None)`, with `.await` if it is `async`). Register
/// it by name: `.tool(get_weather)`.
///
/// - Name: the function's name, or `#[tool(name = "...")]` (1 to 64 of `a-zA-Z0-9_-`).
/// - Description: the doc comment up to its `# Arguments` section, or `#[tool(description = "...")]`.
/// - Parameter descriptions: the `# Arguments` list (`` * `city` - text ``) or a `///` comment on the
///   parameter. `#[serde(...)]` and `#[schemars(...)]` on a parameter apply to its argument.
/// - Parameters: any `Deserialize + JsonSchema` type, plus one optional `&ToolContext` (not in the schema).
/// - Returns: any `Serialize` type, `()`, or a `Result<T, E>` with `E: Display`, whose error text goes back
///   to the model.
/// - `#[tool(strict)]`: an OpenAI strict-mode schema and `"strict": true`.
/// - Where it runs: an `async fn` runs on the agent's task. A sync `fn` runs on tokio's blocking pool, so a
///   slow body never stalls the runtime and a timeout can stop waiting for it; `#[tool(inline)]` runs a sync
///   body in place instead, which saves the thread hand-off (a few microseconds per call) for bodies that
///   are quick and never block (arithmetic, lookups in memory). A tool timeout cannot interrupt an inline
///   body.
///
/// The types of a `pub` tool must be at least as visible as the function: the struct's `Deref` target names
/// them (the compiler reports E0446 at the function's name otherwise).
#[proc_macro_attribute]
pub fn tool(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let mut options = ToolOptions::default();
    if let Err(error) = syn::meta::parser(|meta| options.parse_one(meta)).parse(args) {
        errors.push(error);
    }
    let item = match syn::parse::<syn::Item>(input.clone()) {
        Ok(syn::Item::Fn(func)) => func,
        Ok(other) => {
            errors.spanned(
                item_keyword(&other),
                "`#[tool]` goes on a function (`fn` or `async fn`); for methods sharing state, put `#[toolbox]` on \
                 the impl block and `#[tool]` on the methods",
            );
            let mut out = errors.to_compile_errors();
            out.extend(proc_macro2::TokenStream::from(input));
            return out.into();
        }
        // A method (`fn m(&self)`) inside a plain impl block also parses as a function; anything else is a
        // syntax error the compiler reports better.
        Err(error) => return error.to_compile_error().into(),
    };
    tool_fn::expand(options, errors, item).into()
}

/// The tokens naming what an item is (`struct Foo`, `impl ...`), where the "not a function" error points.
fn item_keyword(item: &syn::Item) -> proc_macro2::TokenStream {
    use quote::ToTokens;
    let mut tokens = proc_macro2::TokenStream::new();
    match item {
        syn::Item::Struct(item) => {
            item.struct_token.to_tokens(&mut tokens);
            item.ident.to_tokens(&mut tokens);
        }
        syn::Item::Enum(item) => {
            item.enum_token.to_tokens(&mut tokens);
            item.ident.to_tokens(&mut tokens);
        }
        syn::Item::Impl(item) => {
            item.impl_token.to_tokens(&mut tokens);
            item.self_ty.to_tokens(&mut tokens);
        }
        other => other.to_tokens(&mut tokens),
    }
    tokens
}

/// Turns the `#[tool]` methods of an inherent impl block into tools sharing one instance.
///
/// Implements `toolsmith::Toolbox` for the type: `.toolbox(Arc::new(value))` registers one tool per
/// `#[tool]` method (which take `&self`; keep changing state behind a `Mutex` or similar). Other methods
/// are left alone. The `#[tool]` options and parameter rules are those of [`macro@tool`].
#[proc_macro_attribute]
pub fn toolbox(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    if !args.is_empty() {
        errors.spanned(proc_macro2::TokenStream::from(args), "`#[toolbox]` takes no options");
    }
    match syn::parse::<syn::ItemImpl>(input.clone()) {
        Ok(item) => toolbox::expand(errors, item).into(),
        Err(_) => {
            let item_tokens = proc_macro2::TokenStream::from(input);
            errors.at(
                proc_macro2::Span::call_site(),
                "`#[toolbox]` goes on an impl block (`impl Type { ... }`) whose `#[tool]` methods become tools",
            );
            let mut out = errors.to_compile_errors();
            out.extend(item_tokens);
            out.into()
        }
    }
}
