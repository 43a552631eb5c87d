//! Code generation shared by `#[tool]` and `#[toolbox]`: the arguments struct, the parameter assertions and
//! the `Tool` impl.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Ident;
use syn::spanned::Spanned;

use crate::ast::{Output, Param, ToolFn};
use crate::path::Runtime;

/// The hidden struct the model's arguments decode into; its schema is the tool's `parameters`.
pub(crate) fn arguments_struct(rt: &Runtime, tool: &ToolFn, ident: &Ident) -> TokenStream {
    let private = &rt.private;
    let serde_crate = format!("{}::serde", rt.private_str);
    let schemars_crate = format!("{}::schemars", rt.private_str);
    let fields = tool.arguments().map(|argument| {
        let name = &argument.ident;
        let ty = &argument.ty;
        let attrs = &argument.attrs;
        let doc = argument.description.as_ref().map(|text| quote!(#[doc = #text]));
        quote! { #doc #(#attrs)* #name: #ty }
    });
    quote! {
        #[derive(#private::serde::Deserialize, #private::schemars::JsonSchema)]
        #[serde(crate = #serde_crate)]
        #[schemars(crate = #schemars_crate)]
        #[allow(non_camel_case_types)]
        struct #ident { #(#fields,)* }
    }
}

/// One never-called function asserting each parameter type is a `ToolParameter`, spanned at the type so the
/// error points there. (The return type is checked where it is converted, spanned the same way.)
pub(crate) fn assertions(rt: &Runtime, tool: &ToolFn) -> TokenStream {
    let private = &rt.private;
    let parameters = tool.arguments().map(|argument| {
        let ty = &argument.ty;
        quote_spanned!(ty.span()=> #private::assert_parameter::<#ty>();)
    });
    quote! {
        #[allow(dead_code, clippy::all)]
        fn __toolsmith_assertions() {
            #(#parameters)*
        }
    }
}

/// `impl Tool for #target`, whose `call` decodes `#args` and evaluates `invoke` (which reads the arguments
/// from `__args` and the context from `__ctx`).
///
/// A sync body runs on the runtime's blocking threads (`run_blocking`), so it never holds up an async worker:
/// everything it uses is moved there, `capture` being the statements that make owned copies of what `invoke`
/// borrows from `self`. `#[tool(inline)]` runs it in place instead.
pub(crate) fn tool_impl(
    rt: &Runtime,
    tool: &ToolFn,
    target: TokenStream,
    args: &Ident,
    invoke: TokenStream,
    capture: TokenStream,
) -> TokenStream {
    let private = &rt.private;
    let name = &tool.name;
    let description = &tool.description;
    let strict = tool.strict;

    let convert = match &tool.output {
        Output::Result(ty) => quote_spanned!(ty.span()=> #private::ToolResult::into_tool_result(__out)),
        Output::Value(Some(ty)) => quote_spanned!(ty.span()=> #private::ToolOutput::into_tool_output(__out)),
        Output::Value(None) => quote!(#private::ToolOutput::into_tool_output(__out)),
    };
    let body = if tool.is_async {
        quote! {
            let __out = #invoke.await;
            #convert
        }
    } else if tool.inline {
        // `#[tool(inline)]`: the author vouches the body is quick (no I/O, no locks held long), so the
        // hand-off to another thread would cost more than the body.
        quote! {
            let __out = #invoke;
            #convert
        }
    } else {
        let has_context = tool.params.iter().any(|param| matches!(param, Param::Context { .. }));
        let (own_context, lend_context) = if has_context {
            (quote!(let __ctx = #private::ToolContext::clone(__ctx);), quote!(let __ctx = &__ctx;))
        } else {
            (TokenStream::new(), TokenStream::new())
        };
        quote! {
            #own_context
            #capture
            #private::run_blocking(move || {
                #lend_context
                let __out = #invoke;
                #convert
            })
            .await
        }
    };
    quote! {
        impl #private::Tool for #target {
            fn definition(&self) -> #private::ToolDefinition {
                static DEFINITION: #private::OnceLock<#private::ToolDefinition> = #private::OnceLock::new();
                DEFINITION
                    .get_or_init(|| #private::definition_for::<#args>(#name, #description, #strict))
                    .clone()
            }

            fn call<'__toolsmith>(
                &'__toolsmith self,
                __arguments: &'__toolsmith str,
                __ctx: &'__toolsmith #private::ToolContext,
            ) -> #private::Pin<#private::Box<
                dyn #private::Future<Output = #private::Result<#private::String, #private::ToolError>>
                    + ::core::marker::Send
                    + '__toolsmith,
            >> {
                #private::Box::pin(async move {
                    let __args: #args = #private::decode_arguments(__arguments)?;
                    #body
                })
            }
        }
    }
}

/// The expressions passed to the function, in parameter order: `__args.<name>` or `__ctx`.
pub(crate) fn call_arguments(tool: &ToolFn) -> Vec<TokenStream> {
    tool.params
        .iter()
        .map(|param| match param {
            Param::Context { .. } => quote!(__ctx),
            Param::Argument(argument) => {
                let ident = &argument.ident;
                quote!(__args.#ident)
            }
        })
        .collect()
}
