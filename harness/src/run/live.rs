//! Trials that send to a real API (live and record modes), kept under control: a concurrency
//! limit per target so a run stays under the provider's rate limits, the run's budgets
//! (`--max-requests`, `--max-output-tokens`), the tap that counts what each trial spent, and,
//! in record mode, writing the trial's exchanges as a recording.
//!
//! A trial is admitted before it sends: it waits for a slot of its target, then reserves the
//! requests it plans to send (one per step and concurrent copy) in one atomic step, so trials
//! running at once can never reserve more than `--max-requests` between them. Retries are
//! counted as they happen and output tokens as replies arrive, so trials already in flight can
//! take a run past a budget by their own retries and tokens; no trial starts once it is spent.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, OwnedSemaphorePermit, RwLock, Semaphore,
};

use super::plan::PlannedTrial;
use crate::client::{RawResponse, Sent, Tap, TransportError};
use crate::observation::StepObservation;
use crate::outcome::{ErrorKind, Outcome, Skip, SkipKind, Spent};
use crate::record::format::RecordingFile;
use crate::record::recorder::{self, Captured, CapturedResponse};
use crate::record::redact::Secrets;
use crate::record::write::write_checked;

/// Default `--live-concurrency`: trials in flight per target in live and record modes.
pub(crate) const DEFAULT_CONCURRENCY: usize = 4;

/// The run's spending limits and what has been reserved and spent against them.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    max_requests: Option<u64>,
    max_output_tokens: Option<u64>,
    requests: AtomicU64,
    output_tokens: AtomicU64,
}

impl Budget {
    /// Limits; `None` is unlimited.
    pub(crate) fn new(max_requests: Option<u64>, max_output_tokens: Option<u64>) -> Budget {
        Budget {
            max_requests,
            max_output_tokens,
            ..Budget::default()
        }
    }

    /// The skip reason when a trial's requests don't fit in `--max-requests`. Constant for a
    /// run, so the console groups these skips into one line.
    pub(crate) fn requests_reason(max: u64) -> Skip {
        Skip::new(
            SkipKind::OverBudget,
            format!("--max-requests {max} would be exceeded; not sent"),
        )
    }

    /// The skip reason once `--max-output-tokens` is spent.
    pub(crate) fn tokens_reason(max: u64) -> Skip {
        Skip::new(
            SkipKind::OverBudget,
            format!("--max-output-tokens {max} spent; not sent"),
        )
    }

    /// Reserves `n` requests, or says why not. The token check comes first so a refused trial
    /// reserves nothing; the request reservation is one compare-and-swap, so concurrent
    /// trials can't both take the last request.
    pub(crate) fn reserve(&self, n: u64) -> Result<(), Skip> {
        if let Some(max) = self.max_output_tokens
            && self.output_tokens.load(Ordering::SeqCst) >= max
        {
            return Err(Self::tokens_reason(max));
        }
        match self.max_requests {
            Some(max) => self
                .requests
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |cur| {
                    (cur + n <= max).then_some(cur + n)
                })
                .map(|_| ())
                .map_err(|_| Self::requests_reason(max)),
            None => {
                self.requests.fetch_add(n, Ordering::SeqCst);
                Ok(())
            }
        }
    }

    /// Replaces a trial's reservation by what it really sent (more with retries, fewer when
    /// it stopped early).
    pub(crate) fn settle(&self, reserved: u64, sent: u64) {
        if sent > reserved {
            self.requests.fetch_add(sent - reserved, Ordering::SeqCst);
        } else {
            self.requests.fetch_sub(reserved - sent, Ordering::SeqCst);
        }
    }

    /// Counts output tokens as replies arrive.
    pub(crate) fn spend_tokens(&self, n: u64) {
        self.output_tokens.fetch_add(n, Ordering::SeqCst);
    }

    /// Requests reserved or sent, and output tokens spent, so far.
    #[cfg(test)]
    pub(crate) fn used(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::SeqCst),
            self.output_tokens.load(Ordering::SeqCst),
        )
    }
}

