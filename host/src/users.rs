//! OS users and groups, as unsecured HDFS knows its callers: the user a process runs as (a client's
//! default identity, the namenode's default superuser) and the groups of a user name (what Hadoop's
//! `ShellBasedUnixGroupsMapping` answers: the primary group, then every group listing the user).
//!
//! All through the C library's NSS calls (`getpwuid_r`, `getpwnam_r`, `getgrouplist`, `getgrgid_r`),
//! so `/etc/passwd`, `/etc/group` and any directory service configured in `nsswitch.conf` agree with
//! `id -Gn`. `$USER` is not consulted: it is not reliable (sudo, cron, containers).

use std::ffi::{CStr, CString};

/// Size of the string buffer the `_r` lookups fill; grown on `ERANGE`.
const BUF: usize = 1024;
/// Most groups a user is looked up in.
const MAX_GROUPS: usize = 1024;

/// The name of the user this process runs as (its effective uid), if the system knows one.
pub fn os_user() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    user_name(uid)
}

/// The name of user `uid`.
pub fn user_name(uid: libc::uid_t) -> Option<String> {
    let mut buf = vec![0u8; BUF];
    loop {
        // SAFETY: `pwd` is plain data the call fills; `buf` is writable for the length we pass and
        // outlives the use of the pointers the call stores in `pwd`.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || out.is_null() || pwd.pw_name.is_null() {
            return None;
        }
        // SAFETY: on success pw_name points to a NUL-terminated string inside `buf`.
        let name = unsafe { CStr::from_ptr(pwd.pw_name) };
        return Some(name.to_string_lossy().into_owned());
    }
}

/// The primary group id of user `name`.
fn primary_gid(name: &CStr) -> Option<libc::gid_t> {
    let mut buf = vec![0u8; BUF];
    loop {
        // SAFETY: as in `user_name`.
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe { libc::getpwnam_r(name.as_ptr(), &mut pwd, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        return (rc == 0 && !out.is_null()).then_some(pwd.pw_gid);
    }
}

/// The name of group `gid`.
fn group_name(gid: libc::gid_t) -> Option<String> {
    let mut buf = vec![0u8; BUF];
    loop {
        // SAFETY: `grp` is plain data the call fills; `buf` outlives the pointers stored in it.
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut out: *mut libc::group = std::ptr::null_mut();
        let rc = unsafe { libc::getgrgid_r(gid, &mut grp, buf.as_mut_ptr().cast(), buf.len(), &mut out) };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 || out.is_null() || grp.gr_name.is_null() {
            return None;
        }
        // SAFETY: on success gr_name points to a NUL-terminated string inside `buf`.
        return Some(unsafe { CStr::from_ptr(grp.gr_name) }.to_string_lossy().into_owned());
    }
}

/// The groups of user `name`: its primary group first, then the others, as `id -Gn name` lists them.
/// Empty for a user the system does not know (Hadoop's answer too: such a user is in no group).
pub fn os_groups(name: &str) -> Vec<String> {
    let Ok(cname) = CString::new(name) else {
        return Vec::new();
    };
    let Some(primary) = primary_gid(&cname) else {
        return Vec::new();
    };
    let mut gids: Vec<libc::gid_t> = vec![0; 64];
    loop {
        let mut n = gids.len() as libc::c_int;
        // SAFETY: `gids` is writable for `n` entries; `n` is updated with the count needed.
        let rc = unsafe { libc::getgrouplist(cname.as_ptr(), primary, gids.as_mut_ptr(), &mut n) };
        if rc < 0 {
            let want = (n.max(0) as usize).max(gids.len() * 2);
            if want > MAX_GROUPS || want <= gids.len() {
                gids.truncate(0);
                gids.push(primary);
                break;
            }
            gids.resize(want, 0);
            continue;
        }
        gids.truncate(n.max(0) as usize);
        break;
    }
    let mut out = Vec::new();
    if let Some(g) = group_name(primary) {
        out.push(g);
    }
    for gid in gids.into_iter().filter(|g| *g != primary) {
        if let Some(g) = group_name(gid)
            && !out.contains(&g)
        {
            out.push(g);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_user_with_a_primary_group() {
        let me = os_user().expect("the test runs as a known user");
        assert!(!me.is_empty());
        let groups = os_groups(&me);
        // SAFETY: getegid has no preconditions.
        let gid = unsafe { libc::getegid() };
        if let Some(primary) = group_name(gid) {
            assert!(groups.contains(&primary), "{me}: {groups:?} lacks {primary}");
        }
    }

    #[test]
    fn unknown_users_have_no_groups() {
        assert!(os_groups("no-such-user-basalt-test").is_empty());
        assert!(os_groups("nul\0inside").is_empty());
    }
}
