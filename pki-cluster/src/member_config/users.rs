//! Users and groups as the files say, read through a root directory: `/etc/passwd`
//! (`name:password:uid:gid:gecos:home:shell`) and `/etc/group` (`name:password:gid:members`),
//! passwd(5) and group(5). No NSS, LDAP or systemd-userdb: only the files.

use std::path::Path;

use super::read::read_text;

/// A `/etc/passwd` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct User {
    /// The login name.
    pub(crate) name: String,
    /// The UID.
    pub(crate) uid: u32,
    /// The primary GID.
    pub(crate) gid: u32,
    /// The home directory.
    pub(crate) home: String,
}

/// The account database of a root directory.
#[derive(Debug, Clone, Default)]
pub(crate) struct Accounts {
    users: Vec<User>,
    /// `(name, gid, members)`.
    groups: Vec<(String, u32, Vec<String>)>,
}

impl Accounts {
    /// Reads `<root>/etc/passwd` and `<root>/etc/group`; a file that cannot be read counts as
    /// empty.
    pub(crate) fn read(root: &Path) -> Accounts {
        let passwd = read_text(&root.join("etc/passwd")).unwrap_or_default();
        let group = read_text(&root.join("etc/group")).unwrap_or_default();
        Accounts::parse(&passwd, &group)
    }

    /// From the files' text.
    pub(crate) fn parse(passwd: &str, group: &str) -> Accounts {
        let users = passwd
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with('+') && !l.starts_with('-'))
            .filter_map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                if f.len() < 7 || f[0].is_empty() {
                    return None;
                }
                Some(User {
                    name: f[0].to_string(),
                    uid: f[2].parse().ok()?,
                    gid: f[3].parse().ok()?,
                    home: f[5].to_string(),
                })
            })
            .collect();
        let groups = group
            .lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with('+') && !l.starts_with('-'))
            .filter_map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                if f.len() < 4 || f[0].is_empty() {
                    return None;
                }
                let members = f[3]
                    .split(',')
                    .map(str::trim)
                    .filter(|m| !m.is_empty())
                    .map(str::to_string)
                    .collect();
                Some((f[0].to_string(), f[2].parse().ok()?, members))
            })
            .collect();
        Accounts { users, groups }
    }

    /// A user by name, or by number (a numeric name is a UID, as systemd's `User=` reads it).
    pub(crate) fn user(&self, name_or_uid: &str) -> Option<User> {
        if let Some(u) = self.users.iter().find(|u| u.name == name_or_uid) {
            return Some(u.clone());
        }
        let uid: u32 = name_or_uid.parse().ok()?;
        self.users.iter().find(|u| u.uid == uid).cloned()
    }

    /// The name of a UID.
    pub(crate) fn user_name(&self, uid: u32) -> Option<String> {
        self.users
            .iter()
            .find(|u| u.uid == uid)
            .map(|u| u.name.clone())
    }

    /// A group's GID, by name or number.
    pub(crate) fn group(&self, name_or_gid: &str) -> Option<u32> {
        if let Some((_, gid, _)) = self.groups.iter().find(|(n, _, _)| n == name_or_gid) {
            return Some(*gid);
        }
        name_or_gid.parse().ok()
    }

    /// `getgrouplist(user, gid)`: the primary group and every group listing the user.
    pub(crate) fn groups_of(&self, user: &str, gid: u32) -> Vec<u32> {
        let mut all = vec![gid];
        all.extend(
            self.groups
                .iter()
                .filter(|(_, _, members)| members.iter().any(|m| m == user))
                .map(|(_, g, _)| *g),
        );
        all.sort_unstable();
        all.dedup();
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n# comment\netcd:x:998:997:etcd user:/var/lib/etcd:/sbin/nologin\nbroken\n";
    const GROUP: &str = "root:x:0:\nadm:x:4:syslog,etcd\netcd:x:997:\nssl-cert:x:110:etcd, other\n";

    #[test]
    fn users_and_groups() {
        let a = Accounts::parse(PASSWD, GROUP);
        let etcd = a.user("etcd").unwrap();
        assert_eq!(
            (etcd.uid, etcd.gid, etcd.home.as_str()),
            (998, 997, "/var/lib/etcd")
        );
        assert_eq!(a.user("998").unwrap().name, "etcd");
        assert_eq!(a.user("nobody"), None);
        assert_eq!(a.user_name(0).as_deref(), Some("root"));
        assert_eq!(a.group("adm"), Some(4));
        assert_eq!(a.group("1234"), Some(1234));
        assert_eq!(a.group("nogroup"), None);
        assert_eq!(a.groups_of("etcd", 997), vec![4, 110, 997]);
        assert_eq!(a.groups_of("root", 0), vec![0]);
    }
}
