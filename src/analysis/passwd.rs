//! `/etc/passwd` and `/etc/group` of the merged image. Malformed lines are
//! skipped, as libc does; the first entry for a name or id wins.

use alloc::string::String;
use alloc::vec::Vec;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasswdEntry {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupEntry {
    pub name: String,
    pub gid: u32,
    pub members: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Passwd {
    pub entries: Vec<PasswdEntry>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Groups {
    pub entries: Vec<GroupEntry>,
}

fn id(field: &str) -> Option<u32> {
    if field.is_empty() || !field.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    field.parse().ok()
}

fn lines(text: &[u8]) -> impl Iterator<Item = String> + '_ {
    text.split(|&b| b == b'\n').filter_map(|line| {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        // Comments, blank lines and NIS compat lines (+/-) name no local account.
        if line.is_empty()
            || line.starts_with('#')
            || line.starts_with('+')
            || line.starts_with('-')
        {
            None
        } else {
            Some(String::from(line))
        }
    })
}

impl Passwd {
    pub fn parse(text: &[u8]) -> Passwd {
        let entries = lines(text)
            .filter_map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                if f.len() < 4 || f[0].is_empty() {
                    return None;
                }
                Some(PasswdEntry {
                    name: String::from(f[0]),
                    uid: id(f[2])?,
                    gid: id(f[3])?,
                    home: String::from(*f.get(5).unwrap_or(&"")),
                    shell: String::from(*f.get(6).unwrap_or(&"")),
                })
            })
            .collect();
        Passwd { entries }
    }

    pub fn by_name(&self, name: &str) -> Option<&PasswdEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    pub fn by_uid(&self, uid: u32) -> Option<&PasswdEntry> {
        self.entries.iter().find(|e| e.uid == uid)
    }
}

impl Groups {
    pub fn parse(text: &[u8]) -> Groups {
        let entries = lines(text)
            .filter_map(|line| {
                let f: Vec<&str> = line.split(':').collect();
                if f.len() < 3 || f[0].is_empty() {
                    return None;
                }
                let members = f
                    .get(3)
                    .map(|m| {
                        m.split(',')
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default();
                Some(GroupEntry {
                    name: String::from(f[0]),
                    gid: id(f[2])?,
                    members,
                })
            })
            .collect();
        Groups { entries }
    }

    pub fn by_name(&self, name: &str) -> Option<&GroupEntry> {
        self.entries.iter().find(|e| e.name == name)
    }

    pub fn by_gid(&self, gid: u32) -> Option<&GroupEntry> {
        self.entries.iter().find(|e| e.gid == gid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_skips_garbage() {
        let p = Passwd::parse(
            b"root:x:0:0:root:/root:/bin/bash\n\
              # comment\n\
              +nis::::\n\
              broken line\n\
              bad:x:notanumber:0::/:/bin/sh\n\
              app:x:1000:1000:App:/home/app:/bin/sh\r\n\
              toor:x:0:0::/:/bin/sh\n\
              app:x:2000:2000::/:/bin/sh\n",
        );
        assert_eq!(p.entries.len(), 4);
        assert_eq!(p.by_name("app").unwrap().uid, 1000);
        assert_eq!(p.by_uid(0).unwrap().name, "root");
        assert_eq!(p.by_name("toor").unwrap().uid, 0);
        assert!(p.by_name("bad").is_none());
    }

    #[test]
    fn groups() {
        let g = Groups::parse(b"root:x:0:\nshadow:x:42:\nwheel:x:10:a,b\n");
        assert_eq!(g.by_name("shadow").unwrap().gid, 42);
        assert_eq!(g.by_gid(10).unwrap().members, ["a", "b"]);
    }
}
