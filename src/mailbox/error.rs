//! The errors of `conflux::mailbox`, together in one place.

use std::fmt;

/// Why [`try_recv`](crate::mailbox::Receiver::try_recv) returned no message.
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill, TryRecvError};
///
/// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(4).unwrap());
/// assert_eq!(receiver.try_recv().unwrap_err(), TryRecvError::Empty);
/// drop(sender);
/// assert_eq!(receiver.try_recv().unwrap_err(), TryRecvError::Disconnected);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing buffered, but senders remain.
    Empty,
    /// Nothing buffered and every sender is gone.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "receiving on an empty mailbox",
            TryRecvError::Disconnected => {
                "receiving on an empty mailbox whose senders are all gone"
            }
        })
    }
}

impl std::error::Error for TryRecvError {}

/// Why [`recv_timeout`](crate::mailbox::Receiver::recv_timeout) returned no message.
///
/// ```
/// use std::{num::NonZeroUsize, time::Duration};
/// use conflux::mailbox::{self, policies::Spill, RecvTimeoutError};
///
/// let (_sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(4).unwrap());
/// let waited = receiver.recv_timeout(Duration::from_millis(1));
/// assert_eq!(waited.unwrap_err(), RecvTimeoutError::Timeout);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvTimeoutError {
    /// The time ran out with nothing buffered.
    Timeout,
    /// Nothing buffered and every sender is gone.
    Disconnected,
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecvTimeoutError::Timeout => "timed out waiting on an empty mailbox",
            RecvTimeoutError::Disconnected => {
                "receiving on an empty mailbox whose senders are all gone"
            }
        })
    }
}

impl std::error::Error for RecvTimeoutError {}

/// A [`send`](crate::mailbox::Sender::send) (or
/// [`send_blocking`](crate::mailbox::Sender::send_blocking)) found the mailbox closed: the
/// receiver is gone or called [`close`](crate::mailbox::Receiver::close). The message is
/// handed back.
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill, SendError};
///
/// let (sender, receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(4).unwrap());
/// drop(receiver);
/// let SendError(message) = sender.send_blocking(Spill(7)).unwrap_err();
/// assert_eq!(message, Spill(7));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

/// Why [`try_send`](crate::mailbox::Sender::try_send) handed the message back.
///
/// ```
/// use std::num::NonZeroUsize;
/// use conflux::mailbox::{self, policies::Spill, TrySendError};
///
/// let (sender, receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
/// assert_eq!(sender.try_send(Spill(1)), Ok(()));
/// assert_eq!(sender.try_send(Spill(2)), Err(TrySendError::Full(Spill(2))));
/// drop(receiver);
/// assert_eq!(sender.try_send(Spill(3)), Err(TrySendError::Closed(Spill(3))));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TrySendError<T> {
    /// `ready` is full, or overflow retains messages that the message must not overtake.
    Full(T),
    /// The receiver is gone or closed the mailbox.
    Closed(T),
}

/// Why [`send_timeout`](crate::mailbox::Sender::send_timeout) handed the message back.
///
/// ```
/// use std::{num::NonZeroUsize, time::Duration};
/// use conflux::mailbox::{self, policies::Spill, SendTimeoutError};
///
/// let (sender, _receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(1).unwrap());
/// assert_eq!(sender.send_timeout(Spill(1), Duration::from_millis(1)), Ok(()));
/// let waited = sender.send_timeout(Spill(2), Duration::from_millis(1));
/// assert_eq!(waited, Err(SendTimeoutError::Timeout(Spill(2))));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum SendTimeoutError<T> {
    /// No room appeared before the time ran out.
    Timeout(T),
    /// The receiver is gone or closed the mailbox.
    Closed(T),
}

impl<T> SendError<T> {
    /// The message that was not sent.
    ///
    /// ```
    /// use conflux::mailbox::SendError;
    /// assert_eq!(SendError(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> TrySendError<T> {
    /// The message that was not sent.
    ///
    /// ```
    /// use conflux::mailbox::TrySendError;
    /// assert_eq!(TrySendError::Full(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            TrySendError::Full(message) | TrySendError::Closed(message) => message,
        }
    }

    /// Whether the mailbox was full (rather than closed).
    ///
    /// ```
    /// use conflux::mailbox::TrySendError;
    /// assert!(TrySendError::Full(5).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// Whether the mailbox was closed.
    ///
    /// ```
    /// use conflux::mailbox::TrySendError;
    /// assert!(TrySendError::Closed(5).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<T> SendTimeoutError<T> {
    /// The message that was not sent.
    ///
    /// ```
    /// use conflux::mailbox::SendTimeoutError;
    /// assert_eq!(SendTimeoutError::Timeout(5).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            SendTimeoutError::Timeout(message) | SendTimeoutError::Closed(message) => message,
        }
    }

    /// Whether the time ran out (rather than the mailbox closing).
    ///
    /// ```
    /// use conflux::mailbox::SendTimeoutError;
    /// assert!(SendTimeoutError::Timeout(5).is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, SendTimeoutError::Timeout(_))
    }

    /// Whether the mailbox was closed.
    ///
    /// ```
    /// use conflux::mailbox::SendTimeoutError;
    /// assert!(SendTimeoutError::Closed(5).is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        matches!(self, SendTimeoutError::Closed(_))
    }
}

// Debug without `T: Debug`, as std's and crossbeam's send errors: the message is elided.
impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SendError(..)")
    }
}

impl<T> fmt::Debug for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "Full(..)",
            TrySendError::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Debug for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendTimeoutError::Timeout(_) => "Timeout(..)",
            SendTimeoutError::Closed(_) => "Closed(..)",
        })
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sending on a closed mailbox")
    }
}

impl<T> fmt::Display for TrySendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TrySendError::Full(_) => "sending on a full mailbox",
            TrySendError::Closed(_) => "sending on a closed mailbox",
        })
    }
}

impl<T> fmt::Display for SendTimeoutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SendTimeoutError::Timeout(_) => "timed out waiting for room in a full mailbox",
            SendTimeoutError::Closed(_) => "sending on a closed mailbox",
        })
    }
}

impl<T> std::error::Error for SendError<T> {}
impl<T> std::error::Error for TrySendError<T> {}
impl<T> std::error::Error for SendTimeoutError<T> {}

impl<T> From<SendError<T>> for TrySendError<T> {
    fn from(SendError(message): SendError<T>) -> TrySendError<T> {
        TrySendError::Closed(message)
    }
}

impl<T> From<SendError<T>> for SendTimeoutError<T> {
    fn from(SendError(message): SendError<T>) -> SendTimeoutError<T> {
        SendTimeoutError::Closed(message)
    }
}
