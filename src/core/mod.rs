//! The shared core under both primitives: the queues and the wait/wake protocol.

pub(crate) mod alloc;
pub(crate) mod ready_queue;
pub(crate) mod spin_policy;
pub(crate) mod token_queue;
pub(crate) mod waiter;
pub(crate) mod wake_hook;
