//! What the box is doing while the runner measures: the host's name, the load before the run,
//! and, round by round, how much CPU other processes took and how much the hypervisor stole.
//!
//! **Why.** On a shared machine a number measured while a neighbour compiled is not the number
//! a quiet box gives, and cross-thread rows suffer most (a thread waiting for a core it does not
//! get). The runner cannot make the box quiet; it can say when it was not. Other processes'
//! CPU use is the whole machine's busy time (`/proc/stat`) minus this process's own CPU time
//! (`CLOCK_PROCESS_CPUTIME_ID`, so the runner's own threads, CPU-bound competitors of the
//! loaded case included, never count as a neighbour). Steal is the time a virtual CPU was
//! ready but the hypervisor ran someone else. On a system without `/proc` every reading is
//! absent and the report says so.

use std::time::{Duration, Instant};

/// Other processes using more than this many CPUs on average make the box "busy".
const BUSY_CPUS: f64 = 0.25;
/// Steal above this share of the machine's time makes the box "busy".
const BUSY_STEAL: f64 = 0.03;

/// The process's CPU time so far, every thread, user + system.
pub fn process_cpu_time() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; the clock id is a constant the kernel knows.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(now.tv_sec as u64, now.tv_nsec as u32)
}

/// The CPU model (`/proc/cpuinfo`) and the CPUs this process may use.
pub fn describe() -> String {
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split(':').nth(1))
                .map(|name| name.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".to_string());
    format!("{model}, {} CPUs", cpus())
}

fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `/proc/loadavg`'s 1, 5 and 15 minute averages (they count this process's threads too).
pub fn loadavg() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The machine-wide CPU counters at one instant, with this process's CPU time.
#[derive(Clone, Copy)]
struct Snapshot {
    at: Instant,
    /// Seconds all CPUs spent running anything (user, nice, system, interrupts).
    busy: f64,
    /// Seconds all CPUs were stolen by the hypervisor.
    steal: f64,
    /// This process's CPU time.
    own: Duration,
}

fn snapshot() -> Option<Snapshot> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let fields: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .map(|field| field.parse().unwrap_or(0.0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already inside user).
    let field = |i: usize| fields.get(i).copied().unwrap_or(0.0);
    // SAFETY: sysconf with a constant name has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    Some(Snapshot {
        at: Instant::now(),
        busy: (field(0) + field(1) + field(2) + field(5) + field(6)) / ticks_per_second,
        steal: field(7) / ticks_per_second,
        own: process_cpu_time(),
    })
}

/// What the box did between two snapshots.
#[derive(Clone, Copy)]
pub struct Load {
    /// CPUs' worth of time other processes used (0.5: half a CPU on average).
    pub others: f64,
    /// Share of the machine's time stolen by the hypervisor.
    pub steal: f64,
}

impl Load {
    fn between(a: &Snapshot, b: &Snapshot) -> Load {
        let wall = b.at.duration_since(a.at).as_secs_f64().max(1e-3);
        let own = b.own.saturating_sub(a.own).as_secs_f64();
        Load {
            others: ((b.busy - a.busy - own) / wall).max(0.0),
            steal: ((b.steal - a.steal) / wall / cpus() as f64).max(0.0),
        }
    }

    fn busy(&self) -> bool {
        self.others > BUSY_CPUS || self.steal > BUSY_STEAL
    }
}

/// Watches the box from before the first round to the end of the last.
pub struct Watch {
    loadavg_before: Option<String>,
    before: Option<Load>,
    last: Option<Snapshot>,
    rounds: Vec<Load>,
}

impl Watch {
    /// Reads the load averages and samples the box for `sample` before anything runs.
    pub fn start(sample: Duration) -> Watch {
        let loadavg_before = loadavg();
        let first = snapshot();
        std::thread::sleep(sample);
        let last = snapshot();
        let before = first.zip(last).map(|(a, b)| Load::between(&a, &b));
        Watch {
            loadavg_before,
            before,
            last,
            rounds: Vec::new(),
        }
    }

    /// One line on the box before the run, and whether it was busy.
    pub fn before(&self) -> (String, bool) {
        let loadavg = self.loadavg_before.as_deref().unwrap_or("unknown");
        match self.before {
            Some(load) => (
                format!(
                    "before the run: other processes used {:.2} of {} CPUs, steal {:.1} %, load averages {loadavg}",
                    load.others,
                    cpus(),
                    load.steal * 100.0
                ),
                load.busy(),
            ),
            None => (
                format!("before the run: load averages {loadavg} (no /proc/stat here)"),
                false,
            ),
        }
    }

    /// Restarts the interval (after the warm-up, so that the first round's reading is its own).
    pub fn restart(&mut self) {
        self.last = snapshot();
    }

    /// Ends a round: records what the box did since the previous mark.
    pub fn mark(&mut self) {
        let now = snapshot();
        if let (Some(a), Some(b)) = (self.last, now) {
            self.rounds.push(Load::between(&a, &b));
        }
        self.last = now;
    }

    /// One line on the box during the rounds, and whether it was busy.
    pub fn during(&self) -> (String, bool) {
        if self.rounds.is_empty() {
            return (
                "during the run: no reading (no /proc/stat here)".to_string(),
                false,
            );
        }
        let n = self.rounds.len() as f64;
        let mean = |f: fn(&Load) -> f64| self.rounds.iter().map(f).sum::<f64>() / n;
        let max = |f: fn(&Load) -> f64| self.rounds.iter().map(f).fold(0.0, f64::max);
        let busy_rounds = self.rounds.iter().filter(|load| load.busy()).count();
        let average = Load {
            others: mean(|l| l.others),
            steal: mean(|l| l.steal),
        };
        (
            format!(
                "during the run: other processes used {:.2} of {} CPUs on average (most in a round: {:.2}), steal {:.1} % (most: {:.1} %); busy in {busy_rounds} of {} rounds",
                average.others,
                cpus(),
                max(|l| l.others),
                average.steal * 100.0,
                max(|l| l.steal) * 100.0,
                self.rounds.len()
            ),
            average.busy(),
        )
    }
}

/// The warning printed and written when the box was busy.
pub fn busy_warning() -> String {
    format!(
        "WARNING: the box was busy (other processes above {BUSY_CPUS} CPUs, or steal above {:.0} %, on average before or during the rounds): the cross-thread rows especially may be off; rows marked noisy carry no verdict, the others hold for this run only. Re-run on a quiet box before quoting.",
        BUSY_STEAL * 100.0
    )
}
