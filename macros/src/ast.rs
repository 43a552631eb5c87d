//! The model of one tool: a `#[tool]` function or a `#[tool]` method of a `#[toolbox]`, read from its
//! signature, attributes and doc comments, with every problem collected.

use syn::visit::Visit;
use syn::{Attribute, FnArg, Ident, Pat, ReturnType, Signature, Type};

use crate::attr::ToolOptions;
use crate::docs;
use crate::errors::Errors;

/// Where the function was written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Position {
    /// A free function under `#[tool]`.
    Free,
    /// A method of a `#[toolbox]` impl block.
    Method,
}

pub(crate) struct Argument {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    pub(crate) description: Option<String>,
    /// `#[serde(...)]` and `#[schemars(...)]` written on the parameter, moved to the arguments struct.
    pub(crate) attrs: Vec<Attribute>,
}

pub(crate) enum Param {
    /// `&ToolContext`: given the call's context, not part of the schema.
    Context {
        ty: Type,
        name: Option<String>,
    },
    Argument(Argument),
}

pub(crate) enum Output {
    /// A `Result` (by its last path segment, so aliases such as `anyhow::Result<T>` count).
    Result(Type),
    /// Any other type; `None` for `()` written as no return type.
    Value(Option<Type>),
}

pub(crate) struct ToolFn {
    pub(crate) ident: Ident,
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) strict: bool,
    pub(crate) is_async: bool,
    /// A sync body that runs in place (`#[tool(inline)]`) rather than on the blocking pool.
    pub(crate) inline: bool,
    /// The parameters after the receiver, in order.
    pub(crate) params: Vec<Param>,
    pub(crate) output: Output,
}

impl ToolFn {
    pub(crate) fn arguments(&self) -> impl Iterator<Item = &Argument> {
        self.params.iter().filter_map(|param| match param {
            Param::Argument(argument) => Some(argument),
            Param::Context { .. } => None,
        })
    }
}

/// Reads a tool from `attrs` and `sig`. Always strips the parameter attributes the compiler would reject
/// (doc comments, `#[serde]`, `#[schemars]`) from `sig`, so the function can be emitted even on errors.
pub(crate) fn analyze(
    options: ToolOptions,
    attrs: &[Attribute],
    sig: &mut Signature,
    position: Position,
    errors: &mut Errors,
) -> Option<ToolFn> {
    let before = errors.is_empty();
    check_signature_shape(sig, errors);
    let mut params = Vec::new();
    let mut receiver_seen = false;
    for input in sig.inputs.iter_mut() {
        match input {
            FnArg::Receiver(receiver) => {
                receiver_seen = true;
                check_receiver(receiver, position, errors);
            }
            FnArg::Typed(typed) => {
                let (own_doc, moved) = take_parameter_attrs(&mut typed.attrs);
                if let Some(param) = read_param(&typed.pat, &typed.ty, own_doc, moved, &params, errors) {
                    params.push(param);
                }
            }
        }
    }
    if position == Position::Method && !receiver_seen {
        errors.spanned(
            &sig.ident,
            "a `#[tool]` method takes `&self`: add `&self`, or move this function out of the `#[toolbox]` impl",
        );
    }
    let output = read_output(&sig.output, errors);
    let docs = docs::parse(attrs);
    let name = tool_name(&options, &sig.ident, errors);
    let description = match &options.description {
        Some(text) => text.value().trim().to_owned(),
        None => docs.description.clone(),
    };
    if description.is_empty() {
        let span = options.description.as_ref().map_or(sig.ident.span(), |text| text.span());
        errors.at(
            span,
            "a tool needs a description, the model reads it to decide when to call the tool: add a doc comment \
             (`/// What the tool does.`) or `#[tool(description = \"...\")]`",
        );
    }
    apply_argument_docs(&docs.arguments, &mut params, errors);
    if let (Some(span), Some(_)) = (options.inline, &sig.asyncness) {
        errors.at(
            span,
            "`inline` is for a sync `fn` (it runs the body in place instead of on the blocking pool); an `async fn` \
             already runs in place: remove `inline`",
        );
    }
    if !before || !errors.is_empty() {
        return None;
    }
    Some(ToolFn {
        ident: sig.ident.clone(),
        name,
        description,
        strict: options.strict,
        is_async: sig.asyncness.is_some(),
        inline: options.inline.is_some(),
        params,
        output,
    })
}

