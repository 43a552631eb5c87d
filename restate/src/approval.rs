//! Approvals by a person: a call that needs one suspends the run on a Restate awakeable, listed in the
//! object's state so anyone can find it, and resumes when the awakeable is resolved over HTTP.

use restate_sdk::prelude::*;
use serde::{Deserialize, Serialize};
use toolsmith_core::agent::{Approval, PendingCall};

/// The object-state key of the calls waiting for a person.
pub(crate) const APPROVALS_KEY: &str = "approvals";

/// A tool call waiting for a person's decision, as listed by the `approvals` handlers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApproval {
    /// The call's id: name it in a [`Decision`].
    pub call_id: String,
    /// The tool the model wants to run.
    pub tool: String,
    /// The arguments it wants to run it with (JSON text).
    pub arguments: String,
    /// The Restate awakeable the run waits on; resolving it directly
    /// (`POST /restate/awakeables/{id}/resolve` with an [`Approval`] as the body) works too.
    pub awakeable_id: String,
}

/// The body of a `decide` call: which call, and the decision.
///
/// ```json
/// {"call_id": "tc0000001", "approval": "approve"}
/// {"call_id": "tc0000001", "approval": {"deny": "not above 100 EUR without a manager"}}
/// {"call_id": "tc0000001", "approval": {"rewrite": "{\"amount\": 100}"}}
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The id of the waiting call (from the `approvals` handler).
    pub call_id: String,
    /// Run it, run it with other arguments, or answer the model with the denial.
    pub approval: Approval,
}

/// Creates one awakeable per call that needs a person and lists them all in the object's state before the
/// run waits on any, so a person sees every call of the turn at once. Returns the awakeables in call order
/// (`None` for calls that need no approval).
pub(crate) fn request_approvals<'ctx>(
    ctx: &ObjectContext<'ctx>,
    calls: &[PendingCall],
    needs_approval: &dyn Fn(&PendingCall) -> bool,
) -> Vec<Option<ApprovalWait<'ctx>>> {
    let mut listed = Vec::new();
    let waits = calls
        .iter()
        .map(|call| {
            if !needs_approval(call) {
                return None;
            }
            let (id, decision) = ctx.awakeable::<Json<Approval>>();
            listed.push(PendingApproval {
                call_id: call.call.id.clone(),
                tool: call.call.function.name.clone(),
                arguments: call.call.function.arguments.clone(),
                awakeable_id: id,
            });
            Some(ApprovalWait { decision: Box::pin(decision) })
        })
        .collect();
    if !listed.is_empty() {
        ctx.set(APPROVALS_KEY, Json(listed));
    }
    waits
}

/// The decision a run waits for.
pub(crate) struct ApprovalWait<'ctx> {
    decision: std::pin::Pin<Box<dyn std::future::Future<Output = Result<Json<Approval>, TerminalError>> + Send + 'ctx>>,
}

impl ApprovalWait<'_> {
    /// Suspends until the decision arrives. A rejected awakeable (`.../reject`) is a denial with its message.
    pub(crate) async fn decided(self) -> Approval {
        match self.decision.await {
            Ok(Json(approval)) => approval,
            Err(rejected) => Approval::Deny(rejected.message().to_owned()),
        }
    }
}

/// Takes a decided call off the list.
pub(crate) async fn settle(ctx: &ObjectContext<'_>, call_id: &str) -> Result<(), TerminalError> {
    let mut listed =
        ctx.get::<Json<Vec<PendingApproval>>>(APPROVALS_KEY).await?.map(Json::into_inner).unwrap_or_default();
    listed.retain(|pending| pending.call_id != call_id);
    if listed.is_empty() {
        ctx.clear(APPROVALS_KEY);
    } else {
        ctx.set(APPROVALS_KEY, Json(listed));
    }
    Ok(())
}

/// The calls waiting for a person (the `approvals` shared handlers).
pub(crate) async fn pending(ctx: &SharedObjectContext<'_>) -> Result<Vec<PendingApproval>, TerminalError> {
    Ok(ctx.get::<Json<Vec<PendingApproval>>>(APPROVALS_KEY).await?.map(Json::into_inner).unwrap_or_default())
}

/// Resolves the awakeable of a waiting call with `decision` (the `decide` shared handlers). An unknown or
/// already decided call is a 404, so a person is told their decision went nowhere.
pub(crate) async fn decide(ctx: &SharedObjectContext<'_>, decision: Decision) -> Result<(), TerminalError> {
    let listed = pending(ctx).await?;
    let Some(waiting) = listed.iter().find(|pending| pending.call_id == decision.call_id) else {
        let known: Vec<&str> = listed.iter().map(|pending| pending.call_id.as_str()).collect();
        return Err(TerminalError::new_with_code(
            404,
            format!("no call `{}` is waiting for approval here (waiting: {known:?})", decision.call_id),
        ));
    };
    ctx.resolve_awakeable(&waiting.awakeable_id, Json(decision.approval));
    Ok(())
}
