//! A mio event loop that serves TCP and also receives results from worker threads through
//! conflux tokens, woken by the notify wake hook (`event_queue_with_waker` + `Poller::arm`)
//! through a `mio::Waker`.
//!
//! The server on 127.0.0.1 reads request lines `"<id> <n>"`, hands each to a worker thread,
//! and answers `"<id> <n> <steps>"` once the worker has counted the Collatz steps of `n`. A
//! worker puts its result in the connection's outbox (the user's storage) and notifies the
//! connection's token; the loop polls the tokens, then sleeps in `mio::Poll` only after
//! `arm()` said nothing is pending, so a result never waits for unrelated I/O, and a busy loop
//! costs the workers no system call (the hook calls `Waker::wake` once per sleep, not once
//! per result).
//!
//! Run: `cargo run --example mio_loop`. It is its own test: a few client threads send a few
//! thousand requests, check every reply, and the process exits 0 (or panics naming what went
//! wrong; a watchdog ends a hung run after 20 s).

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use conflux::notify::{event_queue_with_waker, Events, Token};
use mio::net::{TcpListener, TcpStream};
use mio::{Interest, Poll, Waker};

const CLIENTS: usize = 4;
const REQUESTS_PER_CLIENT: u64 = 1000;
/// Requests a client sends before it reads their replies.
const WINDOW: u64 = 10;
const WORKERS: usize = 2;
const MAX_CONNECTIONS: usize = 64;

const LISTENER: mio::Token = mio::Token(0);
const WAKE: mio::Token = mio::Token(1);
/// mio tokens of connections start here; connection `i` is `mio::Token(FIRST_CONN + i)` and
/// conflux `Token::new(i)`.
const FIRST_CONN: usize = 2;

/// The work: how many Collatz steps take `n` to 1.
fn collatz_steps(mut n: u64) -> u64 {
    let mut steps = 0;
    while n > 1 {
        n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
        steps += 1;
    }
    steps
}

struct Job {
    connection: usize,
    id: u64,
    n: u64,
}

/// Finished replies per connection, filled by workers, emptied by the loop.
type Outboxes = Arc<Vec<Mutex<Vec<u8>>>>;

struct Connection {
    stream: TcpStream,
    read_buf: Vec<u8>,
    write_buf: Vec<u8>,
}

fn main() -> io::Result<()> {
    let started = Instant::now();
    thread::spawn(|| {
        thread::sleep(Duration::from_secs(20));
        eprintln!("mio_loop: no progress for 20 s, giving up");
        std::process::exit(1);
    });

    let mut poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
    let wakes = Arc::new(AtomicU64::new(0));
    let (notifier, poller) = {
        let (waker, wakes) = (Arc::clone(&waker), Arc::clone(&wakes));
        // The hook runs on a worker thread, inside its notify: one eventfd write.
        event_queue_with_waker(MAX_CONNECTIONS, move || {
            wakes.fetch_add(1, Ordering::Relaxed);
            waker.wake().expect("mio::Waker::wake");
        })
    };

    let outboxes: Outboxes = Arc::new((0..MAX_CONNECTIONS).map(|_| Mutex::default()).collect());
    let mut job_senders = Vec::new();
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (notifier, outboxes) = (notifier.clone(), Arc::clone(&outboxes));
        job_senders.push(jobs);
        workers.push(thread::spawn(move || {
            for job in inbox {
                let steps = collatz_steps(job.n);
                let mut outbox = outboxes[job.connection].lock().unwrap();
                writeln!(outbox, "{} {} {steps}", job.id, job.n).unwrap();
                drop(outbox);
                notifier
                    .notify(Token::new(job.connection))
                    .expect("the loop outlives the workers");
            }
        }));
    }
    drop(notifier);

    let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    let address = listener.local_addr()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| thread::spawn(move || client(address, c as u64)))
        .collect();

    let mut connections: Vec<Option<Connection>> = Vec::new();
    let mut closed = 0;
    let mut next_worker = 0;
    let mut events = Events::with_capacity(MAX_CONNECTIONS);
    let mut mio_events = mio::Events::with_capacity(64);
    let (mut sleeps, mut requests) = (0u64, 0u64);
    while closed < CLIENTS {
        // Results from the workers first: each token is a connection with replies waiting.
        poller.poll(&mut events);
        for token in &events {
            if let Some(connection) = connections[token.index()].as_mut() {
                let mut outbox = outboxes[token.index()].lock().unwrap();
                connection.write_buf.append(&mut outbox);
                drop(outbox);
                flush(connection)?;
            }
        }
        // Sleep only when armed with nothing pending; otherwise just look at the sockets.
        let timeout = if events.is_empty() && poller.arm() {
            sleeps += 1;
            None
        } else {
            Some(Duration::ZERO)
        };
        poll.poll(&mut mio_events, timeout)?;
        for event in &mio_events {
            match event.token() {
                LISTENER => loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            // Replies go out as they are ready: no Nagle delay.
                            stream.set_nodelay(true)?;
                            let index = connections.len();
                            assert!(index < MAX_CONNECTIONS, "too many connections");
                            poll.registry().register(
                                &mut stream,
                                mio::Token(FIRST_CONN + index),
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            connections.push(Some(Connection {
                                stream,
                                read_buf: Vec::new(),
                                write_buf: Vec::new(),
                            }));
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                },
                // The hook's wake: the tokens are polled at the top of the loop.
                WAKE => {}
                mio::Token(n) => {
                    let index = n - FIRST_CONN;
                    let Some(connection) = connections[index].as_mut() else {
                        continue;
                    };
                    if event.is_writable() {
                        flush(connection)?;
                    }
                    if event.is_readable() {
                        let open = read_requests(connection, |id, n| {
                            requests += 1;
                            let job = Job {
                                connection: index,
                                id,
                                n,
                            };
                            job_senders[next_worker % WORKERS].send(job).unwrap();
                            next_worker += 1;
                        })?;
                        if !open {
                            let mut connection = connections[index].take().unwrap();
                            poll.registry().deregister(&mut connection.stream)?;
                            closed += 1;
                        }
                    }
                }
            }
        }
    }

    drop(job_senders);
    for worker in workers {
        worker.join().unwrap();
    }
    for client in clients {
        client.join().unwrap();
    }
    let expected = CLIENTS as u64 * REQUESTS_PER_CLIENT;
    assert_eq!(requests, expected);
    println!(
        "mio_loop: {requests} requests answered and checked in {:.0?}; the loop slept {sleeps} \
         times and the wake hook woke it {} times (a wake per result would be {requests})",
        started.elapsed(),
        wakes.load(Ordering::Relaxed),
    );
    Ok(())
}