fn check_signature_shape(sig: &Signature, errors: &mut Errors) {
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        errors.spanned(
            &sig.generics,
            "a tool cannot be generic: the model sees one fixed schema; use concrete types (write one tool per \
             type if you need several)",
        );
    }
    if let Some(unsafety) = &sig.unsafety {
        errors.spanned(unsafety, "a tool cannot be `unsafe`: the model decides when it runs; remove `unsafe`");
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, "a tool cannot have an `extern` ABI: remove it");
    }
    if let Some(variadic) = &sig.variadic {
        errors.spanned(variadic, "a tool cannot be variadic: take a `Vec<T>` instead");
    }
}

fn check_receiver(receiver: &syn::Receiver, position: Position, errors: &mut Errors) {
    if position == Position::Free {
        errors.spanned(
            receiver,
            "`self` is only allowed in `#[tool]` methods of a `#[toolbox]` impl block: mark the impl block \
             `#[toolsmith::toolbox]`, or make this a free function without `self`",
        );
        return;
    }
    let shared_ref = receiver.reference.is_some() && receiver.mutability.is_none() && receiver.colon_token.is_none();
    if shared_ref {
        return;
    }
    if receiver.reference.is_some() && receiver.mutability.is_some() {
        errors.spanned(
            receiver,
            "a `#[tool]` method takes `&self`, not `&mut self`: the tools of a toolbox share one instance, so keep \
             changing state behind interior mutability (`Mutex`, `RwLock`, atomics) and take `&self`",
        );
    } else {
        errors.spanned(
            receiver,
            "a `#[tool]` method takes `&self`: the tools of a toolbox share one `Arc` of the value, so they cannot \
             take it by value or as another type",
        );
    }
}

/// Removes doc comments, `#[serde]` and `#[schemars]` from a parameter: the first become its description,
/// the others move to the arguments struct.
fn take_parameter_attrs(attrs: &mut Vec<Attribute>) -> (Option<String>, Vec<Attribute>) {
    let (docs, others): (Vec<_>, Vec<_>) =
        std::mem::take(attrs).into_iter().partition(|attr| attr.path().is_ident("doc"));
    let (moved, kept): (Vec<_>, Vec<_>) =
        others.into_iter().partition(|attr| attr.path().is_ident("serde") || attr.path().is_ident("schemars"));
    *attrs = kept;
    (docs::parameter_doc(&docs), moved)
}

/// Whether `ty` is `&ToolContext` / `&mut ToolContext` (by the last path segment) or `ToolContext` by value.
fn context_kind(ty: &Type) -> Option<(bool, bool)> {
    let (reference, mutable, inner) = match ty {
        Type::Reference(reference) => (true, reference.mutability.is_some(), &*reference.elem),
        other => (false, false, other),
    };
    match inner {
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            (last.ident == "ToolContext" && last.arguments.is_empty()).then_some((reference, mutable))
        }
        _ => None,
    }
}

fn read_param(
    pat: &Pat,
    ty: &Type,
    description: Option<String>,
    attrs: Vec<Attribute>,
    params: &[Param],
    errors: &mut Errors,
) -> Option<Param> {
    if let Some((reference, mutable)) = context_kind(ty) {
        if !reference || mutable {
            errors.spanned(ty, "take the context as `&ToolContext` (a shared reference)");
            return None;
        }
        if params.iter().any(|param| matches!(param, Param::Context { .. })) {
            errors.spanned(ty, "a tool takes at most one `&ToolContext` parameter: remove this one");
            return None;
        }
        let name = match pat {
            Pat::Ident(binding) => Some(unraw(&binding.ident)),
            _ => None,
        };
        return Some(Param::Context { ty: ty.clone(), name });
    }
    let mut ok = true;
    let ident = match pat {
        Pat::Ident(binding) if binding.by_ref.is_none() && binding.subpat.is_none() => Some(binding.ident.clone()),
        _ => {
            errors.spanned(
                pat,
                "a tool parameter must be a plain name, which becomes the argument name the model sees: write \
                 `name: Type` and destructure inside the function",
            );
            None
        }
    };
    let mut finder = ImplTraitFinder::default();
    finder.visit_type(ty);
    for found in finder.found {
        ok = false;
        errors.spanned(
            found,
            "`impl Trait` cannot be a tool parameter: the schema needs a concrete type; write the type itself \
             (e.g. `String`, `Vec<u32>`)",
        );
    }
    if let Type::Reference(reference) = ty {
        ok = false;
        errors.spanned(ty, reference_advice(&reference.elem));
    }
    Some(Param::Argument(Argument { ident: ident?, ty: ty.clone(), description, attrs })).filter(|_| ok)
}

