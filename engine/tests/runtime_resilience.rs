//! Retries, timeouts, panic isolation, circuit breakers and fault
//! injection. Time is tokio's paused clock or a manual clock: no test sleeps.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use wayfare_engine::clock::ManualClock;
use wayfare_engine::resilience::{
    AgentError, BreakerConfig, BreakerState, Breakers, CircuitBreaker, Fault, FaultConfig,
    FaultInjector, Jitter, RetryError, RetryPolicy, Rng, isolate, through_breaker, with_timeout,
};

fn policy(jitter: Jitter) -> RetryPolicy {
    RetryPolicy {
        initial_interval: Duration::from_secs(1),
        backoff_coefficient: 2.0,
        maximum_interval: Duration::from_secs(5),
        maximum_attempts: 5,
        non_retryable: vec![],
        jitter,
    }
}

/// Runs `policy.retry` with an operation that fails `failures` times with
/// `error`, and returns the result and the gaps between attempts.
async fn run(
    policy: &RetryPolicy,
    seed: u64,
    failures: u32,
    error: AgentError,
) -> (Result<u32, RetryError<AgentError>>, Vec<Duration>) {
    let mut times: Vec<Instant> = Vec::new();
    let mut rng = Rng::with_seed(seed);
    let result = policy
        .retry(&mut rng, |attempt| {
            times.push(Instant::now());
            let error = error.clone();
            async move {
                if attempt <= failures {
                    Err(error)
                } else {
                    Ok(attempt)
                }
            }
        })
        .await;
    let gaps = times.windows(2).map(|w| w[1] - w[0]).collect();
    (result, gaps)
}

#[tokio::test(start_paused = true)]
async fn retries_a_transient_failure_with_exponential_backoff_capped_at_the_maximum() {
    let (result, gaps) = run(&policy(Jitter::None), 1, 4, AgentError::transient("503")).await;
    assert_eq!(result, Ok(5));
    let secs: Vec<u64> = gaps.iter().map(|g| g.as_secs()).collect();
    assert_eq!(secs, vec![1, 2, 4, 5]);
}

#[tokio::test(start_paused = true)]
async fn full_jitter_waits_a_seeded_random_share_of_each_backoff() {
    let policy = policy(Jitter::Full);
    let (result, gaps) = run(&policy, 7, 4, AgentError::transient("503")).await;
    assert_eq!(result, Ok(5));
    let mut rng = Rng::with_seed(7);
    let expected: Vec<Duration> = (1..=4).map(|n| policy.delay(n, &mut rng)).collect();
    for (n, (gap, want)) in gaps.iter().zip(&expected).enumerate() {
        let retry = n as u32 + 1;
        assert!(*gap <= policy.backoff(retry), "retry {retry}: {gap:?}");
        assert!(
            gap.abs_diff(*want) < Duration::from_millis(2),
            "{gap:?} vs {want:?}"
        );
    }
    assert!(
        gaps.iter().any(|g| *g < policy.backoff(1)),
        "jitter shortens some waits"
    );
}

#[tokio::test(start_paused = true)]
async fn a_non_retryable_error_stops_at_once() {
    let start = Instant::now();
    let (result, gaps) = run(
        &policy(Jitter::None),
        1,
        10,
        AgentError::permanent("bad city"),
    )
    .await;
    assert_eq!(
        result,
        Err(RetryError::NonRetryable {
            attempt: 1,
            error: AgentError::permanent("bad city")
        })
    );
    assert!(gaps.is_empty());
    assert_eq!(start.elapsed(), Duration::ZERO);
}

#[tokio::test(start_paused = true)]
async fn an_error_kind_listed_as_non_retryable_stops_at_once() {
    let mut policy = policy(Jitter::None);
    policy.non_retryable = vec!["timeout".into()];
    let (result, _) = run(
        &policy,
        1,
        10,
        AgentError::TimedOut {
            after: Duration::from_secs(30),
        },
    )
    .await;
    assert_eq!(result.map_err(|e| e.attempts()), Err(1));
}

