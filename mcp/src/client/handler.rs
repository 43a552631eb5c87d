//! The client side of the session: who we are, and the server's notifications we act on.

use rmcp::ClientHandler;
use rmcp::RoleClient;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::NotificationContext;
use tokio::sync::mpsc;

/// Asks the watcher to list the tools again on `notifications/tools/list_changed`.
#[derive(Clone)]
pub(crate) struct Handler {
    /// Capacity 1: notifications arriving during a refresh collapse into one more refresh.
    pub(crate) refresh: mpsc::Sender<()>,
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(ClientCapabilities::default(), Implementation::new("toolsmith", env!("CARGO_PKG_VERSION")))
    }

    async fn on_tool_list_changed(&self, _context: NotificationContext<RoleClient>) {
        let _ = self.refresh.try_send(());
    }
}
