use toolsmith::ToolContext;

/// Takes the context mutably.
#[toolsmith::tool]
fn mutable(ctx: &mut ToolContext) -> String {
    ctx.call_id().to_owned()
}

/// Takes the context twice.
#[toolsmith::tool]
fn twice(first: &ToolContext, second: &ToolContext) -> String {
    format!("{}{}", first.call_id(), second.call_id())
}

fn main() {}
