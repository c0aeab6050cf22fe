//! Which etcd release a configuration is read for: the 3.4 and 3.5 lines differ in their flags
//! and config-file keys, and patch releases of each line added some (`--tls-min-version` in
//! 3.4.25 and 3.5.8, for instance). An unknown version accepts what either line accepts.

/// An etcd release: `3.<minor>.<patch>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version {
    /// 4 for 3.4.x, 5 for 3.5.x; other values are lines this module does not model.
    pub(crate) minor: u32,
    /// The patch release.
    pub(crate) patch: u32,
}

impl Version {
    /// Reads `3.5.16`, `v3.5.16`, `3.5.16-0` (a kubeadm image tag) or `3.5.16+git`; `None` for
    /// anything else, and for major versions other than 3.
    pub(crate) fn parse(text: &str) -> Option<Version> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let mut parts = text.splitn(3, '.');
        let major: u32 = parts.next()?.parse().ok()?;
        let minor: u32 = parts.next()?.parse().ok()?;
        let rest = parts.next()?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let patch: u32 = digits.parse().ok()?;
        if major != 3 {
            return None;
        }
        Some(Version { minor, patch })
    }

    /// Whether this is a line whose flags and keys this module knows (3.4 or 3.5).
    pub(crate) fn modelled(self) -> bool {
        matches!(self.minor, 4 | 5)
    }

    /// Whether a setting introduced in 3.4.`since_34` / 3.5.`since_35` (`None`: absent from that
    /// line) exists in this release. Lines other than 3.4 and 3.5 accept everything.
    pub(crate) fn has(self, since_34: Option<u32>, since_35: Option<u32>) -> bool {
        match self.minor {
            4 => since_34.is_some_and(|s| self.patch >= s),
            5 => since_35.is_some_and(|s| self.patch >= s),
            _ => true,
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "3.{}.{}", self.minor, self.patch)
    }
}

/// Whether a setting exists in `version` (`None`: unknown, so it does).
pub(crate) fn has(version: Option<Version>, since_34: Option<u32>, since_35: Option<u32>) -> bool {
    version.is_none_or(|v| v.has(since_34, since_35))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_release_names_and_image_tags() {
        assert_eq!(
            Version::parse("3.5.16"),
            Some(Version {
                minor: 5,
                patch: 16
            })
        );
        assert_eq!(
            Version::parse("v3.4.23"),
            Some(Version {
                minor: 4,
                patch: 23
            })
        );
        assert_eq!(
            Version::parse("3.5.16-0"),
            Some(Version {
                minor: 5,
                patch: 16
            })
        );
        assert_eq!(Version::parse("2.3.8"), None);
        assert_eq!(Version::parse("latest"), None);
        assert_eq!(Version::parse("3.5"), None);
    }

    #[test]
    fn since_rules() {
        let v3425 = Version::parse("3.4.25").unwrap();
        let v3424 = Version::parse("3.4.24").unwrap();
        let v357 = Version::parse("3.5.7").unwrap();
        assert!(v3425.has(Some(25), Some(8)));
        assert!(!v3424.has(Some(25), Some(8)));
        assert!(!v357.has(Some(25), Some(8)));
        assert!(!v3425.has(None, Some(0)));
        assert!(has(None, None, Some(0)));
        assert!(Version::parse("3.6.0").unwrap().has(None, None));
    }
}
