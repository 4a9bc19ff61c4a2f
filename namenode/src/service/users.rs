//! Who a caller is: the user a request names (`basalt-user` metadata), its groups (the `group-mapping`
//! setting: the OS's, with the `groups` table over it, or the table alone) and whether it is a superuser
//! (the `superuser`, a member of the `supergroup`, or anyone while `permissions` is off).
//!
//! The leader resolves the caller of a write when it proposes it, and the request carries the result,
//! so every member applies the same decision; a read is resolved and checked on the member serving it.
//! OS group lookups (NSS: files, or a directory service) are cached for [`GROUP_CACHE_TTL`], as
//! Hadoop's `hadoop.security.groups.cache.secs`, and run on a blocking thread.

use super::ServiceError;
use crate::config::{GroupMapping, NamenodeConfig};
use crate::state::namespace::Caller;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a user's OS groups are remembered (Hadoop's default: 300 s).
pub const GROUP_CACHE_TTL: Duration = Duration::from_secs(300);

/// A user's OS groups and when they were looked up.
type Cached = (Instant, Arc<Vec<String>>);

/// The permission settings of a member and its group cache.
pub struct Users {
    enabled: bool,
    superuser: String,
    supergroup: String,
    mapping: GroupMapping,
    table: BTreeMap<String, Vec<String>>,
    cache: Mutex<HashMap<String, Cached>>,
}

impl Users {
    pub fn new(config: &NamenodeConfig) -> Self {
        Users {
            enabled: config.permissions,
            superuser: config.superuser_name(),
            supergroup: config.supergroup.clone(),
            mapping: config.group_mapping,
            table: config.groups.clone(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The superuser's name.
    pub fn superuser(&self) -> &str {
        &self.superuser
    }

    /// The caller named `user`, with its groups and superuser standing.
    pub async fn caller(&self, user: String) -> Result<Caller, ServiceError> {
        let groups = self.groups(&user).await?;
        let superuser = !self.enabled || user == self.superuser || groups.contains(&self.supergroup);
        Ok(Caller {
            user,
            groups: groups.to_vec(),
            superuser,
        })
    }

    async fn groups(&self, user: &str) -> Result<Arc<Vec<String>>, ServiceError> {
        if let Some(g) = self.table.get(user) {
            return Ok(Arc::new(g.clone()));
        }
        if self.mapping == GroupMapping::Static {
            return Ok(Arc::new(Vec::new()));
        }
        let now = Instant::now();
        if let Some((at, g)) = self.cache.lock().expect("group cache lock poisoned").get(user)
            && now.duration_since(*at) < GROUP_CACHE_TTL
        {
            return Ok(g.clone());
        }
        let name = user.to_string();
        let groups = Arc::new(
            tokio::task::spawn_blocking(move || basalt_host::os_groups(&name))
                .await
                .map_err(ServiceError::task)?,
        );
        let mut cache = self.cache.lock().expect("group cache lock poisoned");
        cache.retain(|_, (at, _)| now.duration_since(*at) < GROUP_CACHE_TTL);
        cache.insert(user.to_string(), (now, groups.clone()));
        Ok(groups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(f: impl FnOnce(&mut NamenodeConfig)) -> NamenodeConfig {
        let mut c = NamenodeConfig::new("/tmp/x".into(), "127.0.0.1:0".parse().unwrap());
        c.superuser = Some("root".into());
        c.group_mapping = GroupMapping::Static;
        c.groups = crate::config::parse_groups("alice=eng;admin=supergroup,ops").unwrap();
        f(&mut c);
        c
    }

    #[tokio::test]
    async fn callers_get_their_groups_and_standing() {
        let users = Users::new(&config(|_| {}));
        let alice = users.caller("alice".into()).await.unwrap();
        assert_eq!(alice, Caller::user("alice", &["eng"]));
        let carol = users.caller("carol".into()).await.unwrap();
        assert_eq!(carol, Caller::user("carol", &[]));
        assert!(users.caller("root".into()).await.unwrap().superuser);
        assert!(
            users.caller("admin".into()).await.unwrap().superuser,
            "a supergroup member"
        );

        let off = Users::new(&config(|c| c.permissions = false));
        assert!(off.caller("carol".into()).await.unwrap().superuser);
    }

    #[tokio::test]
    async fn os_mapping_knows_this_process_user() {
        let users = Users::new(&config(|c| c.group_mapping = GroupMapping::Os));
        let me = basalt_host::os_user().unwrap();
        let caller = users.caller(me.clone()).await.unwrap();
        assert_eq!(caller.groups, basalt_host::os_groups(&me));
        // The table still wins for the users it lists.
        assert_eq!(users.caller("alice".into()).await.unwrap().groups, ["eng"]);
    }
}
