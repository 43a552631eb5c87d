//! Where generated code finds the runtime: `::toolsmith::__private`, under whatever name the user gave the
//! dependency.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::quote;

pub(crate) struct Runtime {
    /// `::toolsmith::__private` (or `::renamed::__private`).
    pub(crate) private: TokenStream,
    /// The same path as a string, for `#[serde(crate = "...")]` and `#[schemars(crate = "...")]`.
    pub(crate) private_str: String,
}

impl Runtime {
    pub(crate) fn resolve() -> Self {
        let name = match crate_name("toolsmith") {
            Ok(FoundCrate::Name(name)) => name,
            // `Itself`: the facade's own tests and examples, where `extern crate self as toolsmith;` applies.
            // Not found (e.g. only `toolsmith-macros` is listed): the usual name gives the clearest error.
            Ok(FoundCrate::Itself) | Err(_) => "toolsmith".to_owned(),
        };
        let ident = syn::Ident::new(&name, Span::call_site());
        Runtime { private: quote!(::#ident::__private), private_str: format!("::{name}::__private") }
    }
}
