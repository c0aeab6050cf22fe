//! When a certificate is due for rotation: it expires within a window (`30d`), or less than a
//! fraction of its lifetime is left (`33%`, as kubelet and cert-manager renew at two thirds).

use pki_core::Certificate;
use time::{Duration, OffsetDateTime};

/// When a certificate is due.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Due {
    /// It expires within this window.
    Within(Duration),
    /// Less than this fraction (0 to 1) of its lifetime is left.
    LifetimeLeft(f64),
}

impl Due {
    /// Parses `30d`, `12h`, `90m` (a window) or `33%` (a fraction of the lifetime).
    pub fn parse(text: &str) -> Result<Due, String> {
        let text = text.trim();
        if let Some(p) = text.strip_suffix('%') {
            let p: f64 = p
                .trim()
                .parse()
                .map_err(|_| format!("{text:?}: a percentage is a number followed by %"))?;
            if !(0.0..=100.0).contains(&p) {
                return Err(format!("{text:?}: a percentage is between 0% and 100%"));
            }
            return Ok(Due::LifetimeLeft(p / 100.0));
        }
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or_else(|| format!("{text:?}: give a unit (d, h, m) or %"))?;
        let (n, unit) = text.split_at(split);
        let n: i64 = n
            .parse()
            .map_err(|_| format!("{text:?}: not a number of days, hours or minutes"))?;
        let d = match unit {
            "d" => Duration::days(n),
            "h" => Duration::hours(n),
            "m" => Duration::minutes(n),
            _ => return Err(format!("{text:?}: the unit is d, h, m or %")),
        };
        Ok(Due::Within(d))
    }

    /// Whether `cert` is due at `at`.
    pub fn is_due(&self, cert: &Certificate, at: OffsetDateTime) -> bool {
        let left = cert.not_after() - at;
        match *self {
            Due::Within(window) => left <= window,
            Due::LifetimeLeft(fraction) => {
                let lifetime = cert.not_after() - cert.not_before();
                left.as_seconds_f64() <= lifetime.as_seconds_f64() * fraction
            }
        }
    }
}

impl std::fmt::Display for Due {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Due::Within(d) => write!(f, "within {}", pki_core::short_duration(*d)),
            Due::LifetimeLeft(p) => {
                write!(f, "with less than {:.0}% of its lifetime left", p * 100.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_fractions() {
        assert_eq!(Due::parse("30d").unwrap(), Due::Within(Duration::days(30)));
        assert_eq!(Due::parse("12h").unwrap(), Due::Within(Duration::hours(12)));
        assert_eq!(Due::parse("33%").unwrap(), Due::LifetimeLeft(0.33));
        for bad in ["", "30", "d", "30w", "-1d", "101%", "x%"] {
            assert!(Due::parse(bad).is_err(), "{bad}");
        }
    }
}