/// What live and record modes share across trials.
pub(crate) struct Live {
    budget: Budget,
    concurrency: usize,
    slots: Mutex<HashMap<String, Arc<Semaphore>>>,
    /// Per target: exclusive trials hold it for writing, every other live trial for reading.
    /// tokio's lock is fair, so an exclusive trial waiting keeps new trials from starting.
    turns: Mutex<HashMap<String, Arc<RwLock<()>>>>,
    /// Per (target, resource): as many permits as the resource's limit.
    resources: Mutex<HashMap<(String, String), Arc<Semaphore>>>,
    secrets: Secrets,
    overwrite: bool,
    date: String,
}

impl Live {
    /// `concurrency` trials in flight per target (at least one); `secrets` are kept out of
    /// recordings and scrubbed from live trials' outcomes; `overwrite` is `--record all`;
    /// `date` goes into recordings' provenance.
    pub(crate) fn new(
        budget: Budget,
        concurrency: usize,
        secrets: Secrets,
        overwrite: bool,
        date: String,
    ) -> Live {
        Live {
            budget,
            concurrency: concurrency.max(1),
            slots: Mutex::new(HashMap::new()),
            turns: Mutex::new(HashMap::new()),
            resources: Mutex::new(HashMap::new()),
            secrets,
            overwrite,
            date,
        }
    }

