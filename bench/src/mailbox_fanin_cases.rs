//! Fan-in: many producers, one consumer, the shape a mailbox exists for. 2^17 messages per run,
//! split evenly over P producers, into one consumer, capacity 1024:
//!
//! * **threads**: P = 1, 4, 16 producer threads, each sending through its library's blocking
//!   send, into one consumer thread waiting in its blocking receive;
//! * **tasks**: P = 1, 4, 64 producer tasks into one consumer task, on a tokio multi-thread
//!   runtime with 2 workers; every producer task yields (`tokio::task::yield_now`) after every
//!   256 messages, as a task sharing its worker with others would.
//!
//! Every contender goes through its natural API, the one its users write:
//!
//! | contender | threads: send / receive | tasks: send / receive |
//! |---|---|---|
//! | conflux (`send`) | `send_blocking(Spill(v))` / `recv_blocking()` | `send(Spill(v)).await` / `recv().await` |
//! | conflux (`enqueue`) | `enqueue(Spill(v))` / `recv_blocking()` | `enqueue(Spill(v))` / `recv().await` |
//! | crossbeam-channel | `send` / `recv` | (no async API) |
//! | flume | `send` / `recv` | `send_async().await` / `recv_async().await` |
//! | kanal | `send` / `recv` | `send().await` / `recv().await` |
//! | crossfire (`mpsc`) | `send` / `recv` | `send().await` / `recv().await` |
//! | tokio mpsc | `blocking_send` / `blocking_recv` | `send().await` / `recv().await` |
//! | commonware-actor (feature `commonware`) | (no blocking receive) | `enqueue(m)` / `recv().await` |
//!
//! conflux runs every row twice, once through each way it sends: its waiting sends, which
//! put the message into `ready` and wait while it is full (as every channel's send does), and
//! `enqueue`, which never waits: once `ready` is full the message goes to its policy (`Spill`:
//! appended to the overflow) and the producer carries on, ignoring `Backoff` as a spilling
//! user does. commonware's mailbox does the same with a spilling message.
//!
//! **Why it is fair.** Every contender runs the same generic producer and consumer code around
//! its calls; each run builds a fresh channel. In the thread rows the producers are spawned and
//! wait on a barrier before the clock starts, and are joined after it stops, so thread creation
//! is not measured; the clock stops when the consumer's receive reports every sender gone and
//! nothing buffered. In the task rows the clock covers spawning the tasks and stops when the
//! consumer task sees the channel disconnected. The consumer counts and sums what it receives,
//! and every run asserts the count and the sum, so nobody wins by losing or duplicating
//! messages; once per contender (its first batch, outside any measurement) a run also checks
//! that each producer's messages arrived in the order it sent them.

#[cfg(feature = "commonware")]
use std::collections::VecDeque;
use std::future::Future;
use std::num::NonZeroUsize;
use std::sync::{Arc, Barrier, LazyLock};
use std::thread;
use std::time::{Duration, Instant};

use conflux::mailbox::policies::Spill;

use crate::harness::{Case, Contender};

/// Messages per run, split evenly over the producers.
const MESSAGES: u64 = 1 << 17;
/// The bound of every channel.
const CAPACITY: usize = 1024;
/// A producer task yields after this many messages.
const YIELD_EVERY: u64 = 256;

/// A message carries its producer in the high half and its sequence number in the low half.
fn message(producer: u64, seq: u64) -> u64 {
    (producer << 32) | seq
}

/// What the consumer saw: how many, their sum, and (when checking) the next sequence number
/// expected from each producer.
struct Tally {
    count: u64,
    sum: u64,
    next: Vec<u64>,
}

impl Tally {
    fn new(producers: u64, check_order: bool) -> Tally {
        Tally {
            count: 0,
            sum: 0,
            next: if check_order {
                vec![0; producers as usize]
            } else {
                Vec::new()
            },
        }
    }

    #[inline]
    fn take(&mut self, value: u64) {
        self.count += 1;
        self.sum = self.sum.wrapping_add(value);
        if !self.next.is_empty() {
            let (producer, seq) = ((value >> 32) as usize, value & 0xffff_ffff);
            assert_eq!(
                seq, self.next[producer],
                "producer {producer}'s messages arrived out of order"
            );
            self.next[producer] += 1;
        }
    }

