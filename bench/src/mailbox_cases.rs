//! `conflux::mailbox` against commonware-actor's mailbox and the bounded channels people pick
//! (crossbeam-channel, flume, tokio's mpsc, kanal, crossfire's mpsc), through one adapter trait
//! so every contender runs the same code around its calls. For the channels, "full" means the
//! caller retries or blocks (they have no overflow); conflux and commonware hand a full
//! `ready`'s excess to the message type's policy (here: spill).
//!
//! **Why it is fair.** Every contender runs the same generic workload; messages are counted on
//! the receiving side (and asserted for the spill case), so nobody wins by losing messages.
//! Where a row's producer retries a non-blocking send (the spinning consumers), every
//! contender retries through one helper that yields its core every 64 idle steps; where the
//! consumer blocks, each channel's producer uses its own blocking send, as its users would
//! (conflux: `enqueue`, and `send_blocking` as a second contender; see [`BlockingRecv`]). Cross-thread rows run batches of at least
//! 16384 messages.

use std::collections::VecDeque;
use std::hint::black_box;
use std::num::NonZeroUsize;
use std::thread;
use std::time::{Duration, Instant};

use crate::harness::{Case, Contender};

/// What every contender offers: a bounded queue of `u64` with non-blocking ends.
pub trait Mailbox: 'static {
    const NAME: &'static str;
    type Tx: Clone + Send + 'static;
    type Rx: Send + 'static;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx);
    /// Whether the value was taken (into the queue or its overflow policy).
    fn send(tx: &Self::Tx, value: u64) -> bool;
    fn try_recv(rx: &mut Self::Rx) -> Option<u64>;
}

/// A blocking receive and send, for the contenders that have a blocking receive.
pub trait BlockingRecv: Mailbox {
    fn recv(rx: &mut Self::Rx) -> Option<u64>;
    /// The library's blocking send: waits while the channel is full. conflux's `enqueue`
    /// contenders ([`Conflux`], [`ConfluxRefusing`]) keep `enqueue`: an enqueue into a full
    /// `ready` goes to the overflow policy, and when refused it is retried through the
    /// spinning consumers' idle wait; [`ConfluxSendBlocking`] is conflux's blocking send.
    /// The default is that retry; a library with a blocking send overrides it.
    fn send_blocking(tx: &Self::Tx, value: u64) {
        retry_until_taken::<Self>(tx, value);
    }
}

/// [`BlockingRecv::send_blocking`] for a mailbox without one: retry until taken.
fn retry_until_taken<M: Mailbox + ?Sized>(tx: &M::Tx, value: u64) {
    let mut idle = 0u32;
    while !M::send(tx, value) {
        idle_wait(&mut idle);
    }
}

fn nz(capacity: usize) -> NonZeroUsize {
    NonZeroUsize::new(capacity).unwrap()
}

pub struct Conflux;
impl Mailbox for Conflux {
    const NAME: &'static str = "conflux";
    type Tx = conflux::mailbox::Sender<conflux::mailbox::policies::Spill<u64>>;
    type Rx = conflux::mailbox::Receiver<conflux::mailbox::policies::Spill<u64>>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        conflux::mailbox::new(nz(capacity))
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) -> bool {
        tx.enqueue(conflux::mailbox::policies::Spill(value))
            .accepted()
    }
    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok().map(|m| m.0)
    }
}
impl BlockingRecv for Conflux {
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv_blocking().map(|m| m.0)
    }
}

/// conflux's blocking send (`Sender::send_blocking`): waits for room in `ready` and never
/// hands the message to the policy. A second conflux contender in the blocking-consumer rows,
/// beside `enqueue`.
pub struct ConfluxSendBlocking;
impl Mailbox for ConfluxSendBlocking {
    const NAME: &'static str = "conflux send_blocking";
    type Tx = <Conflux as Mailbox>::Tx;
    type Rx = <Conflux as Mailbox>::Rx;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        Conflux::new(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) -> bool {
        tx.try_send(conflux::mailbox::policies::Spill(value))
            .is_ok()
    }
    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        Conflux::try_recv(rx)
    }
}
impl BlockingRecv for ConfluxSendBlocking {
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        Conflux::recv(rx)
    }
    fn send_blocking(tx: &Self::Tx, value: u64) {
        tx.send_blocking(conflux::mailbox::policies::Spill(value))
            .unwrap();
    }
}

