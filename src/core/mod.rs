//! The shared core under both primitives: the queues, the wait/wake protocol, the close signal
//! producers await, and the two small value types the token queue speaks in (`Token`, `Events`,
//! which `notify` re-exports).
//! Every dependency points down: `notify` and `mailbox` use the core, the core uses neither
//! (the token queue reports a refused notify as its own `Refusal`, which `notify` turns into
//! `NotifyError`).

pub(crate) mod alloc;
pub(crate) mod close_signal;
pub(crate) mod events;
pub(crate) mod ready_queue;
pub(crate) mod senders;
pub(crate) mod token;
pub(crate) mod token_queue;
pub(crate) mod wait;
pub(crate) mod wake_hook;