    fn slot(&self, target: &str) -> Arc<Semaphore> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots
            .entry(target.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.concurrency)))
            .clone()
    }

    fn turn(&self, target: &str) -> Arc<RwLock<()>> {
        let mut turns = self.turns.lock().unwrap_or_else(|p| p.into_inner());
        turns.entry(target.to_string()).or_default().clone()
    }

    /// The semaphore of a resource on a target. Its limit is the first claimant's: the loader
    /// takes it from the suite's `resources`, and suites sharing a name declare the same.
    fn resource(&self, target: &str, name: &str, limit: u32) -> Arc<Semaphore> {
        let mut r = self.resources.lock().unwrap_or_else(|p| p.into_inner());
        r.entry((target.to_string(), name.to_string()))
            .or_insert_with(|| Arc::new(Semaphore::new(limit.max(1) as usize)))
            .clone()
    }

    /// Waits until the trial may run beside the others of its target: alone when it is
    /// exclusive, within its resource's limit when it names one. Taken in one order (turn,
    /// resource, then slot) by every trial, so no two trials wait on each other.
    async fn hold(&self, t: &PlannedTrial) -> Result<Held, Refused> {
        let sc = &t.scenario;
        let turn = self.turn(&t.target.name);
        let turn = if sc.exclusive {
            Turn::Alone(turn.write_owned().await)
        } else {
            Turn::Shared(turn.read_owned().await)
        };
        let resource = match (&sc.resource, sc.resource_limit) {
            (Some(name), Some(limit)) => Some(
                self.resource(&t.target.name, name, limit)
                    .acquire_owned()
                    .await
                    .map_err(|_| Refused::Closed)?,
            ),
            _ => None,
        };
        Ok(Held {
            _turn: turn,
            _resource: resource,
        })
    }

    /// Admits a trial about to send to a real API: waits for its turn (exclusive trials run
    /// alone on their target), its resource and its target's slot, then reserves its
    /// requests. `Ok(None)` for a trial the local mock answers (nothing to
    /// limit or count); `Err` says why it may not send.
    pub(crate) async fn admit(&self, t: &PlannedTrial) -> Result<Option<Admission>, Refused> {
        if !t.live {
            return Ok(None);
        }
        let held = self.hold(t).await?;
        // The semaphores are never closed, but if one were, provcheck could not run the trial:
        // that is an error of provcheck's, not a reason to skip.
        let permit = self
            .slot(&t.target.name)
            .acquire_owned()
            .await
            .map_err(|_| Refused::Closed)?;
        let sc = &t.scenario;
        let steps = if sc.request.is_some() {
            1
        } else {
            sc.steps.len() as u64
        };
        let planned = steps * u64::from(sc.concurrency) * u64::from(sc.repetitions());
        self.budget.reserve(planned).map_err(Refused::Budget)?;
        Ok(Some(Admission {
            _held: held,
            _permit: permit,
            reserved: planned,
            capture: Arc::new(Capture {
                requests: AtomicU64::new(0),
                output_tokens: AtomicU64::new(0),
                kept: t.record_to.as_ref().map(|_| Mutex::new(Vec::new())),
            }),
        }))
    }

    /// Counts the output tokens of a step's replies as they arrive.
    pub(crate) fn replies(&self, a: &Admission, step: &StepObservation) {
        let n: u64 = step
            .copies
            .iter()
            .filter_map(|c| c.result.as_ref().ok())
            .filter_map(|r| r.usage.and_then(|u| u.output_tokens))
            .sum();
        a.capture.output_tokens.fetch_add(n, Ordering::SeqCst);
        self.budget.spend_tokens(n);
    }

    /// After the trial: settles the budget, notes what it spent, writes its recording in
    /// record mode (only when it `finished` within its deadline: a cut-off trial's exchanges
    /// are incomplete), and scrubs every secret from the outcome.
    pub(crate) fn settle(
        &self,
        t: &PlannedTrial,
        a: Admission,
        outcome: &mut Outcome,
        finished: bool,
    ) {
        let sent = a.capture.requests.load(Ordering::SeqCst);
        self.budget.settle(a.reserved, sent);
        outcome.spent = Some(Spent {
            requests: sent,
            output_tokens: a.capture.output_tokens.load(Ordering::SeqCst),
        });
        if let (Some(path), Some(kept)) = (&t.record_to, &a.capture.kept) {
            let captured = std::mem::take(&mut *kept.lock().unwrap_or_else(|p| p.into_inner()));
            self.record(t, path, &captured, outcome, finished);
        }
        self.scrub(outcome);
    }

    fn record(
        &self,
        t: &PlannedTrial,
        path: &Path,
        captured: &[Captured],
        outcome: &mut Outcome,
        finished: bool,
    ) {
        let not_recorded = |outcome: &mut Outcome, why: String| {
            outcome.not_recorded = Some(why);
        };
        if !finished {
            return not_recorded(outcome, "the trial did not finish".into());
        }
        if captured.is_empty() {
            return not_recorded(outcome, "no request was sent".into());
        }
        let exchanges = match recorder::exchanges(captured, t.target.dialect, &t.target.redact) {
            Ok(e) => e,
            Err(why) => return not_recorded(outcome, why.to_string()),
        };
        let model = outcome.exchanges.iter().find_map(|e| e.reply_model.clone());
        let file = RecordingFile {
            provenance: recorder::provenance(
                &self.date,
                model,
                crate::record::redact::redact_url(&t.target.base_url),
            ),
            exchanges,
        };
        match write_checked(path, &file, self.overwrite, &self.secrets) {
            Ok(sha) => {
                let shown = path.display().to_string();
                outcome.recording = Some(shown.clone());
                outcome.recorded = Some(shown);
                outcome.provenance = Some(super::trial::provenance(&file.provenance));
                outcome.recording_sha256 = Some(sha);
            }
            Err(e) => outcome.set_error(ErrorKind::RecordWrite, e.to_string()),
        }
    }

    /// Replaces secret values in everything of an outcome that can quote a reply (messages,
    /// findings, violations, errors): a provider echoing a key must not put it in a report.
    fn scrub(&self, o: &mut Outcome) {
        if self.secrets.is_empty() {
            return;
        }
        let s = &self.secrets;
        let fix = |v: &mut String| {
            if s.find(v).is_some() {
                *v = s.scrub(v);
            }
        };
        if let Some(e) = &mut o.error {
            fix(&mut e.message);
        }
        if let Some(sk) = &mut o.skip {
            fix(&mut sk.detail);
        }
        o.findings.iter_mut().for_each(|f| fix(&mut f.message));
        if let Some(n) = &mut o.not_recorded {
            fix(n);
        }
        for e in &mut o.exchanges {
            e.violations.iter_mut().for_each(fix);
            for v in [
                &mut e.transport_error,
                &mut e.reply_model,
                &mut e.error_type,
                &mut e.raw_finish_reason,
            ]
            .into_iter()
            .flatten()
            {
                fix(v);
            }
        }
    }
}