/// conflux with a message that retains nothing in overflow (`capped` at 0): an enqueue into a
/// full `ready` is refused and the producer retries, as with the channels' `try_send`. For
/// workloads that measure the hand-off and the wait, not the overflow (the wait rows).
pub struct ConfluxRefusing;

/// The message of [`ConfluxRefusing`]: refused while `ready` is full.
pub struct Refused(u64);
impl conflux::mailbox::UnreliablePolicy for Refused {
    type Overflow = VecDeque<Refused>;
    fn handle(overflow: &mut VecDeque<Refused>, message: Refused) -> bool {
        conflux::mailbox::policies::capped(overflow, message, 0)
    }
}

impl Mailbox for ConfluxRefusing {
    const NAME: &'static str = "conflux";
    type Tx = conflux::mailbox::UnreliableSender<Refused>;
    type Rx = conflux::mailbox::UnreliableReceiver<Refused>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        conflux::mailbox::new_unreliable(nz(capacity))
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) -> bool {
        tx.enqueue(Refused(value)).accepted()
    }
    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok().map(|m| m.0)
    }
}
impl BlockingRecv for ConfluxRefusing {
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv_blocking().map(|m| m.0)
    }
}

/// commonware-actor's mailbox, the seed peer of `conflux::mailbox`: in the default build, left
/// out with `--no-default-features` (it pulls in commonware-runtime and, through it, C crypto
/// libraries that make most of the runner's first build).
#[cfg(feature = "commonware")]
pub(crate) use commonware_peer::NoMetrics;

#[cfg(feature = "commonware")]
mod commonware_peer {
    use std::collections::VecDeque;

    use super::{nz, Mailbox};

    /// commonware-actor's mailbox needs a metrics sink; this one discards everything (the
    /// fan-in rows use it too).
    #[derive(Clone, Copy, Debug, Default)]
    pub(crate) struct NoMetrics;

    impl commonware_runtime::Supervisor for NoMetrics {
        fn name(&self) -> commonware_runtime::Name {
            commonware_runtime::Name::default()
        }
        fn child(&self, _label: &'static str) -> Self {
            NoMetrics
        }
        fn with_attribute(self, _key: &'static str, _value: impl std::fmt::Display) -> Self {
            self
        }
    }

    impl commonware_runtime::Metrics for NoMetrics {
        fn register<
            N: Into<String>,
            H: Into<String>,
            M: commonware_runtime::telemetry::metrics::Metric,
        >(
            &self,
            _name: N,
            _help: H,
            metric: M,
        ) -> commonware_runtime::telemetry::metrics::Registered<M> {
            commonware_runtime::telemetry::metrics::Registered::detached(metric)
        }
        fn encode(&self) -> String {
            String::new()
        }
    }

    /// The commonware message: spills, like `Spill<u64>` on the conflux side.
    pub struct CwMessage(u64);
    impl commonware_actor::mailbox::Policy for CwMessage {
        type Overflow = VecDeque<CwMessage>;
        fn handle(overflow: &mut VecDeque<CwMessage>, message: CwMessage) {
            overflow.push_back(message);
        }
    }

    pub struct Commonware;
    impl Mailbox for Commonware {
        const NAME: &'static str = "commonware";
        type Tx = commonware_actor::mailbox::Sender<CwMessage>;
        type Rx = commonware_actor::mailbox::Receiver<CwMessage>;
        fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
            commonware_actor::mailbox::new(NoMetrics, nz(capacity))
        }
        #[inline]
        fn send(tx: &Self::Tx, value: u64) -> bool {
            tx.enqueue(CwMessage(value)).accepted()
        }
        #[inline]
        fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
            rx.try_recv().ok().map(|m| m.0)
        }
    }
}
#[cfg(feature = "commonware")]
use commonware_peer::Commonware;