fn reference_advice(elem: &Type) -> String {
    let owned = match elem {
        Type::Path(path) if path.path.is_ident("str") => "String".to_owned(),
        Type::Slice(slice) => format!("Vec<{}>", quote::ToTokens::to_token_stream(&slice.elem)),
        other => quote::ToTokens::to_token_stream(other).to_string(),
    };
    format!(
        "a tool parameter cannot be a reference: arguments are decoded into owned values; take `{owned}` instead \
         (`&ToolContext` is the only reference a tool can take)"
    )
}

#[derive(Default)]
struct ImplTraitFinder {
    found: Vec<syn::TypeImplTrait>,
}

impl<'ast> Visit<'ast> for ImplTraitFinder {
    fn visit_type_impl_trait(&mut self, node: &'ast syn::TypeImplTrait) {
        self.found.push(node.clone());
    }
}

fn read_output(output: &ReturnType, errors: &mut Errors) -> Output {
    let ReturnType::Type(_, ty) = output else { return Output::Value(None) };
    let mut finder = ImplTraitFinder::default();
    finder.visit_type(ty);
    for found in finder.found {
        errors.spanned(found, "a tool cannot return `impl Trait`: write the concrete type it returns");
    }
    let is_result =
        matches!(&**ty, Type::Path(path) if path.path.segments.last().is_some_and(|last| last.ident == "Result"));
    if is_result { Output::Result((**ty).clone()) } else { Output::Value(Some((**ty).clone())) }
}

pub(crate) fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-')
}

fn tool_name(options: &ToolOptions, ident: &Ident, errors: &mut Errors) -> String {
    if let Some(name) = &options.name {
        let value = name.value();
        if !is_valid_name(&value) {
            errors.spanned(
                name,
                format_args!(
                    "invalid tool name `{value}`: providers accept 1 to 64 characters among a-z, A-Z, 0-9, `_` \
                     and `-` (e.g. `get_weather`)"
                ),
            );
        }
        return value;
    }
    let value = ident.to_string();
    let value = value.strip_prefix("r#").map(str::to_owned).unwrap_or(value);
    if !is_valid_name(&value) {
        errors.spanned(
            ident,
            format_args!(
                "`{value}` is not a valid tool name: providers accept 1 to 64 characters among a-z, A-Z, 0-9, `_` \
                 and `-`; set one with `#[tool(name = \"...\")]`"
            ),
        );
    }
    value
}

fn apply_argument_docs(entries: &[docs::ArgumentDoc], params: &mut [Param], errors: &mut Errors) {
    let names: Vec<String> = params
        .iter()
        .filter_map(|param| match param {
            Param::Argument(argument) => Some(unraw(&argument.ident)),
            Param::Context { .. } => None,
        })
        .collect();
    for entry in entries {
        let is_context =
            params.iter().any(|param| matches!(param, Param::Context { name: Some(name), .. } if *name == entry.name));
        let target = params.iter_mut().find_map(|param| match param {
            Param::Argument(argument) if unraw(&argument.ident) == entry.name => Some(argument),
            _ => None,
        });
        match target {
            _ if is_context => {}
            Some(argument) => {
                if argument.description.is_none() && !entry.text.is_empty() {
                    argument.description = Some(entry.text.clone());
                }
            }
            None => {
                let known = if names.is_empty() {
                    "the tool takes no arguments".to_owned()
                } else {
                    format!(
                        "its arguments are {}",
                        names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
                    )
                };
                errors.at(
                    entry.span,
                    format_args!(
                        "the `# Arguments` section documents `{}`, but there is no such parameter ({known}): fix \
                         the name or remove the entry",
                        entry.name
                    ),
                );
            }
        }
    }
}

pub(crate) fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}
