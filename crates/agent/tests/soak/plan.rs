//! The soak's sizes (from the environment) and its seeded schedule of disturbances: module
//! faults, broker restarts and agent kills, each due once the broker has seen a given number
//! of distinct records, so disturbances are spread over the whole run whatever its speed.

use std::collections::BTreeMap;
use std::time::Duration;

use modem_sim::Fault;

/// Sizes and knobs; `SOAK_*` environment variables override the short defaults.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `SOAK_RECORDS`: numbered records the producer writes.
    pub records: u64,
    /// `SOAK_FAULTS`: module faults injected.
    pub faults: u32,
    /// `SOAK_BROKER_RESTARTS`.
    pub broker_restarts: u32,
    /// `SOAK_AGENT_KILLS`: SIGKILLs of the agent (each followed by a restart).
    pub agent_kills: u32,
    /// `SOAK_SEED`: seeds the schedule (and, when `SOAK_CLOUD` is unset, the cloud).
    pub seed: u64,
    /// `SOAK_CLOUD`: `aliyun`, `onenet` or `huawei`; by default `seed % 3`.
    pub cloud: String,
    /// `SOAK_BAUD`: modem-sim's pacing; 0 = unpaced.
    pub baud: u32,
    /// `SOAK_WINDOW`: records written but not yet seen at the broker, at most.
    pub window: u64,
    /// `SOAK_TIME_LIMIT_S`: the whole soak must finish within this.
    pub time_limit: Duration,
}

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?}: expected a whole number")),
        Err(_) => default,
    }
}

impl Plan {
    /// From the environment, with the short (CI) defaults.
    pub fn from_env() -> Plan {
        let seed = env_num("SOAK_SEED", 1);
        let cloud = std::env::var("SOAK_CLOUD")
            .unwrap_or_else(|_| ["aliyun", "onenet", "huawei"][(seed % 3) as usize].to_string());
        let plan = Plan {
            records: env_num("SOAK_RECORDS", 400),
            faults: env_num("SOAK_FAULTS", 40) as u32,
            broker_restarts: env_num("SOAK_BROKER_RESTARTS", 1) as u32,
            agent_kills: env_num("SOAK_AGENT_KILLS", 2) as u32,
            seed,
            cloud,
            baud: env_num("SOAK_BAUD", 0) as u32,
            window: env_num("SOAK_WINDOW", 100).max(1),
            time_limit: Duration::from_secs(env_num("SOAK_TIME_LIMIT_S", 600)),
        };
        assert!(plan.records > 0, "SOAK_RECORDS must be at least 1");
        plan
    }
}

/// One disturbance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disturbance {
    /// A module fault through `Simulator::inject`.
    Fault(Fault),
    /// SIGTERM mosquitto and start it again on the same port.
    RestartBroker,
    /// SIGKILL the agent and start it again on the same store.
    KillAgent,
}

/// The kind's name for the report.
pub fn kind_name(d: &Disturbance) -> &'static str {
    match d {
        Disturbance::Fault(Fault::DropLink(_)) => "drop",
        Disturbance::Fault(Fault::PingFail(_)) => "ping-fail",
        Disturbance::Fault(Fault::Error(_)) => "error",
        Disturbance::Fault(Fault::Garbage(_)) => "garbage",
        Disturbance::Fault(Fault::Reboot) => "reboot",
        Disturbance::Fault(Fault::Stall(_)) => "stall",
        // Kinds modem-sim may add later; the soak's schedule draws only the six above.
        #[allow(unreachable_patterns)]
        Disturbance::Fault(_) => "other fault",
        Disturbance::RestartBroker => "broker restart",
        Disturbance::KillAgent => "agent kill",
    }
}

/// The disturbances in the order they happen, each with the number of distinct records the
/// broker must have seen first. Faults are drawn uniformly from the six kinds (client 0,
/// counts 1–3 for error / garbage, 1–2 for stall); everything is a function of the seed.
pub fn schedule(plan: &Plan) -> Vec<(u64, Disturbance)> {
    let mut rng = fastrand::Rng::with_seed(plan.seed);
    let n = plan.records;
    let mut out = Vec::new();
    let spread = |i: u64, of: u64, rng: &mut fastrand::Rng| {
        // Evenly spaced, jittered by up to half a slot, never at the very end (the last
        // records must still cross a disturbed link).
        let slot = n as f64 / (of + 1) as f64;
        let at = slot * (i + 1) as f64 + (rng.f64() - 0.5) * slot;
        (at.max(0.0) as u64).min(n.saturating_sub(1))
    };
    for i in 0..u64::from(plan.faults) {
        let f = match rng.u8(0..6) {
            0 => Fault::DropLink(0),
            1 => Fault::PingFail(0),
            2 => Fault::Error(rng.u32(1..=3)),
            3 => Fault::Garbage(rng.u32(1..=3)),
            4 => Fault::Reboot,
            // Two lines at most: the command and the driver's probe after it, so the AT
            // channel looks dead (the watchdog path). A third swallowed line lands on the
            // next command, often a recovery step's `AT+CGACT`, which waits out the guide's
            // 150 s before anything else happens (see docs/soak.md).
            _ => Fault::Stall(rng.u32(1..=2)),
        };
        out.push((
            spread(i, u64::from(plan.faults), &mut rng),
            Disturbance::Fault(f),
        ));
    }
    for i in 0..u64::from(plan.broker_restarts) {
        let at = spread(i, u64::from(plan.broker_restarts), &mut rng);
        out.push((at, Disturbance::RestartBroker));
    }
    for i in 0..u64::from(plan.agent_kills) {
        let at = spread(i, u64::from(plan.agent_kills), &mut rng);
        out.push((at, Disturbance::KillAgent));
    }
    // Stable: equal thresholds keep faults before restarts before kills.
    out.sort_by_key(|(at, _)| *at);
    out
}

/// Counts per kind, for the report.
pub fn count_kinds<'a>(done: impl Iterator<Item = &'a Disturbance>) -> BTreeMap<&'static str, u32> {
    let mut m = BTreeMap::new();
    for d in done {
        *m.entry(kind_name(d)).or_insert(0) += 1;
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_seeded_spread_and_complete() {
        let plan = Plan {
            records: 1000,
            faults: 100,
            broker_restarts: 3,
            agent_kills: 4,
            seed: 9,
            cloud: "aliyun".into(),
            baud: 0,
            window: 10,
            time_limit: Duration::from_secs(1),
        };
        let a = schedule(&plan);
        assert_eq!(a, schedule(&plan));
        assert_ne!(
            a,
            schedule(&Plan {
                seed: 10,
                ..plan.clone()
            })
        );
        assert_eq!(a.len(), 107);
        assert!(a.windows(2).all(|w| w[0].0 <= w[1].0));
        assert!(a.iter().all(|(at, _)| *at < 1000));
        let kinds = count_kinds(a.iter().map(|(_, d)| d));
        assert_eq!(kinds["broker restart"], 3);
        assert_eq!(kinds["agent kill"], 4);
        // All six fault kinds are drawn in 100 faults.
        assert_eq!(kinds.len(), 8, "{kinds:?}");
    }
}