/// Writes what the connection's buffer holds until the socket would block.
fn flush(connection: &mut Connection) -> io::Result<()> {
    while !connection.write_buf.is_empty() {
        match connection.stream.write(&connection.write_buf) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                connection.write_buf.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads until the socket would block, calling `request` for every complete line; returns
/// whether the peer is still open.
fn read_requests(
    connection: &mut Connection,
    mut request: impl FnMut(u64, u64),
) -> io::Result<bool> {
    let mut chunk = [0u8; 4096];
    let open = loop {
        match connection.stream.read(&mut chunk) {
            Ok(0) => break false,
            Ok(n) => connection.read_buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    while let Some(end) = connection.read_buf.iter().position(|&b| b == b'\n') {
        let line: Vec<u8> = connection.read_buf.drain(..=end).collect();
        let line = std::str::from_utf8(&line).expect("requests are text");
        let mut fields = line.split_whitespace().map(|f| f.parse::<u64>().unwrap());
        let (id, n) = (fields.next().unwrap(), fields.next().unwrap());
        request(id, n);
    }
    Ok(open)
}

/// One client: sends its requests in windows, checks every reply (each request answered once,
/// with the right result), then closes the connection.
fn client(address: std::net::SocketAddr, client: u64) {
    let stream = std::net::TcpStream::connect(address).expect("connect");
    stream.set_nodelay(true).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    for window in 0..REQUESTS_PER_CLIENT / WINDOW {
        let mut outstanding = HashMap::new();
        let mut requests = String::new();
        for k in 0..WINDOW {
            let id = window * WINDOW + k;
            let n = 1 + client * 1_000_003 + id * 7919;
            outstanding.insert(id, n);
            requests.push_str(&format!("{id} {n}\n"));
        }
        writer.write_all(requests.as_bytes()).unwrap();
        while !outstanding.is_empty() {
            line.clear();
            assert!(
                reader.read_line(&mut line).unwrap() > 0,
                "server closed early"
            );
            let fields: Vec<u64> = line
                .split_whitespace()
                .map(|f| f.parse().unwrap())
                .collect();
            let [id, n, steps] = fields[..] else {
                panic!("malformed reply {line:?}");
            };
            assert_eq!(
                outstanding.remove(&id),
                Some(n),
                "reply {line:?} not asked for"
            );
            assert_eq!(steps, collatz_steps(n), "wrong result in {line:?}");
        }
    }
}
