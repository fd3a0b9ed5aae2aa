//! The virtual clock.
//!
//! Nothing in the core reads the system time: the host passes its wall-clock reading (natively
//! `SystemTime`, in the page `Date.now()`) and the clock turns it into the sandbox's time, which
//! can be paused, resumed and advanced. Advancing is exactly like waiting: whatever is due by
//! the new time (expiring keys, TTL indexes) happens when the engines next see it.

/// Milliseconds since the Unix epoch, as the engines see them.
pub type Millis = u64;

/// Speeds the page offers; anything in between is allowed, within these bounds, so that a
/// stored speed can never overflow the arithmetic below.
pub const MIN_SPEED_MILLI: u32 = 1;
pub const MAX_SPEED_MILLI: u32 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    /// Host reading at which the running clock was last re-anchored.
    base_host: Millis,
    /// Sandbox time at `base_host`.
    base_virtual: Millis,
    /// Sandbox milliseconds per thousand host milliseconds (1000 = real time). An integer
    /// ratio keeps the clock exact and `Eq`: 0.5x, 2x and 10x are all whole numbers here.
    speed_milli: u32,
    /// The virtual time frozen at, while paused.
    paused_at: Option<Millis>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// A running clock that follows the host exactly.
    pub fn new() -> Self {
        Clock {
            base_host: 0,
            base_virtual: 0,
            speed_milli: 1000,
            paused_at: None,
        }
    }

    /// The sandbox time for a given host reading. A host reading before the anchor (the
    /// system clock stepped back) runs the sandbox back by as much, scaled, as with no speed.
    pub fn now(&self, host_ms: Millis) -> Millis {
        if let Some(t) = self.paused_at {
            return t;
        }
        let elapsed = i128::from(host_ms) - i128::from(self.base_host);
        // Normal speed, the usual case, skips a 128-bit division on every command.
        let scaled = if self.speed_milli == 1000 {
            elapsed
        } else {
            elapsed * i128::from(self.speed_milli) / 1000
        };
        let t = i128::from(self.base_virtual) + scaled;
        t.clamp(0, i128::from(Millis::MAX)) as Millis
    }

    /// The clock's state as a snapshot keeps it: (host anchor, sandbox time at the anchor,
    /// speed in thousandths, the paused time). Restored with `from_parts`, the sandbox time
    /// goes on as the same function of the host clock, so time that passed while the page was
    /// closed has passed in the sandbox too (unless it was paused).
    pub fn parts(&self) -> (Millis, Millis, u32, Option<Millis>) {
        (
            self.base_host,
            self.base_virtual,
            self.speed_milli,
            self.paused_at,
        )
    }

    pub fn from_parts(
        base_host: Millis,
        base_virtual: Millis,
        speed_milli: u32,
        paused_at: Option<Millis>,
    ) -> Clock {
        Clock {
            base_host,
            base_virtual,
            speed_milli: speed_milli.clamp(MIN_SPEED_MILLI, MAX_SPEED_MILLI),
            paused_at,
        }
    }

    pub fn is_paused(&self) -> bool {
        self.paused_at.is_some()
    }

    pub fn pause(&mut self, host_ms: Millis) {
        if self.paused_at.is_none() {
            self.paused_at = Some(self.now(host_ms));
        }
    }

    pub fn resume(&mut self, host_ms: Millis) {
        if let Some(t) = self.paused_at.take() {
            self.base_virtual = t;
            self.base_host = host_ms;
        }
    }

    /// Moves sandbox time forward (or back, for negative `delta_ms`).
    pub fn advance(&mut self, delta_ms: i64) {
        match self.paused_at.as_mut() {
            Some(t) => *t = add_signed(*t, delta_ms),
            None => self.base_virtual = add_signed(self.base_virtual, delta_ms),
        }
    }

    /// Sandbox milliseconds per second of host time, times one thousand.
    pub fn speed_milli(&self) -> u32 {
        self.speed_milli
    }

    /// Changes how fast sandbox time runs from `host_ms` on, without a jump: the time shown
    /// at the switch is kept. Out-of-range speeds are clamped.
    pub fn set_speed(&mut self, speed_milli: u32, host_ms: Millis) {
        if self.paused_at.is_none() {
            self.base_virtual = self.now(host_ms);
            self.base_host = host_ms;
        }
        self.speed_milli = speed_milli.clamp(MIN_SPEED_MILLI, MAX_SPEED_MILLI);
    }
}

