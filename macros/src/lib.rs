//! The `#[tool]` and `#[toolbox]` attribute macros. Use them through the `toolsmith` crate.

use proc_macro::TokenStream;

/// Turns a function into a tool.
#[proc_macro_attribute]
pub fn tool(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}

/// Turns the `#[tool]` methods of an impl block into tools sharing one instance.
#[proc_macro_attribute]
pub fn toolbox(_args: TokenStream, input: TokenStream) -> TokenStream {
    input
}