/// Why a trial may not send to a real API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The run's budget is spent: a skip.
    Budget(Skip),
    /// The target's concurrency limit was closed: provcheck cannot run the trial.
    Closed,
}

/// A trial's permission to send: its target slot (released when dropped), its reservation,
/// and the tap its transport reports to.
pub(crate) struct Admission {
    _held: Held,
    _permit: OwnedSemaphorePermit,
    reserved: u64,
    /// The tap to install on the trial's transport.
    pub capture: Arc<Capture>,
}

/// A trial's turn on its target and its resource, released when dropped.
struct Held {
    _turn: Turn,
    _resource: Option<OwnedSemaphorePermit>,
}

/// An exclusive trial holds its target alone; the others share it. Held only to be dropped.
#[allow(dead_code)]
enum Turn {
    Alone(OwnedRwLockWriteGuard<()>),
    Shared(OwnedRwLockReadGuard<()>),
}

/// Counts a trial's requests and tokens and, in record mode, keeps its exchanges.
pub(crate) struct Capture {
    requests: AtomicU64,
    output_tokens: AtomicU64,
    kept: Option<Mutex<Vec<Captured>>>,
}

impl Tap for Capture {
    fn attempt(&self, sent: &Sent<'_>, result: &Result<RawResponse, TransportError>) {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let Some(kept) = &self.kept else { return };
        let response = match result {
            Ok(r) => Ok(CapturedResponse {
                status: r.status,
                headers: r.headers.clone(),
                body: r.body.clone(),
                stream: r.stream.clone(),
            }),
            Err(e) => Err(e.to_string()),
        };
        let c = Captured {
            method: sent.method.to_string(),
            url: sent.url.to_string(),
            headers: sent
                .headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            auth_header: sent.auth_header.map(str::to_string),
            body: sent.body.clone(),
            response,
        };
        kept.lock().unwrap_or_else(|p| p.into_inner()).push(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_reservations_never_exceed_the_budget_under_contention() {
        let b = Arc::new(Budget::new(Some(10), None));
        let granted = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..10 {
                        if b.reserve(1).is_ok() {
                            granted.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
            }
        });
        assert_eq!(granted.load(Ordering::SeqCst), 10);
        assert_eq!(b.used().0, 10);
        assert_eq!(b.reserve(1).unwrap_err(), Budget::requests_reason(10));
    }

    #[test]
    fn a_trial_needing_more_than_is_left_is_refused_whole_and_settling_corrects() {
        let b = Budget::new(Some(3), Some(50));
        b.reserve(2).unwrap();
        assert!(b.reserve(2).is_err(), "2 + 2 > 3");
        b.reserve(1).unwrap();
        // The first trial retried once (3 sent for 2 reserved): the run is now past its limit.
        b.settle(2, 3);
        assert_eq!(b.used().0, 4);
        b.settle(1, 0);
        assert_eq!(b.used().0, 3);
        b.spend_tokens(60);
        assert_eq!(b.reserve(0).unwrap_err(), Budget::tokens_reason(50));
        let unlimited = Budget::default();
        unlimited.reserve(1_000).unwrap();
        assert_eq!(unlimited.used(), (1_000, 0));
    }
}