#[tokio::test(start_paused = true)]
async fn retries_stop_after_the_maximum_attempts() {
    let (result, gaps) = run(&policy(Jitter::None), 1, 99, AgentError::transient("503")).await;
    assert!(matches!(
        result,
        Err(RetryError::Exhausted { attempts: 5, .. })
    ));
    assert_eq!(gaps.len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_hint_is_a_floor_on_the_wait() {
    let error = AgentError::Transient {
        message: "429".into(),
        retry_after: Some(Duration::from_secs(3)),
    };
    let (result, gaps) = run(&policy(Jitter::None), 1, 1, error).await;
    assert_eq!(result, Ok(2));
    assert_eq!(gaps, vec![Duration::from_secs(3)]);
}

#[tokio::test(start_paused = true)]
async fn a_slow_call_times_out_on_tokio_time() {
    let start = Instant::now();
    let result: Result<(), _> = with_timeout(Duration::from_secs(30), async {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        Ok(())
    })
    .await;
    assert_eq!(
        result,
        Err(AgentError::TimedOut {
            after: Duration::from_secs(30)
        })
    );
    assert_eq!(start.elapsed(), Duration::from_secs(30));
}

#[tokio::test]
async fn a_panicking_call_becomes_an_error() {
    let result: Result<(), _> = isolate(async { panic!("agent bug") }).await;
    assert_eq!(
        result,
        Err(AgentError::Panicked {
            message: "agent bug".into()
        })
    );
}

fn breaker(clock: &ManualClock) -> CircuitBreaker {
    CircuitBreaker::new(
        BreakerConfig {
            failure_threshold: 3,
            cool_down: Duration::from_secs(30),
        },
        Arc::new(clock.clone()),
    )
}

#[test]
fn a_breaker_opens_after_consecutive_failures_and_probes_after_the_cool_down() {
    let clock = ManualClock::at_epoch();
    let b = breaker(&clock);
    b.record_failure();
    b.record_failure();
    b.record_success();
    b.record_failure();
    b.record_failure();
    assert_eq!(
        b.state(),
        BreakerState::Closed,
        "a success resets the count"
    );
    b.record_failure();
    assert_eq!(b.state(), BreakerState::Open);
    assert_eq!(
        b.acquire().map_err(|e| e.retry_after),
        Err(Duration::from_secs(30))
    );
    clock.advance(Duration::from_secs(30));
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert!(b.acquire().is_ok(), "the probe goes through");
    assert!(b.acquire().is_err(), "only one probe at a time");
    b.record_failure();
    assert_eq!(b.state(), BreakerState::Open, "a failed probe reopens");
    clock.advance(Duration::from_secs(30));
    assert!(b.acquire().is_ok());
    b.record_success();
    assert_eq!(b.state(), BreakerState::Closed, "a good probe closes");
    assert_eq!(b.snapshot().trips, 2);
}

#[test]
fn a_bursts_fast_failures_do_not_open_the_breaker_while_most_of_its_calls_are_running() {
    let clock = ManualClock::at_epoch();
    let b = breaker(&clock);
    // Ten calls at once; four fail at once while six are still running.
    for _ in 0..10 {
        assert!(b.acquire().is_ok());
    }
    for _ in 0..4 {
        b.record_failure();
    }
    assert_eq!(b.state(), BreakerState::Closed, "4 failures, 6 in flight");
    b.record_success();
    // Every call of a burst failing does open it, once the failures
    // outnumber the calls still out.
    for _ in 0..5 {
        b.record_failure();
    }
    assert_eq!(b.state(), BreakerState::Open, "5 failures, 0 in flight");
}

#[test]
fn a_run_of_failures_amid_mostly_successes_does_not_open_the_breaker() {
    let clock = ManualClock::at_epoch();
    let b = CircuitBreaker::new(
        BreakerConfig {
            failure_threshold: 10,
            cool_down: Duration::from_secs(30),
        },
        Arc::new(clock.clone()),
    );
    // An agent failing 30% of the time: three calls in ten fail...
    for n in 0..200 {
        if n % 10 < 3 {
            b.record_failure();
        } else {
            b.record_success();
        }
    }
    // ...and by chance ten in a row.
    for _ in 0..10 {
        b.record_failure();
    }
    assert_eq!(
        b.state(),
        BreakerState::Closed,
        "37 failures in the last 100 calls are not an agent that is down"
    );
    // One that goes down for good opens its circuit once failures are
    // half of the latest calls (each new failure pushes out an old
    // outcome, a failure three times in ten: about 19 more).
    let mut failures = 10;
    while b.state() == BreakerState::Closed {
        b.record_failure();
        failures += 1;
        assert!(
            failures <= 40,
            "still closed after {failures} failures in a row"
        );
    }
}

#[test]
fn a_call_abandoned_before_it_answers_frees_the_half_open_probe() {
    let clock = ManualClock::at_epoch();
    let b = breaker(&clock);
    for _ in 0..3 {
        b.record_failure();
    }
    clock.advance(Duration::from_secs(30));
    assert!(b.acquire().is_ok(), "the probe goes through");
    b.abandon();
    assert!(b.acquire().is_ok(), "a cancelled probe is replaced");
}

#[tokio::test]
async fn calls_through_an_open_breaker_fail_fast_and_permanent_errors_do_not_count() {
    let clock = ManualClock::at_epoch();
    let breakers = Breakers::new(
        BreakerConfig {
            failure_threshold: 2,
            cool_down: Duration::from_secs(10),
        },
        Arc::new(clock.clone()),
    );
    let transport = breakers.for_agent("transport");
    for _ in 0..3 {
        let _ = through_breaker(&transport, "transport", async {
            Err::<(), _>(AgentError::permanent("no such city"))
        })
        .await;
    }
    assert_eq!(transport.state(), BreakerState::Closed);
    // The agent answered those (healthy calls): the circuit opens when
    // half of the latest calls failed, at the third transient failure.
    for _ in 0..3 {
        let _ = through_breaker(&transport, "transport", async {
            Err::<(), _>(AgentError::transient("503"))
        })
        .await;
    }
    let mut ran = false;
    let result = through_breaker(&transport, "transport", async {
        ran = true;
        Ok(())
    })
    .await;
    assert!(!ran, "an open circuit does not call the agent");
    assert!(matches!(result, Err(AgentError::CircuitOpen { .. })));
    let snapshot = breakers.snapshot();
    assert_eq!(snapshot["transport"].state, BreakerState::Open);
    assert_eq!(breakers.for_agent("dining").state(), BreakerState::Closed);
}

#[test]
fn injected_fault_rates_are_roughly_honoured_with_a_fixed_seed() {
    let injector = FaultInjector::new(2026).with(
        "transport",
        FaultConfig {
            error_rate: 0.2,
            timeout_rate: 0.1,
            panic_rate: 0.05,
            added_latency: Duration::ZERO,
        },
    );
    let n = 20_000;
    let mut counts: HashMap<Fault, u32> = HashMap::new();
    for _ in 0..n {
        *counts.entry(injector.roll("transport")).or_default() += 1;
    }
    let share = |f: Fault| f64::from(counts.get(&f).copied().unwrap_or(0)) / f64::from(n);
    assert!((share(Fault::Error) - 0.2).abs() < 0.015, "{counts:?}");
    assert!((share(Fault::Timeout) - 0.1).abs() < 0.015, "{counts:?}");
    assert!((share(Fault::Panic) - 0.05).abs() < 0.01, "{counts:?}");
    assert!((0..1000).all(|_| injector.roll("dining") == Fault::None));
    let again = FaultInjector::new(2026).with("transport", injector.config("transport"));
    let replay = FaultInjector::new(2026).with("transport", injector.config("transport"));
    let a: Vec<Fault> = (0..50).map(|_| again.roll("transport")).collect();
    let b: Vec<Fault> = (0..50).map(|_| replay.roll("transport")).collect();
    assert_eq!(a, b, "the same seed replays the same faults");
}

#[tokio::test(start_paused = true)]
async fn injected_faults_surface_as_agent_errors_through_the_guards() {
    let always = |config: FaultConfig| Arc::new(FaultInjector::new(1).with("activity", config));
    let call = |injector: Arc<FaultInjector>| async move {
        let fut = injector.run("activity", async { Ok::<_, AgentError>(42) });
        isolate(with_timeout(Duration::from_secs(5), fut)).await
    };
    let start = Instant::now();
    let slow = always(FaultConfig {
        added_latency: Duration::from_millis(700),
        ..FaultConfig::default()
    });
    assert_eq!(call(slow).await, Ok(42));
    assert_eq!(start.elapsed(), Duration::from_millis(700));
    let erring = always(FaultConfig {
        error_rate: 1.0,
        ..FaultConfig::default()
    });
    assert!(matches!(
        call(erring).await,
        Err(AgentError::Transient { .. })
    ));
    let hanging = always(FaultConfig {
        timeout_rate: 1.0,
        ..FaultConfig::default()
    });
    assert!(matches!(
        call(hanging).await,
        Err(AgentError::TimedOut { .. })
    ));
    let panicking = always(FaultConfig {
        panic_rate: 1.0,
        ..FaultConfig::default()
    });
    assert!(matches!(
        call(panicking).await,
        Err(AgentError::Panicked { .. })
    ));
}

mod guarded {
    use std::sync::atomic::{AtomicU32, Ordering};

    use wayfare_engine::clock::TokioClock;
    use wayfare_engine::resilience::CallGuard;

    use super::*;

    fn guard(threshold: u32, cool_down: Duration, attempts: u32) -> CallGuard {
        CallGuard::new(
            RetryPolicy {
                maximum_attempts: attempts,
                ..policy(Jitter::None)
            },
            Duration::from_secs(5),
            Breakers::new(
                BreakerConfig {
                    failure_threshold: threshold,
                    cool_down,
                },
                Arc::new(TokioClock::new()),
            ),
            1,
        )
    }

    /// An agent that fails its first `failures` calls, counting every call.
    fn flaky(
        failures: u32,
        calls: &Arc<AtomicU32>,
    ) -> impl FnMut(
        u32,
    ) -> std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<&'static str, AgentError>> + Send>,
    > {
        let calls = calls.clone();
        move |_| {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move {
                if n <= failures {
                    Err(AgentError::transient("503"))
                } else {
                    Ok("hotels")
                }
            })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_flaky_agent_succeeds_after_backed_off_retries() {
        let calls = Arc::new(AtomicU32::new(0));
        let start = Instant::now();
        let result = guard(10, Duration::from_secs(60), 5)
            .call("accommodation", flaky(2, &calls))
            .await;
        assert_eq!(result, Ok("hotels"));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(start.elapsed(), Duration::from_secs(1 + 2));
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_breaker_holds_retries_back_until_its_cool_down() {
        let calls = Arc::new(AtomicU32::new(0));
        let guard = guard(2, Duration::from_secs(60), 10);
        let start = Instant::now();
        let result = guard.call("transport", flaky(2, &calls)).await;
        assert_eq!(result, Ok("hotels"));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "the open circuit was not called"
        );
        // Fail at 0 s, fail (circuit opens until 61 s) at 1 s, refused at
        // 3 s, and the probe at 61 s succeeds.
        assert_eq!(start.elapsed(), Duration::from_secs(61));
        assert_eq!(
            guard.breakers().for_agent("transport").state(),
            BreakerState::Closed
        );
        assert_eq!(guard.breakers().snapshot()["transport"].trips, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_agent_times_out_on_every_attempt_until_the_policy_gives_up() {
        let start = Instant::now();
        let result: Result<(), _> = guard(10, Duration::from_secs(60), 2)
            .call("dining", |_| std::future::pending())
            .await;
        assert_eq!(
            result,
            Err(RetryError::Exhausted {
                attempts: 2,
                last: AgentError::TimedOut {
                    after: Duration::from_secs(5)
                }
            })
        );
        assert_eq!(start.elapsed(), Duration::from_secs(5 + 1 + 5));
    }

    #[tokio::test(start_paused = true)]
    async fn injected_faults_are_absorbed_by_the_guards() {
        let faults = Arc::new(FaultInjector::new(3).with(
            "tips",
            FaultConfig {
                error_rate: 0.3,
                timeout_rate: 0.2,
                panic_rate: 0.1,
                added_latency: Duration::from_millis(50),
            },
        ));
        let guard = guard(1000, Duration::from_secs(1), 20).with_faults(faults);
        for _ in 0..20 {
            let result = guard
                .call("tips", |_| async { Ok::<_, AgentError>(7) })
                .await;
            assert_eq!(result, Ok(7));
        }
    }
}