fn add_signed(base: Millis, delta: i64) -> Millis {
    if delta >= 0 {
        base.saturating_add(delta as u64)
    } else {
        base.saturating_sub(delta.unsigned_abs())
    }
}

/// Parses a duration such as `10s`, `+1.5m`, `250ms`, `2h`, `1d` or a bare number of seconds
/// into milliseconds. Used by the sandbox's `.time +10s` line in both consoles.
pub fn parse_duration(text: &str) -> Option<i64> {
    let t = text.trim();
    let (sign, t) = match t.strip_prefix('-') {
        Some(rest) => (-1.0, rest),
        None => (1.0, t.strip_prefix('+').unwrap_or(t)),
    };
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().ok()?;
    let scale = match unit {
        "" | "s" => 1000.0,
        "ms" => 1.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    let ms = sign * value * scale;
    if ms.is_finite() && ms.abs() < 1e17 {
        Some(ms.round() as i64)
    } else {
        None
    }
}

/// Handles the sandbox-only `.time` line both consoles accept (a real server would reject it,
/// and no Redis command or mongosh statement starts with a dot). `None` if `line` is not one.
pub fn sandbox_line(clock: &mut Clock, line: &str, host_ms: Millis) -> Option<String> {
    // Every command line pays for this check, and an ASCII letter or digit (never white
    // space) in front settles it before any Unicode trimming.
    if line
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphanumeric)
    {
        return None;
    }
    let rest = line.trim().strip_prefix(".time")?;
    if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let arg = rest.trim();
    match arg {
        "" => {}
        "pause" => clock.pause(host_ms),
        "resume" => clock.resume(host_ms),
        _ if arg.starts_with("speed") => match parse_speed(arg["speed".len()..].trim()) {
            Some(milli) => clock.set_speed(milli, host_ms),
            None => {
                return Some(format!(
                    "(sandbox) unknown .time speed '{}': use .time speed 0.5, 1, 2 or 10\n",
                    arg["speed".len()..].trim()
                ))
            }
        },
        _ => match parse_duration(arg) {
            Some(ms) => clock.advance(ms),
            None => {
                return Some(format!(
                    "(sandbox) unknown .time argument '{arg}': use .time, .time +10s, .time pause, .time resume or .time speed 2\n"
                ))
            }
        },
    }
    let state = if clock.is_paused() {
        "paused".to_string()
    } else if clock.speed_milli() == 1000 {
        "running".to_string()
    } else {
        format!("running at {}x", format_speed(clock.speed_milli()))
    };
    Some(format!(
        "(sandbox) virtual time {} ({state})\n",
        format_iso8601(clock.now(host_ms))
    ))
}

/// A speed such as `2`, `0.5x` or `10×` in thousandths; `None` outside the clock's range.
pub fn parse_speed(text: &str) -> Option<u32> {
    let t = text
        .trim()
        .trim_end_matches(['x', 'X', '\u{d7}'])
        .trim_end();
    let value: f64 = t.parse().ok()?;
    let milli = (value * 1000.0).round();
    if milli.is_finite()
        && milli >= f64::from(MIN_SPEED_MILLI)
        && milli <= f64::from(MAX_SPEED_MILLI)
    {
        Some(milli as u32)
    } else {
        None
    }
}

/// `0.5`, `2`, `10` for a speed in thousandths.
pub fn format_speed(milli: u32) -> String {
    let whole = milli / 1000;
    let frac = milli % 1000;
    if frac == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:03}")
            .trim_end_matches('0')
            .to_string()
    }
}