pub struct Crossbeam;
impl Mailbox for Crossbeam {
    const NAME: &'static str = "crossbeam-channel";
    type Tx = crossbeam_channel::Sender<u64>;
    type Rx = crossbeam_channel::Receiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        crossbeam_channel::bounded(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) -> bool {
        tx.try_send(value).is_ok()
    }
    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok()
    }
}
impl BlockingRecv for Crossbeam {
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
    fn send_blocking(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
}

pub struct Flume;
impl Mailbox for Flume {
    const NAME: &'static str = "flume";
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        flume::bounded(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) -> bool {
        tx.try_send(value).is_ok()
    }
    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok()
    }
}
impl BlockingRecv for Flume {
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
    fn send_blocking(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
}

pub struct Tokio;
impl Mailbox for Tokio {
    const NAME: &'static str = "tokio-mpsc";
    type Tx = tokio::sync::mpsc::Sender<u64>;
    type Rx = tokio::sync::mpsc::Receiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) -> bool {
        tx.try_send(value).is_ok()
    }
    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok()
    }
}
impl BlockingRecv for Tokio {
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.blocking_recv()
    }
    fn send_blocking(tx: &Self::Tx, value: u64) {
        tx.blocking_send(value).unwrap();
    }
}

pub struct Kanal;
impl Mailbox for Kanal {
    const NAME: &'static str = "kanal";
    type Tx = kanal::Sender<u64>;
    type Rx = kanal::Receiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        kanal::bounded(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) -> bool {
        // `Ok(false)`: full; `Err`: closed, which the workloads never do while sending.
        tx.try_send(value) == Ok(true)
    }
    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok().flatten()
    }
}
impl BlockingRecv for Kanal {
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
    fn send_blocking(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
}

/// crossfire's multi-producer, single-consumer bounded channel (the mailbox's shape), with
/// blocking ends.
pub struct Crossfire;
impl Mailbox for Crossfire {
    const NAME: &'static str = "crossfire";
    type Tx = crossfire::MTx<crossfire::mpsc::Array<u64>>;
    type Rx = crossfire::Rx<crossfire::mpsc::Array<u64>>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        crossfire::mpsc::bounded_blocking(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) -> bool {
        tx.try_send(value).is_ok()
    }
    #[inline]
    fn try_recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.try_recv().ok()
    }
}
impl BlockingRecv for Crossfire {
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
    fn send_blocking(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
}

const BURST: u64 = 1024;

/// One step of a spin-wait (a full channel for a producer, an empty one for a spinning
/// consumer): spin, but give the core away every 64 steps, so that on a box with more runnable
/// threads than cores a pure spin does not starve the very thread it waits for. The same for
/// every contender.
fn idle_wait(idle: &mut u32) {
    *idle += 1;
    if idle.is_multiple_of(64) {
        thread::yield_now();
    } else {
        std::hint::spin_loop();
    }
}

/// 1024 sends into an empty queue of capacity 1024 (timed), then a drain (not timed).
fn sends_into_empty<M: Mailbox>() -> Contender {
    let (tx, mut rx) = M::new(BURST as usize);
    Contender::timed(M::NAME, move |iterations| {
        let mut took = Duration::ZERO;
        for _ in 0..iterations {
            let start = Instant::now();
            for value in 0..BURST {
                black_box(M::send(&tx, black_box(value)));
            }
            took += start.elapsed();
            while M::try_recv(&mut rx).is_some() {}
        }
        (iterations * BURST, took)
    })
}

/// 1024 receives from a full queue (timed), after filling it (not timed).
fn receives_from_full<M: Mailbox>() -> Contender {
    let (tx, mut rx) = M::new(BURST as usize);
    Contender::timed(M::NAME, move |iterations| {
        let mut took = Duration::ZERO;
        for _ in 0..iterations {
            for value in 0..BURST {
                M::send(&tx, value);
            }
            let start = Instant::now();
            for _ in 0..BURST {
                black_box(M::try_recv(&mut rx));
            }
            took += start.elapsed();
        }
        (iterations * BURST, took)
    })
}

/// One send then one receive, on one thread.
fn round_trip<M: Mailbox>() -> Contender {
    let (tx, mut rx) = M::new(BURST as usize);
    Contender::new(M::NAME, move |iterations| {
        for value in 0..iterations {
            M::send(&tx, black_box(value));
            black_box(M::try_recv(&mut rx));
        }
        iterations
    })
}

/// A producer thread sends `iterations` messages (retrying while a channel is full); this
/// thread spins on `try_recv` until it has them all: ns per message.
fn producer_to_spinning_consumer<M: Mailbox>() -> Contender {
    Contender::new(M::NAME, move |iterations| {
        let (tx, mut rx) = M::new(BURST as usize);
        let producer = thread::spawn(move || {
            for value in 0..iterations {
                let mut idle = 0u32;
                while !M::send(&tx, value) {
                    idle_wait(&mut idle);
                }
            }
        });
        let mut received = 0;
        let mut idle = 0u32;
        while received < iterations {
            match M::try_recv(&mut rx) {
                Some(value) => {
                    black_box(value);
                    received += 1;
                    idle = 0;
                }
                None => idle_wait(&mut idle),
            }
        }
        producer.join().unwrap();
        iterations
    })
    .min_iterations(1 << 14)
}

/// A producer thread sends `iterations` messages through its blocking send (conflux: enqueue,
/// retrying when refused); this thread waits in its blocking receive until it has them all.
///
/// With [`Conflux`] (`Spill`) a producer that keeps pace with the consumer is never told
/// "full": once the consumer falls a whole `ready` behind (a park's wake-up, a descheduling)
/// the producer spills, and `ready` stays full with every enqueue and receive taking the
/// overflow lock until the consumer pulls ahead (BENCHMARKS.md, "Waiting"). The wait rows use
/// [`ConfluxRefusing`], whose producer waits for room (retrying) as the channels' do.
pub(crate) fn producer_to_waiting_consumer<M: BlockingRecv>() -> Contender {
    producer_to_prepared_consumer::<M>(|_| {})
}

/// conflux's way to busy-poll: its blocking receive set never to park
/// (`WaitStrategy::SpinOnly`), which, unlike a `try_recv` loop, can let a streaming producer
/// run a few cache lines ahead (`Receiver::try_recv`'s docs).
fn producer_to_spin_only_consumer() -> Contender {
    producer_to_prepared_consumer::<ConfluxRefusing>(|rx| {
        rx.set_wait_strategy(conflux::WaitStrategy::SpinOnly)
    })
}

/// [`producer_to_waiting_consumer`] with `prepare` applied to the receiver first.
fn producer_to_prepared_consumer<M: BlockingRecv>(prepare: fn(&mut M::Rx)) -> Contender {
    Contender::new(M::NAME, move |iterations| {
        let (tx, mut rx) = M::new(BURST as usize);
        prepare(&mut rx);
        let producer = thread::spawn(move || {
            for value in 0..iterations {
                M::send_blocking(&tx, value);
            }
        });
        let mut received = 0;
        while received < iterations {
            black_box(M::recv(&mut rx));
            received += 1;
        }
        producer.join().unwrap();
        iterations
    })
    .min_iterations(1 << 14)
}

/// Capacity 64, 1024 sends (960 spill into overflow) then a full drain: ns per message.
fn spill_then_drain<M: Mailbox>() -> Contender {
    let (tx, mut rx) = M::new(64);
    Contender::new(M::NAME, move |iterations| {
        for _ in 0..iterations {
            for value in 0..BURST {
                black_box(M::send(&tx, value));
            }
            let mut drained = 0;
            while let Some(value) = M::try_recv(&mut rx) {
                black_box(value);
                drained += 1;
            }
            assert_eq!(drained, BURST, "{} lost messages", M::NAME);
        }
        iterations * BURST
    })
}

fn all_peers<const N: usize>(make: [fn() -> Contender; N]) -> Vec<Contender> {
    make.iter().map(|f| f()).collect()
}

pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "mailbox: 1024 sends into empty ready".to_string(),
            unit: "message",
            contenders: all_peers([
                sends_into_empty::<Conflux>,
                #[cfg(feature = "commonware")]
                sends_into_empty::<Commonware>,
                sends_into_empty::<Crossbeam>,
                sends_into_empty::<Flume>,
                sends_into_empty::<Tokio>,
                sends_into_empty::<Kanal>,
                sends_into_empty::<Crossfire>,
            ]),
        },
        Case {
            name: "mailbox: 1024 receives from full ready".to_string(),
            unit: "message",
            contenders: all_peers([
                receives_from_full::<Conflux>,
                #[cfg(feature = "commonware")]
                receives_from_full::<Commonware>,
                receives_from_full::<Crossbeam>,
                receives_from_full::<Flume>,
                receives_from_full::<Tokio>,
                receives_from_full::<Kanal>,
                receives_from_full::<Crossfire>,
            ]),
        },
        Case {
            name: "mailbox: send + receive round trip".to_string(),
            unit: "message",
            contenders: all_peers([
                round_trip::<Conflux>,
                #[cfg(feature = "commonware")]
                round_trip::<Commonware>,
                round_trip::<Crossbeam>,
                round_trip::<Flume>,
                round_trip::<Tokio>,
                round_trip::<Kanal>,
                round_trip::<Crossfire>,
            ]),
        },
        Case {
            name: "mailbox: 1 producer thread -> spinning consumer".to_string(),
            unit: "message",
            contenders: all_peers([
                producer_to_spinning_consumer::<Conflux>,
                #[cfg(feature = "commonware")]
                producer_to_spinning_consumer::<Commonware>,
                producer_to_spinning_consumer::<Crossbeam>,
                producer_to_spinning_consumer::<Flume>,
                producer_to_spinning_consumer::<Tokio>,
                producer_to_spinning_consumer::<Kanal>,
                producer_to_spinning_consumer::<Crossfire>,
            ]),
        },
        Case {
            // Each contender's best way to busy-poll: conflux's `SpinOnly` blocking receive
            // (refused when full, so its producer retries like the others), the peers'
            // `try_recv` loops (their blocking receives may park).
            name: "mailbox: 1 producer thread -> busy-polling consumer (conflux: SpinOnly recv)"
                .to_string(),
            unit: "message",
            contenders: vec![
                producer_to_spin_only_consumer(),
                producer_to_spinning_consumer::<Crossbeam>(),
                producer_to_spinning_consumer::<Flume>(),
                producer_to_spinning_consumer::<Kanal>(),
                producer_to_spinning_consumer::<Crossfire>(),
            ],
        },
        Case {
            name: "mailbox: 1 producer thread -> blocking consumer".to_string(),
            unit: "message",
            contenders: vec![
                producer_to_waiting_consumer::<Conflux>(),
                producer_to_waiting_consumer::<ConfluxSendBlocking>(),
                producer_to_waiting_consumer::<Crossbeam>(),
                producer_to_waiting_consumer::<Flume>(),
                producer_to_waiting_consumer::<Tokio>(),
                producer_to_waiting_consumer::<Kanal>(),
                producer_to_waiting_consumer::<Crossfire>(),
            ],
        },
        Case {
            name: "mailbox: spill (capacity 64, 1024 sends, drain)".to_string(),
            unit: "message",
            contenders: vec![
                spill_then_drain::<Conflux>(),
                #[cfg(feature = "commonware")]
                spill_then_drain::<Commonware>(),
            ],
        },
    ]
}