    /// Panics unless every message of every producer arrived exactly once.
    fn verify(&self, name: &str, producers: u64) {
        let per = MESSAGES / producers;
        let expected: u64 = (0..producers)
            .map(|p| {
                (p << 32)
                    .wrapping_mul(per)
                    .wrapping_add(per * (per - 1) / 2)
            })
            .fold(0, u64::wrapping_add);
        assert_eq!(self.count, MESSAGES, "{name} delivered a wrong count");
        assert_eq!(self.sum, expected, "{name} lost or duplicated messages");
        assert!(
            self.next.iter().all(|&n| n == per),
            "{name}: a producer's messages are missing"
        );
    }
}

fn nz(capacity: usize) -> NonZeroUsize {
    NonZeroUsize::new(capacity).unwrap()
}

/// A channel used from plain threads: a send that waits for room (or, for conflux's
/// `enqueue`, never waits) and a receive that waits for a message.
trait ThreadFanIn: 'static {
    const NAME: &'static str;
    type Tx: Clone + Send + 'static;
    type Rx: Send + 'static;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, value: u64);
    /// `None` once every sender is gone and nothing is buffered.
    fn recv(rx: &mut Self::Rx) -> Option<u64>;
}

/// The same from tasks.
trait TaskFanIn: 'static {
    const NAME: &'static str;
    type Tx: Clone + Send + Sync + 'static;
    type Rx: Send + 'static;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, value: u64) -> impl Future<Output = ()> + Send + '_;
    /// `None` once every sender is gone and nothing is buffered.
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send + '_;
}

/// conflux through `enqueue` with a spilling message, `Backoff` ignored.
struct ConfluxEnqueue;

impl ThreadFanIn for ConfluxEnqueue {
    const NAME: &'static str = "conflux";
    type Tx = conflux::mailbox::Sender<Spill<u64>>;
    type Rx = conflux::mailbox::Receiver<Spill<u64>>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        conflux::mailbox::new(nz(capacity))
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        // Backoff is ignored (the message is in the overflow); Closed cannot happen here.
        let _ = tx.enqueue(Spill(value));
    }
    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv_blocking().map(|m| m.0)
    }
}

impl TaskFanIn for ConfluxEnqueue {
    const NAME: &'static str = "conflux";
    type Tx = conflux::mailbox::Sender<Spill<u64>>;
    type Rx = conflux::mailbox::Receiver<Spill<u64>>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        conflux::mailbox::new(nz(capacity))
    }
    #[inline]
    async fn send(tx: &Self::Tx, value: u64) {
        let _ = tx.enqueue(Spill(value));
    }
    #[inline]
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.map(|m| m.0)
    }
}

/// conflux through its waiting sends (`send_blocking`, `send().await`), which put the message
/// into `ready` and never hand it to the policy; the message type is the same `Spill<u64>`.
struct ConfluxSend;

impl ThreadFanIn for ConfluxSend {
    const NAME: &'static str = "conflux";
    type Tx = conflux::mailbox::Sender<Spill<u64>>;
    type Rx = conflux::mailbox::Receiver<Spill<u64>>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        conflux::mailbox::new(nz(capacity))
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        tx.send_blocking(Spill(value)).unwrap();
    }
    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv_blocking().map(|m| m.0)
    }
}

impl TaskFanIn for ConfluxSend {
    const NAME: &'static str = "conflux";
    type Tx = conflux::mailbox::Sender<Spill<u64>>;
    type Rx = conflux::mailbox::Receiver<Spill<u64>>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        conflux::mailbox::new(nz(capacity))
    }
    #[inline]
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(Spill(value)).await.unwrap();
    }
    #[inline]
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.map(|m| m.0)
    }
}

struct Crossbeam;

impl ThreadFanIn for Crossbeam {
    const NAME: &'static str = "crossbeam-channel";
    type Tx = crossbeam_channel::Sender<u64>;
    type Rx = crossbeam_channel::Receiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        crossbeam_channel::bounded(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

struct Flume;

impl ThreadFanIn for Flume {
    const NAME: &'static str = "flume";
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        flume::bounded(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

impl TaskFanIn for Flume {
    const NAME: &'static str = "flume";
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        flume::bounded(capacity)
    }
    #[inline]
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send_async(value).await.unwrap();
    }
    #[inline]
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv_async().await.ok()
    }
}

struct Kanal;

impl ThreadFanIn for Kanal {
    const NAME: &'static str = "kanal";
    type Tx = kanal::Sender<u64>;
    type Rx = kanal::Receiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        kanal::bounded(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

impl TaskFanIn for Kanal {
    const NAME: &'static str = "kanal";
    type Tx = kanal::AsyncSender<u64>;
    type Rx = kanal::AsyncReceiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        kanal::bounded_async(capacity)
    }
    #[inline]
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.unwrap();
    }
    #[inline]
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.ok()
    }
}

