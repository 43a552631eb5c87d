use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::wire::Usage;

/// Typed values an application attaches to one run (the signed-in user, a database handle, ...), read by
/// tools through [`ToolContext::get`]. Cheap to clone: the values are shared.
///
/// ```
/// use toolsmith_core::tool::RunContext;
///
/// struct UserId(u64);
/// let ctx = RunContext::new().with(UserId(7));
/// assert_eq!(ctx.get::<UserId>().map(|u| u.0), Some(7));
/// ```
#[derive(Clone, Default)]
pub struct RunContext {
    values: Arc<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl RunContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value`, replacing any earlier value of the same type.
    pub fn with<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.insert(value);
        self
    }

    /// Adds `value`, replacing any earlier value of the same type.
    pub fn insert<T: Send + Sync + 'static>(&mut self, value: T) {
        Arc::make_mut(&mut self.values).insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`, if one was attached.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.values.get(&TypeId::of::<T>()).and_then(|value| value.downcast_ref::<T>())
    }

    /// How many values are attached.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no value is attached.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl fmt::Debug for RunContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Values may be secrets (tokens, users): show only how many there are.
        f.debug_struct("RunContext").field("values", &self.values.len()).finish()
    }
}

/// What a tool knows about the call it is serving. Take `&ToolContext` as a parameter of a `#[tool]`
/// function (in any position) to receive it; it is not part of the tool's schema.
#[derive(Clone, Debug)]
pub struct ToolContext {
    call_id: String,
    tool_name: String,
    run: RunContext,
    /// Tokens the call spent on model requests of its own, reported with [`ToolContext::add_usage`].
    usage: Arc<Mutex<Option<Usage>>>,
}

impl ToolContext {
    /// The context for call `call_id` of tool `tool_name` in a run carrying `run`.
    pub fn new(call_id: impl Into<String>, tool_name: impl Into<String>, run: RunContext) -> Self {
        ToolContext { call_id: call_id.into(), tool_name: tool_name.into(), run, usage: Arc::default() }
    }

    /// The id of the tool call being served.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// The name of the tool being called.
    pub fn tool_name(&self) -> &str {
        &self.tool_name
    }

    /// A value of type `T` the application attached to this run.
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<&T> {
        self.run.get::<T>()
    }

    /// All values attached to this run.
    pub fn run_context(&self) -> &RunContext {
        &self.run
    }

    /// Reports tokens the tool spent on model requests of its own (a sub-agent, a summariser): the agent adds
    /// them to the run's usage and to the call's record.
    pub fn add_usage(&self, usage: &Usage) {
        let mut total = self.usage.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *total.get_or_insert_with(Usage::default) += usage.clone();
    }

    /// The usage reported so far with [`add_usage`](Self::add_usage), leaving none.
    pub fn take_usage(&self) -> Option<Usage> {
        self.usage.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take()
    }

    /// The call id and tool name, given back when the call is done.
    pub(crate) fn into_ids(self) -> (String, String) {
        (self.call_id, self.tool_name)
    }
}
