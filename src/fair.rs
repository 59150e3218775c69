//! Tenant-fair admission to a bounded queue (the worker's and the HTTP transport's): once
//! a queue is half full, a tenant that already holds at least its even share of what is
//! queued (the queued count over the tenants queued) is refused, so one loud tenant, or
//! a few, can fill at most about half of it and a quiet tenant's report always finds a
//! place. Reports without a tenant count as one tenant.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::Mutex;

/// Places each tenant holds in one queue.
#[derive(Debug, Default)]
pub(crate) struct FairShare {
    held: Mutex<HashMap<u64, usize, BuildHasherDefault<std::hash::DefaultHasher>>>,
}

impl FairShare {
    /// Whether `tenant` may add one to a queue of `capacity` that holds `queued` now;
    /// if so its place is counted, and must be given back with [`release`](Self::release)
    /// when the item leaves the queue (or is not queued after all).
    pub(crate) fn try_take(&self, tenant: u64, queued: usize, capacity: usize) -> bool {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if queued * 2 >= capacity {
            let mine = held.get(&tenant).copied().unwrap_or(0);
            let tenants = held.len().max(1);
            if mine > 0 && mine * tenants >= queued {
                return false;
            }
        }
        *held.entry(tenant).or_insert(0) += 1;
        true
    }

    /// Gives back one place of `tenant`.
    pub(crate) fn release(&self, tenant: u64) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = held.get_mut(&tenant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                held.remove(&tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_loud_tenant_fills_half_and_quiet_tenants_still_get_in() {
        let fair = FairShare::default();
        let capacity = 64;
        let mut queued = 0;
        for _ in 0..1_000 {
            if fair.try_take(1, queued, capacity) {
                queued += 1;
            }
        }
        assert_eq!(queued, capacity / 2, "the loud tenant alone: half");
        for quiet in 2..=20 {
            assert!(
                fair.try_take(quiet, queued, capacity),
                "quiet tenant {quiet}"
            );
            queued += 1;
            assert!(!fair.try_take(1, queued, capacity));
        }
        assert!(queued <= capacity);
        fair.release(1);
        fair.release(2);
        assert!(fair.try_take(2, queued - 2, capacity));
    }
}
