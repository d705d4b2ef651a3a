//! The bound on the whole run: a watchdog thread that ends the process when `--timeout` plus
//! a start-up allowance has passed — whatever is running then (a decoder, a regex compile, a
//! PKCS#12 key derivation). Time a person spends at a password prompt does not count.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When the run must have ended, and whether the clock is stopped (a prompt is open).
struct State {
    deadline: Instant,
    paused_since: Option<Instant>,
    /// When the run started, moved later by the time spent at prompts.
    origin: Instant,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Start the watchdog: after `limit`, `on_expire` runs on the watchdog thread (it should end
/// the process). Once per process; a second call is ignored.
pub fn start(limit: Duration, on_expire: impl FnOnce() + Send + 'static) {
    {
        let mut s = STATE.lock().unwrap_or_else(|e| e.into_inner());
        if s.is_some() {
            return;
        }
        let now = Instant::now();
        *s = Some(State {
            deadline: now + limit,
            paused_since: None,
            origin: now,
        });
    }
    let _ = std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || loop {
            let wait = {
                let s = STATE.lock().unwrap_or_else(|e| e.into_inner());
                match s.as_ref() {
                    Some(st) if st.paused_since.is_some() => Some(Duration::from_millis(100)),
                    Some(st) => st.deadline.checked_duration_since(Instant::now()),
                    None => return,
                }
            };
            match wait {
                Some(w) if !w.is_zero() => std::thread::sleep(w),
                _ => {
                    on_expire();
                    return;
                }
            }
        });
}

/// Run `f` (a prompt waiting for a person) with the watchdog's clock stopped.
pub fn paused<T>(f: impl FnOnce() -> T) -> T {
    let begin = Instant::now();
    set_paused(Some(begin));
    let out = f();
    let mut s = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(st) = s.as_mut() {
        st.deadline += begin.elapsed();
        st.origin += begin.elapsed();
        st.paused_since = None;
    }
    out
}

/// When the run started (the watchdog's start), moved later by the time spent at prompts:
/// where `--timeout` counts from, start-up and local work included. `None` without a watchdog.
pub fn origin() -> Option<Instant> {
    let s = STATE.lock().unwrap_or_else(|e| e.into_inner());
    s.as_ref().map(|st| st.origin)
}

fn set_paused(at: Option<Instant>) {
    let mut s = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(st) = s.as_mut() {
        st.paused_since = at;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    /// The only test that starts the process's watchdog.
    #[test]
    fn fires_after_the_limit_and_not_during_a_prompt() {
        let fired = Arc::new(AtomicBool::new(false));
        let f = fired.clone();
        start(Duration::from_millis(300), move || {
            f.store(true, Ordering::SeqCst)
        });
        let origin_before = origin().unwrap();
        paused(|| std::thread::sleep(Duration::from_millis(600)));
        assert!(!fired.load(Ordering::SeqCst), "fired while paused");
        assert!(
            origin().unwrap() >= origin_before + Duration::from_millis(600),
            "the run's origin moves by the time at the prompt"
        );
        std::thread::sleep(Duration::from_millis(1200));
        assert!(fired.load(Ordering::SeqCst), "did not fire");
    }
}
