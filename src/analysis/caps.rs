//! File capabilities: decoding the `security.capability` extended attribute
//! (`struct vfs_cap_data`, linux/capability.h) into capability names.

use alloc::string::String;
use alloc::vec::Vec;

/// Names by bit number, as in linux/capability.h (CAP_LAST_CAP = 40 today).
pub const CAP_NAMES: [&str; 41] = [
    "cap_chown",
    "cap_dac_override",
    "cap_dac_read_search",
    "cap_fowner",
    "cap_fsetid",
    "cap_kill",
    "cap_setgid",
    "cap_setuid",
    "cap_setpcap",
    "cap_linux_immutable",
    "cap_net_bind_service",
    "cap_net_broadcast",
    "cap_net_admin",
    "cap_net_raw",
    "cap_ipc_lock",
    "cap_ipc_owner",
    "cap_sys_module",
    "cap_sys_rawio",
    "cap_sys_chroot",
    "cap_sys_ptrace",
    "cap_sys_pacct",
    "cap_sys_admin",
    "cap_sys_boot",
    "cap_sys_nice",
    "cap_sys_resource",
    "cap_sys_time",
    "cap_sys_tty_config",
    "cap_mknod",
    "cap_lease",
    "cap_audit_write",
    "cap_audit_control",
    "cap_setfcap",
    "cap_mac_override",
    "cap_mac_admin",
    "cap_syslog",
    "cap_wake_alarm",
    "cap_block_suspend",
    "cap_audit_read",
    "cap_perfmon",
    "cap_bpf",
    "cap_checkpoint_restore",
];

const VFS_CAP_REVISION_MASK: u32 = 0xFF00_0000;
const VFS_CAP_FLAGS_EFFECTIVE: u32 = 0x0000_0001;
const REVISION_1: u32 = 0x0100_0000;
const REVISION_2: u32 = 0x0200_0000;
const REVISION_3: u32 = 0x0300_0000;

/// Decoded file capabilities.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "camelCase"))]
pub struct FileCaps {
    pub permitted: u64,
    pub inheritable: u64,
    /// The effective bit: permitted capabilities are raised at exec without the
    /// program asking (`+ep`).
    pub effective: bool,
    /// 1, 2 or 3.
    pub revision: u8,
    /// Revision 3: the root uid of the user namespace the caps apply in.
    pub root_id: Option<u32>,
}

fn le32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl FileCaps {
    /// `None` when the bytes are not a valid `vfs_cap_data` of any known revision.
    pub fn decode(raw: &[u8]) -> Option<FileCaps> {
        if raw.len() < 4 {
            return None;
        }
        let magic = le32(raw, 0);
        let effective = magic & VFS_CAP_FLAGS_EFFECTIVE != 0;
        match magic & VFS_CAP_REVISION_MASK {
            REVISION_1 if raw.len() == 12 => Some(FileCaps {
                permitted: le32(raw, 4) as u64,
                inheritable: le32(raw, 8) as u64,
                effective,
                revision: 1,
                root_id: None,
            }),
            REVISION_2 if raw.len() == 20 => Some(FileCaps {
                permitted: le32(raw, 4) as u64 | (le32(raw, 12) as u64) << 32,
                inheritable: le32(raw, 8) as u64 | (le32(raw, 16) as u64) << 32,
                effective,
                revision: 2,
                root_id: None,
            }),
            REVISION_3 if raw.len() == 24 => Some(FileCaps {
                permitted: le32(raw, 4) as u64 | (le32(raw, 12) as u64) << 32,
                inheritable: le32(raw, 8) as u64 | (le32(raw, 16) as u64) << 32,
                effective,
                revision: 3,
                root_id: Some(le32(raw, 20)),
            }),
            _ => None,
        }
    }

    pub fn permitted_names(&self) -> Vec<String> {
        names(self.permitted)
    }

    pub fn inheritable_names(&self) -> Vec<String> {
        names(self.inheritable)
    }

    /// `getcap`-style text, e.g. `cap_net_bind_service+ep`.
    pub fn to_getcap_string(&self) -> String {
        let mut out = String::new();
        let p = self.permitted_names();
        let i = self.inheritable_names();
        let all: Vec<&String> = {
            let mut v: Vec<&String> = p.iter().collect();
            for n in &i {
                if !v.contains(&n) {
                    v.push(n);
                }
            }
            v
        };
        out.push_str(&all.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","));
        out.push('+');
        if self.effective {
            out.push('e');
        }
        if self.inheritable != 0 {
            out.push('i');
        }
        if self.permitted != 0 {
            out.push('p');
        }
        out
    }
}

/// Names of the bits set in `mask`; unknown bits become `cap_N`.
pub fn names(mask: u64) -> Vec<String> {
    (0..64)
        .filter(|bit| mask & (1u64 << bit) != 0)
        .map(|bit| match CAP_NAMES.get(bit as usize) {
            Some(n) => String::from(*n),
            None => alloc::format!("cap_{}", bit),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_bind_service_ep_revision2() {
        // From the design notes: 01000002 00040000 00000000 00000000 00000000
        let raw = [1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let c = FileCaps::decode(&raw).unwrap();
        assert!(c.effective);
        assert_eq!(c.revision, 2);
        assert_eq!(c.permitted_names(), ["cap_net_bind_service"]);
        assert_eq!(c.to_getcap_string(), "cap_net_bind_service+ep");
    }

    #[test]
    fn revision3_with_rootid_and_high_caps() {
        let mut raw = [0u8; 24];
        raw[0..4].copy_from_slice(&0x0300_0000u32.to_le_bytes());
        raw[4..8].copy_from_slice(&(1u32 << 21).to_le_bytes()); // cap_sys_admin
        raw[12..16].copy_from_slice(&(1u32 << 7).to_le_bytes()); // bit 39: cap_bpf
        raw[20..24].copy_from_slice(&100000u32.to_le_bytes());
        let c = FileCaps::decode(&raw).unwrap();
        assert!(!c.effective);
        assert_eq!(c.root_id, Some(100000));
        assert_eq!(c.permitted_names(), ["cap_sys_admin", "cap_bpf"]);
        assert_eq!(c.to_getcap_string(), "cap_sys_admin,cap_bpf+p");
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(FileCaps::decode(&[]), None);
        assert_eq!(FileCaps::decode(&[1, 0, 0, 2, 0]), None);
        assert_eq!(FileCaps::decode(&[0u8; 20]), None);
        assert_eq!(
            FileCaps::decode(&[0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0]),
            None
        );
    }
}
