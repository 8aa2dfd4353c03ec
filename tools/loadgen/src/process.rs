//! What the load costs the server process (Linux `/proc`): the CPU time it
//! used (user + system, all threads) and its peak resident set. Read before
//! and after a run, the CPU time divided by the trips the run finished is
//! the orchestration issue's figure of merit: server CPU per trip.

use std::time::Duration;

/// `utime + stime` of `/proc/<pid>/stat`: the CPU time the process has
/// used so far, over all its threads. `None` when the process is gone or
/// this is not Linux.
pub fn cpu_time(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let ticks = cpu_ticks(&stat)?;
    Some(Duration::from_secs_f64(
        ticks as f64 / clock_ticks_per_second() as f64,
    ))
}

/// `utime + stime`, in clock ticks, from the text of `/proc/<pid>/stat`.
/// The command name (field 2) is in parentheses and may hold spaces and
/// parentheses itself, so fields are counted from the last `)`: after it
/// come field 3 (state) onwards, and utime and stime are fields 14 and 15.
pub fn cpu_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace().skip(14 - 3);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The unit of `/proc/<pid>/stat`'s times: `sysconf(_SC_CLK_TCK)` (100 on
/// every common Linux, which is also the answer when sysconf has none).
pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf only reads a constant of the C library; it takes no
    // pointer and has no precondition.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|t| *t > 0).unwrap_or(100)
}

/// `VmHWM` of `/proc/<pid>/status`: the peak resident set size, in KiB.
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utime_and_stime_are_read_after_a_command_name_with_spaces_and_parens() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
        // majflt cmajflt utime stime cutime cstime ...
        let stat =
            "4242 (wayfare (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 1234 567 8 9 20 0 5 0";
        assert_eq!(cpu_ticks(stat), Some(1234 + 567));
        assert_eq!(cpu_ticks("4242 (cut short) S 1 2"), None);
        assert_eq!(cpu_ticks("no parenthesis at all"), None);
    }

    #[test]
    fn this_process_has_used_some_cpu_and_memory() {
        let pid = std::process::id();
        // Burn a little CPU so that at least one tick has passed.
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < Duration::from_millis(30) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
        assert!(cpu_time(pid).is_some_and(|t| t > Duration::ZERO));
        assert!(peak_rss_kib(pid).is_some_and(|k| k > 0));
        assert!(clock_ticks_per_second() > 0);
        assert_eq!(cpu_time(u32::MAX), None, "no such process");
    }
}