/// crossfire's multi-producer single-consumer flavour (`mpsc`), the one for fan-in.
struct Crossfire;

impl ThreadFanIn for Crossfire {
    const NAME: &'static str = "crossfire";
    type Tx = crossfire::MTx<crossfire::mpsc::Array<u64>>;
    type Rx = crossfire::Rx<crossfire::mpsc::Array<u64>>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        crossfire::mpsc::bounded_blocking(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).unwrap();
    }
    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().ok()
    }
}

impl TaskFanIn for Crossfire {
    const NAME: &'static str = "crossfire";
    type Tx = crossfire::MAsyncTx<crossfire::mpsc::Array<u64>>;
    type Rx = crossfire::AsyncRx<crossfire::mpsc::Array<u64>>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        crossfire::mpsc::bounded_async(capacity)
    }
    #[inline]
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.unwrap();
    }
    #[inline]
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.ok()
    }
}

struct Tokio;

impl ThreadFanIn for Tokio {
    const NAME: &'static str = "tokio-mpsc";
    type Tx = tokio::sync::mpsc::Sender<u64>;
    type Rx = tokio::sync::mpsc::Receiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(capacity)
    }
    #[inline]
    fn send(tx: &Self::Tx, value: u64) {
        tx.blocking_send(value).unwrap();
    }
    #[inline]
    fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.blocking_recv()
    }
}

impl TaskFanIn for Tokio {
    const NAME: &'static str = "tokio-mpsc";
    type Tx = tokio::sync::mpsc::Sender<u64>;
    type Rx = tokio::sync::mpsc::Receiver<u64>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(capacity)
    }
    #[inline]
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.unwrap();
    }
    #[inline]
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await
    }
}

#[cfg(feature = "commonware")]
use crate::mailbox_cases::NoMetrics;

/// commonware's message: spills, like `Spill<u64>` on the conflux side.
#[cfg(feature = "commonware")]
struct CwSpill(u64);

#[cfg(feature = "commonware")]
impl commonware_actor::mailbox::Policy for CwSpill {
    type Overflow = VecDeque<CwSpill>;
    fn handle(overflow: &mut VecDeque<CwSpill>, message: CwSpill) {
        overflow.push_back(message);
    }
}

#[cfg(feature = "commonware")]
struct Commonware;

#[cfg(feature = "commonware")]
impl TaskFanIn for Commonware {
    const NAME: &'static str = "commonware";
    type Tx = commonware_actor::mailbox::Sender<CwSpill>;
    type Rx = commonware_actor::mailbox::Receiver<CwSpill>;
    fn new(capacity: usize) -> (Self::Tx, Self::Rx) {
        commonware_actor::mailbox::new(NoMetrics, nz(capacity))
    }
    #[inline]
    async fn send(tx: &Self::Tx, value: u64) {
        // Backoff ignored, as on the conflux side.
        let _ = tx.enqueue(CwSpill(value));
    }
    #[inline]
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.map(|m| m.0)
    }
}

/// One thread run: `producers` threads send `MESSAGES / producers` each; this thread receives
/// until every sender is gone. Returns the time from the start barrier to the end of receiving.
fn thread_run<C: ThreadFanIn>(producers: u64, check_order: bool) -> Duration {
    let (tx, mut rx) = C::new(CAPACITY);
    let per = MESSAGES / producers;
    let start = Arc::new(Barrier::new(producers as usize + 1));
    let handles: Vec<_> = (0..producers)
        .map(|producer| {
            let tx = tx.clone();
            let start = Arc::clone(&start);
            thread::spawn(move || {
                start.wait();
                for seq in 0..per {
                    C::send(&tx, message(producer, seq));
                }
            })
        })
        .collect();
    drop(tx);
    let mut tally = Tally::new(producers, check_order);
    start.wait();
    let began = Instant::now();
    while let Some(value) = C::recv(&mut rx) {
        tally.take(value);
    }
    let took = began.elapsed();
    for handle in handles {
        handle.join().unwrap();
    }
    tally.verify(C::NAME, producers);
    took
}

/// The runtime of the task rows: tokio multi-thread, 2 workers (shared by every contender;
/// one contender runs at a time).
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a 2-worker tokio runtime")
});

async fn produce<C: TaskFanIn>(tx: C::Tx, producer: u64, count: u64) {
    for seq in 0..count {
        C::send(&tx, message(producer, seq)).await;
        if seq % YIELD_EVERY == YIELD_EVERY - 1 {
            tokio::task::yield_now().await;
        }
    }
}

