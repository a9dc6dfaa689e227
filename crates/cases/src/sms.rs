//! Sending SMS (issue 8.1: the one-time code of an activation). [`Cases`](crate::Cases) holds one
//! [`SmsSender`], set at construction ([`Cases::with_sms`](crate::Cases::with_sms)); by default the
//! [`LogSender`], which sends nothing.
//!
//! # The provider interface
//!
//! A real SMS gateway plugs in by implementing [`SmsSender`] for a type that holds the provider's client and
//! credentials (read from the environment by the binary, never from the database) and passing it to
//! `shanzhi_web::app_with_sms` (which gives it to [`Cases::with_sms`](crate::Cases::with_sms)). `send` receives
//! the mobile in its normal form (11 digits) and the complete Chinese text, including the signature; it returns
//! once the provider has accepted the message, or an [`SmsError`] (logged, answered `internal_error`). It must
//! not log the text: it carries a code.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use shanzhi_domain::mask;

/// Why a message was not sent (the provider's answer, for the log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsError(pub String);

impl std::fmt::Display for SmsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sms not sent: {}", self.0)
    }
}

/// What [`SmsSender::send`] returns: a boxed future, so that senders can be held as `Arc<dyn SmsSender>`.
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<(), SmsError>> + Send + 'a>>;

/// Something that delivers a text message to a mobile (see the module documentation for a provider).
pub trait SmsSender: Send + Sync {
    /// Sends `text` to `mobile` (normal form).
    fn send<'a>(&'a self, mobile: &'a str, text: &'a str) -> SendFuture<'a>;
}

/// How many messages a [`LogSender`] keeps.
const KEPT: usize = 100;

/// The sender of the demo and the tests: writes the masked mobile and the text to the log and keeps the last
/// messages in memory (where tests read the code). Clones share the messages.
#[derive(Debug, Clone, Default)]
pub struct LogSender {
    sent: Arc<Mutex<VecDeque<(String, String)>>>,
}

impl LogSender {
    /// The text of the last message sent to `mobile` (normal form).
    pub fn last_to(&self, mobile: &str) -> Option<String> {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter()
            .rev()
            .find(|(m, _)| m == mobile)
            .map(|(_, t)| t.clone())
    }

    /// How many messages were sent to `mobile` (among the last ones kept).
    pub fn count_to(&self, mobile: &str) -> usize {
        let sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
        sent.iter().filter(|(m, _)| m == mobile).count()
    }
}

impl SmsSender for LogSender {
    fn send<'a>(&'a self, mobile: &'a str, text: &'a str) -> SendFuture<'a> {
        Box::pin(async move {
            tracing::info!(mobile = %mask::mobile(mobile), text, "SMS (log sender, not sent)");
            let mut sent = self.sent.lock().unwrap_or_else(|e| e.into_inner());
            if sent.len() >= KEPT {
                sent.pop_front();
            }
            sent.push_back((mobile.to_string(), text.to_string()));
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[tokio::test]
    async fn log_sender_keeps_the_last_messages() {
        let s = LogSender::default();
        let shared = s.clone();
        for i in 0..(KEPT + 3) {
            s.send("13900001234", &format!("m{i}")).await.unwrap();
        }
        s.send("13900005678", "other").await.unwrap();
        assert_eq!(shared.last_to("13900001234").as_deref(), Some("m102"));
        assert_eq!(shared.count_to("13900001234"), KEPT - 1);
        assert_eq!(shared.last_to("13900005678").as_deref(), Some("other"));
        assert_eq!(shared.last_to("13900000000"), None);
    }
}
