//! `#[tool]` on a free function: a struct (and a constant) of the same name that implements `Tool` and derefs to the
//! original function, so `get_weather(..)` still calls it and `.tool(get_weather)` registers it.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{Attribute, ItemFn, Type};

use crate::ast::{self, Output, Param, Position, ToolFn};
use crate::attr::ToolOptions;
use crate::errors::Errors;
use crate::expand;
use crate::path::Runtime;

pub(crate) fn expand(options: ToolOptions, mut errors: Errors, mut func: ItemFn) -> TokenStream {
    let tool = ast::analyze(options, &func.attrs, &mut func.sig, Position::Free, &mut errors);
    let Some(tool) = tool.filter(|_| errors.is_empty()) else {
        // Keep the function (its parameter attributes already stripped) so code calling it still checks,
        // and report every problem at once.
        let errors = errors.to_compile_errors();
        return quote!(#errors #func);
    };
    generate(&Runtime::resolve(), &tool, func)
}

fn is_cfg(attr: &Attribute) -> bool {
    attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr")
}

fn generate(rt: &Runtime, tool: &ToolFn, func: ItemFn) -> TokenStream {
    let ItemFn { attrs, vis, sig, block } = func;
    let ident = &sig.ident;
    let cfgs: Vec<&Attribute> = attrs.iter().filter(|attr| is_cfg(attr)).collect();
    let (struct_attrs, fn_attrs): (Vec<&Attribute>, Vec<&Attribute>) = attrs
        .iter()
        .filter(|attr| !is_cfg(attr))
        .partition(|attr| attr.path().is_ident("doc") || attr.path().is_ident("deprecated"));
    // A tool described only by `#[tool(description = "...")]` still gets documented items.
    let description = &tool.description;
    let fallback_doc =
        (!struct_attrs.iter().any(|attr| attr.path().is_ident("doc"))).then(|| quote!(#[doc = #description]));
    let args = format_ident!("__ToolsmithArgs");
    let arguments_struct = expand::arguments_struct(rt, tool, &args);
    let assertions = expand::assertions(rt, tool);
    let call_arguments = expand::call_arguments(tool);
    let tool_impl =
        expand::tool_impl(rt, tool, quote!(#ident), &args, quote!(#ident(#(#call_arguments),*)), TokenStream::new());
    let deref = deref_impl(rt, tool);
    quote! {
        // A braced struct plus a constant of the same name, rather than a unit struct: the name works as a
        // type and as a value alike, and a call such as `reset();` is a call through a constant, which lints
        // (clippy's `no_effect`) do not mistake for building a struct.
        #(#cfgs)*
        #(#struct_attrs)*
        #fallback_doc
        #[allow(non_camel_case_types)]
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #ident {}

        #(#cfgs)*
        #(#struct_attrs)*
        #fallback_doc
        #[allow(non_upper_case_globals)]
        #vis const #ident: #ident = #ident {};

        #(#cfgs)*
        const _: () = {
            // The original function, under its own name inside this block: the struct's `Deref` and `Tool`
            // impls call it, and so does the body if it recurses.
            #(#fn_attrs)*
            #sig #block

            // Before the arguments struct, so the clear "cannot be a tool parameter" error comes first.
            #assertions
            #arguments_struct
            #tool_impl
            #deref
        };
    }
}

/// `impl Deref for get_weather { type Target = fn(..) -> R; }`; for an `async fn`, the target returns a boxed
/// `Send` future borrowing the `&ToolContext` if there is one.
fn deref_impl(rt: &Runtime, tool: &ToolFn) -> TokenStream {
    let private = &rt.private;
    let ident = &tool.ident;
    let output = match &tool.output {
        Output::Result(ty) | Output::Value(Some(ty)) => quote!(#ty),
        Output::Value(None) => quote!(()),
    };
    if !tool.is_async {
        let types = tool.params.iter().map(param_type);
        let target = quote!(fn(#(#types),*) -> #output);
        let target_item = target_item(ident, &target);
        return quote! {
            impl #private::Deref for #ident {
                #target_item
                fn deref(&self) -> &Self::Target {
                    static FUNCTION: #target = #ident;
                    &FUNCTION
                }
            }
        };
    }
    let has_context = tool.params.iter().any(|param| matches!(param, Param::Context { .. }));
    let lifetime = if has_context { quote!('__toolsmith) } else { quote!('static) };
    let binder = if has_context { quote!(for<'__toolsmith>) } else { TokenStream::new() };
    let generics = if has_context { quote!(<'__toolsmith>) } else { TokenStream::new() };
    let types: Vec<TokenStream> = tool
        .params
        .iter()
        .map(|param| match param {
            Param::Context { ty: Type::Reference(reference), .. } => {
                let elem = &reference.elem;
                quote!(&'__toolsmith #elem)
            }
            other => param_type(other),
        })
        .collect();
    let bindings: Vec<_> = (0..types.len()).map(|index| format_ident!("__arg{}", index)).collect();
    let future = quote! {
        #private::Pin<#private::Box<dyn #private::Future<Output = #output> + ::core::marker::Send + #lifetime>>
    };
    let target = quote!(#binder fn(#(#types),*) -> #future);
    let target_item = target_item(ident, &target);
    quote! {
        impl #private::Deref for #ident {
            #target_item
            fn deref(&self) -> &Self::Target {
                fn boxed #generics (#(#bindings: #types),*) -> #future {
                    #private::Box::pin(#ident(#(#bindings),*))
                }
                static FUNCTION: #target = boxed;
                &FUNCTION
            }
        }
    }
}

/// `type Target = ...;`, spanned at the function's name: the target names the parameter and return types, so
/// a `pub` tool using a private type is reported there (E0446) rather than at the attribute.
fn target_item(ident: &syn::Ident, target: &TokenStream) -> TokenStream {
    quote_spanned!(ident.span()=> type Target = #target;)
}

fn param_type(param: &Param) -> TokenStream {
    match param {
        Param::Context { ty, .. } => quote!(#ty),
        Param::Argument(argument) => {
            let ty = &argument.ty;
            quote!(#ty)
        }
    }
}