async fn consume<C: TaskFanIn>(
    mut rx: C::Rx,
    producers: u64,
    check_order: bool,
) -> (Tally, Instant) {
    let mut tally = Tally::new(producers, check_order);
    while let Some(value) = C::recv(&mut rx).await {
        tally.take(value);
    }
    (tally, Instant::now())
}

/// One task run: the consumer task and `producers` producer tasks are spawned on [`RUNTIME`];
/// returns the time from before the first spawn to the consumer seeing the channel end.
fn task_run<C: TaskFanIn>(producers: u64, check_order: bool) -> Duration {
    RUNTIME.block_on(async {
        let (tx, rx) = C::new(CAPACITY);
        let per = MESSAGES / producers;
        let began = Instant::now();
        let consumer = tokio::spawn(consume::<C>(rx, producers, check_order));
        let handles: Vec<_> = (0..producers)
            .map(|producer| tokio::spawn(produce::<C>(tx.clone(), producer, per)))
            .collect();
        drop(tx);
        let (tally, ended) = consumer.await.unwrap();
        for handle in handles {
            handle.await.unwrap();
        }
        tally.verify(C::NAME, producers);
        ended - began
    })
}

/// A contender made of runs of `run`; its first batch starts with one untimed run that also
/// checks each producer's order.
fn contender(name: &'static str, producers: u64, run: fn(u64, bool) -> Duration) -> Contender {
    let mut checked = false;
    Contender::timed(name, move |iterations| {
        if !checked {
            run(producers, true);
            checked = true;
        }
        let took = (0..iterations).map(|_| run(producers, false)).sum();
        (iterations * MESSAGES, took)
    })
}

fn threads<C: ThreadFanIn>(producers: u64) -> Contender {
    contender(C::NAME, producers, thread_run::<C>)
}

fn tasks<C: TaskFanIn>(producers: u64) -> Contender {
    contender(C::NAME, producers, task_run::<C>)
}

/// The peers of a thread row (every one with a blocking send and receive).
fn thread_peers(producers: u64) -> Vec<Contender> {
    vec![
        threads::<Crossbeam>(producers),
        threads::<Flume>(producers),
        threads::<Kanal>(producers),
        threads::<Crossfire>(producers),
        threads::<Tokio>(producers),
    ]
}

/// The peers of a task row (every one with an async send or a never-waiting enqueue, and an
/// async receive).
fn task_peers(producers: u64) -> Vec<Contender> {
    vec![
        tasks::<Flume>(producers),
        tasks::<Kanal>(producers),
        tasks::<Crossfire>(producers),
        tasks::<Tokio>(producers),
        #[cfg(feature = "commonware")]
        tasks::<Commonware>(producers),
    ]
}

/// Each row twice, once per way conflux sends (conflux comes first in a case, and every other
/// contender counts as a peer): the peers run in both, so each case's ratios come from one
/// interleaved run.
pub fn cases() -> Vec<Case> {
    // crossfire's docs ask for this once, before its channels are used: it picks the backoff
    // that suits the host (yielding instead of spinning on a single core).
    crossfire::detect_backoff_cfg();
    let mut cases = Vec::new();
    for producers in [1, 4, 16] {
        let row = format!(
            "mailbox fan-in: {producers} producer thread{} -> blocking consumer",
            if producers == 1 { "" } else { "s" }
        );
        let with = |conflux: Contender| {
            let mut contenders = vec![conflux];
            contenders.extend(thread_peers(producers));
            contenders
        };
        cases.push(Case {
            name: format!("{row} (conflux send_blocking)"),
            unit: "message",
            contenders: with(threads::<ConfluxSend>(producers)),
        });
        cases.push(Case {
            name: format!("{row} (conflux enqueue+Spill)"),
            unit: "message",
            contenders: with(threads::<ConfluxEnqueue>(producers)),
        });
    }
    for producers in [1, 4, 64] {
        let row = format!(
            "mailbox fan-in: {producers} producer task{} -> consumer task, tokio 2 workers",
            if producers == 1 { "" } else { "s" }
        );
        let with = |conflux: Contender| {
            let mut contenders = vec![conflux];
            contenders.extend(task_peers(producers));
            contenders
        };
        cases.push(Case {
            name: format!("{row} (conflux send().await)"),
            unit: "message",
            contenders: with(tasks::<ConfluxSend>(producers)),
        });
        cases.push(Case {
            name: format!("{row} (conflux enqueue+Spill)"),
            unit: "message",
            contenders: with(tasks::<ConfluxEnqueue>(producers)),
        });
    }
    cases
}
