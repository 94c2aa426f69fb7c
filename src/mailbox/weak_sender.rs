//! [`WeakSender`] (and [`WeakUnreliableSender`]): a sender handle that does not keep the
//! mailbox connected.

use std::fmt;

use super::mode::{self, Mode};
use super::shared::Shared;
use super::Sender;
use crate::sync::Arc;

/// A handle to a mailbox that does not count as a sender: it cannot enqueue, and the receiver
/// sees disconnection once every [`Sender`] is gone, however many weak ones remain. Made by
/// [`Sender::downgrade`]; [`upgrade`](WeakSender::upgrade) turns it back into a `Sender` while
/// at least one still exists.
///
/// For an actor that keeps a handle to itself (to hand out later) and must still learn when
/// its last real sender is gone. It keeps the mailbox's memory alive, not the connection.
/// `Clone`, `Send + Sync` when `T: Send`.
///
/// `WeakSender<T>` is the reliable flavour's; [`WeakUnreliableSender<T>`] is
/// `WeakSender<T, mode::UnreliableMode>`.
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill, Feedback};
///
/// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(4).unwrap());
/// let weak = sender.downgrade();
/// let again = weak.upgrade().expect("a sender exists");
/// assert_eq!(again.enqueue(Spill(1)), Feedback::Ok);
/// drop((sender, again));
/// assert!(weak.upgrade().is_none()); // the last sender is gone: for good
/// assert_eq!(receiver.recv_blocking(), Some(Spill(1)));
/// assert_eq!(receiver.recv_blocking(), None); // disconnected, though `weak` lives
/// ```
pub struct WeakSender<T, M: Mode<T> = mode::ReliableMode> {
    shared: Arc<Shared<T, M>>,
}

/// The weak sender of a mailbox whose policy may reject messages (from
/// [`UnreliableSender::downgrade`](super::Sender::downgrade)).
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill, WeakUnreliableSender};
///
/// let (sender, _receiver) = mailbox::new_unreliable::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
/// let weak: WeakUnreliableSender<Spill<u8>> = sender.downgrade();
/// assert!(weak.upgrade().is_some());
/// ```
pub type WeakUnreliableSender<T> = WeakSender<T, mode::UnreliableMode>;

impl<T, M: Mode<T>> WeakSender<T, M> {
    pub(crate) fn new(shared: Arc<Shared<T, M>>) -> WeakSender<T, M> {
        WeakSender { shared }
    }

    /// A [`Sender`] again, if at least one sender still exists; `None` once the last one has
    /// been dropped (the receiver then sees, or will see, the end: an upgrade never revives
    /// a disconnected mailbox). The new sender counts like any other.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, _receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// let weak = sender.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(sender);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T, M>> {
        if self.shared.add_sender_if_any() {
            Some(Sender::new(Arc::clone(&self.shared)))
        } else {
            None
        }
    }

    /// Whether `self` and `other` point at the same mailbox.
    ///
    /// ```
    /// use std::num::NonZeroUsize;
    /// use conflux::mailbox::{self, policies::Spill};
    ///
    /// let (sender, _receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// let (other, _other_receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
    /// assert!(sender.downgrade().same_channel(&sender.downgrade()));
    /// assert!(!sender.downgrade().same_channel(&other.downgrade()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T, M: Mode<T>> Clone for WeakSender<T, M> {
    /// Another weak handle; counts as no sender either.
    fn clone(&self) -> Self {
        WeakSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T, M: Mode<T>> fmt::Debug for WeakSender<T, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender")
            .field("capacity", &self.shared.capacity())
            .field("closed", &self.shared.is_closed())
            .finish_non_exhaustive()
    }
}
