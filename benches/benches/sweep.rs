//! Criterion bench: the server's once-a-second session sweep with N open
//! sessions of which 1 % are parked (lost connections waiting to resume).
//! The sweep runs on a server thread, so its time is time that thread's
//! rooms and sockets wait.
//!
//! ```text
//! cargo bench -p playhouse-benches --bench sweep
//! ```

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use playhouse::protocol::ConnId;
use playhouse::session::{OutboxLimits, SessionConfig, Sessions};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn sweep(c: &mut Criterion) {
    let mut group = c.benchmark_group("session_sweep");
    for open in [1_000usize, 10_000, 100_000] {
        let config = SessionConfig {
            reconnect_window: Duration::from_secs(3600),
            roomless_window: Duration::from_secs(3600),
            max_parked: open,
            max_parked_per_address: 0,
            ..Default::default()
        };
        let sessions = Sessions::new(config, OutboxLimits::default());
        let now = Instant::now();
        let all: Vec<_> = (0..open as u64).map(|i| sessions.open(ConnId(i + 1))).collect();
        for (i, s) in all.iter().enumerate().step_by(100) {
            assert!(sessions.disconnect(s, ConnId(i as u64 + 1), true, now), "parked");
        }
        // Nothing is past its window: every sweep visits and keeps them all.
        group.bench_with_input(BenchmarkId::from_parameter(open), &open, |b, _| {
            b.iter(|| black_box(sessions.sweep(black_box(now + Duration::from_secs(1)))))
        });
    }
    group.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