/// `2026-11-26T05:40:00.000Z` for a millisecond timestamp (proleptic Gregorian, UTC).
pub fn format_iso8601(ms: Millis) -> String {
    let secs = (ms / 1000) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

/// Howard Hinnant's days-to-civil algorithm: days since 1970-01-01 to (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_clock_follows_host_plus_advances() {
        let mut c = Clock::new();
        assert_eq!(c.now(1_000), 1_000);
        c.advance(10_000);
        assert_eq!(c.now(1_000), 11_000);
        assert_eq!(c.now(2_000), 12_000);
    }

    #[test]
    fn paused_clock_stands_still_and_resumes_where_it_stopped() {
        let mut c = Clock::new();
        c.pause(5_000);
        assert_eq!(c.now(9_000), 5_000);
        c.advance(1_000);
        assert_eq!(c.now(9_999), 6_000);
        c.resume(10_000);
        assert_eq!(c.now(10_000), 6_000);
        assert_eq!(c.now(10_500), 6_500);
    }

    #[test]
    fn speed_scales_elapsed_host_time_without_jumps() {
        // (speed, host ms after the switch at 10 000, expected sandbox time)
        for (milli, later, expected) in [
            (1000, 11_000, 11_000),
            (2000, 11_000, 12_000),
            (500, 12_000, 11_000),
            (10_000, 10_100, 11_000),
        ] {
            let mut c = Clock::new();
            c.set_speed(milli, 10_000);
            assert_eq!(c.now(10_000), 10_000, "no jump at the switch ({milli})");
            assert_eq!(c.now(later), expected, "{milli}");
        }
    }

    #[test]
    fn speed_survives_pause_advance_and_resume() {
        let mut c = Clock::new();
        c.set_speed(2000, 0);
        assert_eq!(c.now(1_000), 2_000);
        c.pause(1_000);
        c.set_speed(10_000, 5_000);
        assert_eq!(
            c.now(9_000),
            2_000,
            "a paused clock stays put whatever its speed"
        );
        c.advance(1_000);
        c.resume(9_000);
        assert_eq!(c.now(9_000), 3_000);
        assert_eq!(c.now(9_100), 4_000);
        c.set_speed(0, 9_100);
        assert_eq!(
            c.speed_milli(),
            MIN_SPEED_MILLI,
            "clamped, never a stopped clock"
        );
        c.set_speed(u32::MAX, 9_100);
        assert_eq!(c.speed_milli(), MAX_SPEED_MILLI);
        assert_eq!(
            c.now(u64::MAX),
            u64::MAX,
            "saturates instead of overflowing"
        );
        assert_eq!(
            c.now(0),
            0,
            "a host clock stepped far back saturates at zero"
        );
    }

    #[test]
    fn speeds_parse_and_print() {
        for (text, milli) in [
            ("2", Some(2000)),
            ("0.5x", Some(500)),
            ("10\u{d7}", Some(10_000)),
            ("1X", Some(1000)),
            ("0", None),
            ("-1", None),
            ("fast", None),
            ("1e9", None),
        ] {
            assert_eq!(parse_speed(text), milli, "{text}");
        }
        assert_eq!(format_speed(500), "0.5");
        assert_eq!(format_speed(2000), "2");
        assert_eq!(format_speed(1250), "1.25");
    }

    #[test]
    fn durations() {
        for (text, ms) in [
            ("10s", Some(10_000)),
            ("+1m", Some(60_000)),
            ("250ms", Some(250)),
            ("1.5h", Some(5_400_000)),
            ("2", Some(2_000)),
            ("-3s", Some(-3_000)),
            ("1d", Some(86_400_000)),
            ("abc", None),
            ("10x", None),
            ("", None),
        ] {
            assert_eq!(parse_duration(text), ms, "{text}");
        }
    }

    #[test]
    fn iso_dates() {
        assert_eq!(format_iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_iso8601(1_795_671_600_123),
            "2026-11-26T05:40:00.123Z"
        );
        assert_eq!(format_iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn sandbox_time_lines() {
        let mut c = Clock::new();
        assert_eq!(sandbox_line(&mut c, "GET a", 0), None);
        assert_eq!(sandbox_line(&mut c, ".timex", 0), None);
        let text = sandbox_line(&mut c, ".time +10s", 0).unwrap();
        assert_eq!(
            text,
            "(sandbox) virtual time 1970-01-01T00:00:10.000Z (running)\n"
        );
        assert!(sandbox_line(&mut c, " .time pause", 0)
            .unwrap()
            .ends_with("(paused)\n"));
        assert!(sandbox_line(&mut c, ".time soon", 0)
            .unwrap()
            .contains("unknown .time argument"));
        assert!(sandbox_line(&mut c, ".time resume", 0)
            .unwrap()
            .ends_with("(running)\n"));
        assert!(sandbox_line(&mut c, ".time speed 2x", 0)
            .unwrap()
            .ends_with("(running at 2x)\n"));
        assert!(sandbox_line(&mut c, ".time speed 0", 0)
            .unwrap()
            .contains("unknown .time speed"));
    }
}
