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
