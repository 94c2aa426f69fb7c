//! The errors of `conflux::notify`, together in one place.

use std::fmt;

use super::Token;
use crate::core::token_queue::Refusal;

/// Why a notify was refused. Nothing changed in the queue (except for a notify racing
/// [`Receiver::close`](super::Receiver::close), whose token may still be delivered).
///
/// # Examples
///
/// ```
/// use conflux::notify::{event_queue, NotifyError, Token};
///
/// let (notifier, poller) = event_queue(4);
/// let err = notifier.notify(Token::new(9)).unwrap_err();
/// assert_eq!(err, NotifyError::OutOfRange { token: Token::new(9), capacity: 4 });
/// assert_eq!(err.token(), Token::new(9));
///
/// drop(poller);
/// assert!(matches!(notifier.notify(Token::new(0)), Err(NotifyError::Closed { .. })));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifyError {
    /// `token.index()` is not below the queue's capacity.
    OutOfRange {
        /// The token that was refused.
        token: Token,
        /// The queue's capacity: valid tokens are `0..capacity`.
        capacity: usize,
    },
    /// The consumer (`Poller` or `Receiver`) has been dropped, or the `Receiver` closed
    /// intake ([`Receiver::close`](super::Receiver::close)).
    Closed {
        /// The token that was refused.
        token: Token,
    },
}

impl NotifyError {
    /// The token the failed notify named.
    ///
    /// ```
    /// use conflux::notify::{event_queue, Token};
    ///
    /// let (notifier, _poller) = event_queue(1);
    /// assert_eq!(notifier.notify(Token::new(5)).unwrap_err().token(), Token::new(5));
    /// ```
    pub fn token(&self) -> Token {
        match *self {
            NotifyError::OutOfRange { token, .. } | NotifyError::Closed { token } => token,
        }
    }
}

impl fmt::Display for NotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // No queue has capacity 0 (`event_queue(0)` panics), but the fields are public, so
            // a user can build this value: formatting it must not underflow `capacity - 1`.
            NotifyError::OutOfRange { token, capacity: 0 } => write!(
                f,
                "token {} is out of range: this queue has capacity 0 and accepts no token",
                token.index()
            ),
            NotifyError::OutOfRange { token, capacity } => write!(
                f,
                "token {} is out of range: this queue accepts tokens 0 to {}",
                token.index(),
                capacity - 1
            ),
            NotifyError::Closed { token } => write!(
                f,
                "cannot notify token {}: the receiving side has been dropped or closed",
                token.index()
            ),
        }
    }
}

impl std::error::Error for NotifyError {}

impl From<Refusal> for NotifyError {
    #[inline]
    fn from(refusal: Refusal) -> NotifyError {
        match refusal {
            Refusal::OutOfRange { token, capacity } => NotifyError::OutOfRange { token, capacity },
            Refusal::Closed { token } => NotifyError::Closed { token },
        }
    }
}

/// A blocking receive found nothing pending and every `Sender` gone.
///
/// ```
/// use conflux::notify::{event_channel, Events, RecvError};
///
/// let (sender, receiver) = event_channel(4);
/// drop(sender);
/// assert_eq!(receiver.recv(&mut Events::with_capacity(4)), Err(RecvError));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvError;

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("receiving on an empty channel whose senders are all gone")
    }
}

impl std::error::Error for RecvError {}

/// Why a non-blocking receive delivered nothing.
///
/// ```
/// use conflux::notify::{event_channel, Events, TryRecvError};
///
/// let (sender, receiver) = event_channel(4);
/// let mut events = Events::with_capacity(4);
/// assert_eq!(receiver.try_recv(&mut events), Err(TryRecvError::Empty));
/// drop(sender);
/// assert_eq!(receiver.try_recv(&mut events), Err(TryRecvError::Disconnected));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing is pending, but senders remain.
    Empty,
    /// Nothing is pending and every sender is gone.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("receiving on an empty channel"),
            TryRecvError::Disconnected => RecvError.fmt(f),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl From<RecvError> for TryRecvError {
    fn from(_: RecvError) -> TryRecvError {
        TryRecvError::Disconnected
    }
}

/// Why a receive with a timeout or deadline delivered nothing.
///
/// ```
/// use std::time::Duration;
/// use conflux::notify::{event_channel, Events, RecvTimeoutError};
///
/// let (_sender, receiver) = event_channel(4);
/// let mut events = Events::with_capacity(4);
/// let result = receiver.recv_timeout(&mut events, Duration::from_millis(1));
/// assert_eq!(result, Err(RecvTimeoutError::Timeout));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecvTimeoutError {
    /// The time ran out with nothing pending.
    Timeout,
    /// Nothing is pending and every sender is gone.
    Disconnected,
}

impl fmt::Display for RecvTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvTimeoutError::Timeout => f.write_str("timed out waiting on an empty channel"),
            RecvTimeoutError::Disconnected => RecvError.fmt(f),
        }
    }
}

impl std::error::Error for RecvTimeoutError {}

impl From<RecvError> for RecvTimeoutError {
    fn from(_: RecvError) -> RecvTimeoutError {
        RecvTimeoutError::Disconnected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_sentences_that_name_the_token() {
        let out_of_range = NotifyError::OutOfRange {
            token: Token::new(10),
            capacity: 8,
        };
        assert_eq!(
            out_of_range.to_string(),
            "token 10 is out of range: this queue accepts tokens 0 to 7"
        );
        let closed = NotifyError::Closed {
            token: Token::new(3),
        };
        assert!(closed.to_string().contains("token 3"));
        assert!(TryRecvError::Disconnected
            .to_string()
            .contains("senders are all gone"));
        assert!(RecvTimeoutError::Timeout.to_string().contains("timed out"));
    }

    #[test]
    fn out_of_range_with_capacity_zero_formats_without_panicking() {
        // The fields are public, so this value can exist although no queue has capacity 0.
        let err = NotifyError::OutOfRange {
            token: Token::new(0),
            capacity: 0,
        };
        assert_eq!(
            err.to_string(),
            "token 0 is out of range: this queue has capacity 0 and accepts no token"
        );
        let err = NotifyError::OutOfRange {
            token: Token::new(usize::MAX),
            capacity: 0,
        };
        assert_eq!(
            err.to_string(),
            format!(
                "token {} is out of range: this queue has capacity 0 and accepts no token",
                usize::MAX
            )
        );
    }

    #[test]
    fn extreme_tokens_and_capacities_format_exactly() {
        let max = usize::MAX;
        let cases = [
            (
                max,
                max,
                format!(
                    "token {max} is out of range: this queue accepts tokens 0 to {}",
                    max - 1
                ),
            ),
            (
                max,
                1,
                format!("token {max} is out of range: this queue accepts tokens 0 to 0"),
            ),
            (
                0,
                max,
                format!(
                    "token 0 is out of range: this queue accepts tokens 0 to {}",
                    max - 1
                ),
            ),
        ];
        for (token, capacity, expected) in cases {
            let err = NotifyError::OutOfRange {
                token: Token::new(token),
                capacity,
            };
            assert_eq!(err.to_string(), expected);
        }
        let closed = NotifyError::Closed {
            token: Token::new(max),
        };
        assert_eq!(
            closed.to_string(),
            format!("cannot notify token {max}: the receiving side has been dropped or closed")
        );
    }
}
