//! The two flavours of mailbox, as a sealed type parameter of [`Sender`] and [`Receiver`]:
//! [`ReliableMode`] for [`Policy`] message types, [`UnreliableMode`] for [`UnreliablePolicy`] ones
//! (named apart from [`Unreliable`](crate::Unreliable), the feedback wrapper).
//!
//! [`Sender`]: crate::mailbox::Sender
//! [`Receiver`]: crate::mailbox::Receiver

use super::{Overflow, Policy, UnreliablePolicy};

/// How a mailbox flavour runs its message type's policy. Sealed: implemented by
/// [`ReliableMode`] and [`UnreliableMode`] only.
pub trait Mode<T>: sealed::Sealed + 'static {
    /// Where the policy retains messages.
    type Overflow: Overflow<T>;
    /// Runs the policy; `false` means the message was rejected.
    fn handle(overflow: &mut Self::Overflow, message: T) -> bool;
}

/// The flavour of [`mailbox::new`](crate::mailbox::new): the policy always handles the message.
#[derive(Debug)]
pub enum ReliableMode {}

/// The flavour of [`mailbox::new_unreliable`](crate::mailbox::new_unreliable): the policy may
/// reject a message.
#[derive(Debug)]
pub enum UnreliableMode {}

impl<T: Policy> Mode<T> for ReliableMode {
    type Overflow = T::Overflow;
    fn handle(overflow: &mut T::Overflow, message: T) -> bool {
        T::handle(overflow, message);
        true
    }
}

impl<T: UnreliablePolicy> Mode<T> for UnreliableMode {
    type Overflow = <T as UnreliablePolicy>::Overflow;
    fn handle(overflow: &mut Self::Overflow, message: T) -> bool {
        <T as UnreliablePolicy>::handle(overflow, message)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ReliableMode {}
    impl Sealed for super::UnreliableMode {}
}
