//! [`WaitStrategy`]: how a blocking receive waits once it finds nothing, for people who know
//! their host.

use std::time::Duration;

/// How a blocking receive (`notify::Receiver::recv*`, `mailbox::Receiver::recv_blocking` and
/// `recv_timeout`) waits when it finds nothing: spin on the queue, park the thread, or learn
/// which of the two pays off.
///
/// Every receiver starts with [`WaitStrategy::Adaptive`], which suits most hosts; set another
/// one with `set_wait_strategy` on the receiver. Async receives (`recv_async`, `recv().await`,
/// `Stream`) never spin whatever the strategy: they share an executor thread with other tasks,
/// so they register their waker and return `Pending` at once.
///
/// # When to turn the knob
///
/// * **Adaptive** (the default): a request/reply pair on a quiet multi-core host stays awake
///   (sub-microsecond hand-offs), an idle or rarely-fed receiver parks almost at once, and a
///   receiver that keeps finding itself descheduled while spinning (an oversubscribed host)
///   decays to parking at once. A mailbox receiver that catches up with a producer sending as
///   fast as it can watches a slot a few cache lines ahead before it polls its own again
///   (bounded by the run it just drained), so that the two do not fight over the line the
///   producer is writing; every strategy that spins does this. Leave it unless you measured
///   otherwise.
/// * **`Spin(budget)`**: a fixed spin, then park. For a host you know: a dedicated core per
///   thread and a peer that answers within `budget` (raise it), or a container with a
///   fraction of a core (a small budget or [`Park`](WaitStrategy::Park)).
/// * **`Park`**: never spin. For many receivers on few cores, battery-powered machines, or
///   any place where CPU time costs more than latency: each wait costs one wake-up (a futex
///   wake and a reschedule, microseconds to tens of microseconds on virtual machines). No
///   strategy yields the CPU: where a producer shares its consumer's CPU, a yield would let it
///   run, but where a CPU-bound thread shares it, a yield hands the core to that thread for a
///   whole time slice, so conflux parks in both cases.
/// * **`SpinOnly`**: never park; the thread burns its core until a message, disconnection or
///   the deadline. Only for a thread pinned to a core of its own, where the lowest latency is
///   worth a core.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use conflux::notify::{event_channel, Events, Token};
/// use conflux::WaitStrategy;
///
/// let (sender, mut receiver) = event_channel(4);
/// assert_eq!(receiver.wait_strategy(), WaitStrategy::Adaptive);
/// // This receiver serves rare events on a busy box: never spin for them.
/// receiver.set_wait_strategy(WaitStrategy::Park);
/// std::thread::spawn(move || sender.notify(Token::new(2)).unwrap());
/// let mut events = Events::with_capacity(4);
/// receiver.recv(&mut events).unwrap();
/// assert_eq!(events.as_slice(), &[Token::new(2)]);
/// ```
///
/// The same knob on a mailbox:
///
/// ```
/// use std::num::NonZeroUsize;
/// use std::time::Duration;
/// use conflux::mailbox::{self, policies::Spill};
/// use conflux::WaitStrategy;
///
/// let (sender, mut receiver) = mailbox::new::<Spill<u8>>(NonZeroUsize::new(8).unwrap());
/// // A pinned consumer whose producer answers within a few microseconds.
/// receiver.set_wait_strategy(WaitStrategy::Spin(Duration::from_micros(50)));
/// std::thread::spawn(move || {
///     let _ = sender.enqueue(Spill(7));
/// });
/// assert_eq!(receiver.recv_blocking(), Some(Spill(7)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WaitStrategy {
    /// Learn from past waits how long to spin before parking (between 0 and 50 us); a spin
    /// during which the thread was descheduled stops at once and counts as wasted. The default.
    #[default]
    Adaptive,
    /// Spin for at most this long, then park.
    Spin(Duration),
    /// Park as soon as a poll finds nothing.
    Park,
    /// Never park: spin until something arrives, the senders are gone, or the deadline passes.
    SpinOnly,
}
