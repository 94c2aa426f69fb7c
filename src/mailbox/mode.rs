//! The two flavours of mailbox, as a sealed type parameter of [`Sender`] and [`Receiver`]:
//! [`Reliable`] for [`Policy`] message types, [`Unreliable`] for [`UnreliablePolicy`] ones.
//!
//! [`Sender`]: crate::mailbox::Sender
//! [`Receiver`]: crate::mailbox::Receiver

use super::{Overflow, Policy, UnreliablePolicy};

/// How a mailbox flavour runs its message type's policy. Sealed: implemented by [`Reliable`]
/// and [`Unreliable`] only.
pub trait Mode<T>: sealed::Sealed + 'static {
    /// Where the policy retains messages.
    type Overflow: Overflow<T>;
    /// Runs the policy; `false` means the message was rejected.
    fn handle(overflow: &mut Self::Overflow, message: T) -> bool;
}

/// The flavour of [`mailbox::new`](crate::mailbox::new): the policy always handles the message.
#[derive(Debug)]
pub enum Reliable {}

/// The flavour of [`mailbox::new_unreliable`](crate::mailbox::new_unreliable): the policy may
/// reject a message.
#[derive(Debug)]
pub enum Unreliable {}

impl<T: Policy> Mode<T> for Reliable {
    type Overflow = T::Overflow;
    fn handle(overflow: &mut T::Overflow, message: T) -> bool {
        T::handle(overflow, message);
        true
    }
}

impl<T: UnreliablePolicy> Mode<T> for Unreliable {
    type Overflow = <T as UnreliablePolicy>::Overflow;
    fn handle(overflow: &mut Self::Overflow, message: T) -> bool {
        <T as UnreliablePolicy>::handle(overflow, message)
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Reliable {}
    impl Sealed for super::Unreliable {}
}
