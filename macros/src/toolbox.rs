//! `#[toolbox]` on an impl block: its `#[tool]` methods become tools sharing one `Arc` of the value.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Attribute, ImplItem, ItemImpl, Meta};

use crate::ast::{self, Position, ToolFn};
use crate::attr::ToolOptions;
use crate::errors::Errors;
use crate::expand;
use crate::path::Runtime;

/// Whether `attr` is `#[tool]`, `#[tool(...)]` or a path ending in `tool` (`#[toolsmith::tool]`).
fn is_tool_attr(attr: &Attribute) -> bool {
    attr.path().segments.last().is_some_and(|last| last.ident == "tool")
}

fn options_of(attr: &Attribute, errors: &mut Errors) -> ToolOptions {
    let mut options = ToolOptions::default();
    match &attr.meta {
        Meta::Path(_) => {}
        Meta::List(_) => {
            if let Err(error) = attr.parse_nested_meta(|meta| options.parse_one(meta)) {
                errors.push(error);
            }
        }
        Meta::NameValue(pair) => {
            errors.spanned(pair, "write `#[tool]` or `#[tool(name = \"...\", description = \"...\", strict, inline)]`")
        }
    }
    options
}

pub(crate) fn expand(mut errors: Errors, mut item: ItemImpl) -> TokenStream {
    if let Some((_, trait_path, _)) = &item.trait_ {
        errors.spanned(
            trait_path,
            "`#[toolbox]` goes on an inherent impl block (`impl Type { ... }`), not on a trait impl",
        );
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        errors.spanned(
            &item.generics,
            "a `#[toolbox]` impl block cannot be generic: each tool has one fixed schema; implement it for a \
             concrete type",
        );
    }
    let mut tools: Vec<ToolFn> = Vec::new();
    for impl_item in item.items.iter_mut() {
        let ImplItem::Fn(method) = impl_item else { continue };
        let Some(position) = method.attrs.iter().position(is_tool_attr) else { continue };
        let attr = method.attrs.remove(position);
        let options = options_of(&attr, &mut errors);
        for extra in method.attrs.iter().filter(|attr| is_tool_attr(attr)) {
            errors.spanned(extra, "this method is already marked `#[tool]`: keep one");
        }
        method.attrs.retain(|attr| !is_tool_attr(attr));
        if let Some(tool) = ast::analyze(options, &method.attrs, &mut method.sig, Position::Method, &mut errors) {
            tools.push(tool);
        }
    }
    if tools.is_empty() && errors.is_empty() {
        errors.spanned(
            &item.self_ty,
            "this `#[toolbox]` has no `#[tool]` methods: mark the methods the model may call with `#[tool]`",
        );
    }
    if !errors.is_empty() {
        let errors = errors.to_compile_errors();
        return quote!(#errors #item);
    }
    let generated = generate(&Runtime::resolve(), &item, &tools);
    quote!(#item #generated)
}

fn generate(rt: &Runtime, item: &ItemImpl, tools: &[ToolFn]) -> TokenStream {
    let private = &rt.private;
    let self_ty = &item.self_ty;
    let mut items = Vec::new();
    let mut constructors = Vec::new();
    for tool in tools {
        let method = &tool.ident;
        let args = format_ident!("__ToolsmithArgs_{}", ast::unraw(method));
        let holder = format_ident!("__ToolsmithTool_{}", ast::unraw(method));
        let arguments_struct = expand::arguments_struct(rt, tool, &args);
        let call_arguments = expand::call_arguments(tool);
        // A sync body runs on a blocking thread, with its own handle on the shared value (unless inline).
        let (receiver, capture) = if tool.is_async || tool.inline {
            (quote!(self.0), TokenStream::new())
        } else {
            (quote!(__this), quote!(let __this = #private::Arc::clone(&self.0);))
        };
        let invoke = quote!(<#self_ty>::#method(&*#receiver #(, #call_arguments)*));
        let tool_impl = expand::tool_impl(rt, tool, quote!(#holder), &args, invoke, capture);
        let assertions = expand::assertions(rt, tool);
        items.push(quote! {
            const _: () = { #assertions };
            #arguments_struct
            #[allow(non_camel_case_types)]
            struct #holder(#private::Arc<#self_ty>);
            #tool_impl
        });
        constructors.push(quote! {
            #private::Arc::new(#holder(#private::Arc::clone(&self))) as #private::Arc<dyn #private::Tool>
        });
    }
    quote! {
        const _: () = {
            #(#items)*

            impl #private::Toolbox for #self_ty {
                fn tools(self: #private::Arc<Self>) -> #private::Vec<#private::Arc<dyn #private::Tool>> {
                    #private::Vec::from([#(#constructors),*])
                }
            }
        };
    }
}
