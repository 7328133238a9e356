//! Convergence under random actions and random delivery (proptest).
//!
//! Five replicas (a server and four phones, each also editing) take random domain actions on
//! one household, including concurrent splices of the same notes, while sync messages are
//! delivered out of order, twice, or lost (a lost message breaks its connection, which is
//! later re-established), and replicas restart from their saved bytes. After a final full sync
//! every replica must hydrate to the same household, with the same heads and conflicts.
//!
//! The server vets every change as core's validation does for Lots' server, and a sixth,
//! hostile replica mixes honest actions with changes the server must refuse (deleting a
//! visit, an unknown field, another person's signature, no signature, moving the household):
//! its refused changes never reach anyone, and the honest replicas still converge with none
//! of their changes lost.
//!
//! The run is seeded and bounded for CI. Set `LOTS_CONVERGENCE_SEED` to replay a failure, and
//! `LOTS_CONVERGENCE_CASES` / `LOTS_CONVERGENCE_STEPS` for a larger run.

#![cfg(not(target_arch = "wasm32"))] // The browser's share of these runs in `wasm.rs`.
#![allow(clippy::unwrap_used)] // Tests may panic on what they did not expect.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;
use lots_core::automerge::transaction::Transactable as _;
use lots_core::automerge::{ActorId, ChangeHash, ROOT, ReadDoc as _};
use lots_core::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

/// The honest replicas: the server and four phones.
const REPLICAS: usize = 5;
/// The hostile phone's index, and its link's.
const HOSTILE: usize = REPLICAS;
const HOSTILE_LINK: usize = REPLICAS - 1;
const HOSTILE_STAFF: &str = "u-mallory";
const DOC: DocumentId = DocumentId::from_bytes([7; 16]);

#[derive(Debug, Clone)]
enum Step {
    Act {
        replica: usize,
        kind: u8,
        a: u32,
        b: u32,
    },
    Deliver {
        link: usize,
        to_server: bool,
        pick: usize,
        duplicate: bool,
    },
    Drop {
        link: usize,
        to_server: bool,
        pick: usize,
    },
    Reconnect {
        link: usize,
    },
    Restart {
        replica: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        13 => (0..=HOSTILE, 0u8..20, any::<u32>(), any::<u32>())
            .prop_map(|(replica, kind, a, b)| Step::Act { replica, kind, a, b }),
        7 => (0..=HOSTILE_LINK, any::<bool>(), 0usize..8, prop::bool::weighted(0.1))
            .prop_map(|(link, to_server, pick, duplicate)| Step::Deliver { link, to_server, pick, duplicate }),
        1 => (0..=HOSTILE_LINK, any::<bool>(), 0usize..8)
            .prop_map(|(link, to_server, pick)| Step::Drop { link, to_server, pick }),
        1 => (0..=HOSTILE_LINK).prop_map(|link| Step::Reconnect { link }),
        1 => (0..REPLICAS).prop_map(|replica| Step::Restart { replica }),
    ]
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Ids created anywhere so far; a replica that has not seen one yet refuses actions on it,
/// which the simulation checks leave its document untouched.
#[derive(Default)]
struct Known {
    members: Vec<MemberId>,
    visits: Vec<VisitId>,
    follow_ups: Vec<(VisitId, FollowUpId)>,
    goals: Vec<GoalId>,
    steps: Vec<(GoalId, StepId)>,
}

fn pick<T: Clone>(items: &[T], index: u32) -> Option<T> {
    (!items.is_empty()).then(|| items[index as usize % items.len()].clone())
}

const STAFF: [&str; REPLICAS] = ["u-office", "u-anna", "u-omar", "u-sara", "u-lina"];
const WORDS: [&str; 6] = ["budget ", "SFI ", "brev ", "bank ", "hyra ", "ñ–ü "];

/// The server's policy: every change from a phone is vetted as its user on its device (all
/// supervisors of the household's district here, so any honest action passes); the phones
/// take what the server sends.
#[derive(Debug, Default)]
struct Policy {
    vets: bool,
    writers: HashMap<PeerId, Writer>,
    actors: HashMap<ActorId, DeviceId>,
    quarantined: HashSet<ChangeHash>,
}

struct Tables<'a>(&'a HashMap<ActorId, DeviceId>, &'a HashSet<ChangeHash>);

impl Directory for Tables<'_> {
    fn actor_device(&self, actor: &ActorId) -> Option<DeviceId> {
        self.0.get(actor).cloned()
    }
    fn may_hold(&self, _: &StaffId, _: &DistrictId) -> bool {
        true
    }
    fn is_quarantined(&self, change: &ChangeHash) -> bool {
        self.1.contains(change)
    }
}

impl SharePolicy for Policy {
    fn may_read(&self, _: &PeerId, _: &DocumentId) -> bool {
        true
    }
    fn may_write(&self, _: &PeerId, _: &DocumentId) -> bool {
        true
    }
    fn may_create(&self, _: &PeerId, _: &DocumentId) -> bool {
        true
    }
    fn vets_changes(&self) -> bool {
        self.vets
    }
    fn vet(
        &mut self,
        now: Timestamp,
        peer: &PeerId,
        _: &DocumentId,
        doc: &lots_core::automerge::Automerge,
        changes: Vec<lots_core::automerge::Change>,
    ) -> Vetting {
        let writer = self
            .writers
            .get(peer)
            .expect("every phone is a known writer");
        let vetting = vet_changes(
            doc,
            changes,
            writer,
            &Tables(&self.actors, &self.quarantined),
            now,
        );
        for actor in &vetting.new_actors {
            self.actors.insert(actor.clone(), writer.device.clone());
        }
        self.quarantined
            .extend(vetting.refused.iter().map(|refused| refused.hash));
        vetting
    }
}

fn writer(name: &str) -> Writer {
    let signature = sign(name, Timestamp::from_millis(0));
    Writer {
        staff: signature.staff,
        device: signature.device,
        role: WriterRole::Supervisor,
        districts: vec![DistrictId::new("district-norr").unwrap()],
    }
}

fn peer_name(index: usize) -> String {
    format!("replica-{index}")
}

struct Sim {
    net: MemoryNetwork<Policy>,
    known: Known,
    counter: u64,
    attempted: usize,
    succeeded: usize,
    /// Changes the hostile phone made that the server must refuse.
    hostile_changes: usize,
}

impl Sim {
    fn new() -> Self {
        let mut net = MemoryNetwork::<Policy>::default();
        net.now = at("2024-02-01", 8);
        let mut server = Policy {
            vets: true,
            ..Policy::default()
        };
        for (index, name) in STAFF.iter().enumerate().skip(1) {
            server
                .writers
                .insert(PeerId::new(peer_name(index)).unwrap(), writer(name));
        }
        server.writers.insert(
            PeerId::new(peer_name(HOSTILE)).unwrap(),
            Writer {
                role: WriterRole::Staff,
                ..writer(HOSTILE_STAFF)
            },
        );
        net.add_peer_with(&peer_name(0), Role::Server, server);
        for index in 1..=HOSTILE {
            net.add_peer(&peer_name(index), Role::Client);
        }
        let seed = household(1);
        net.peers[0].insert_document(DOC, seed.into_automerge());
        for client in 1..=HOSTILE {
            net.connect(client, 0);
            net.input(client, Input::Want { document: DOC });
        }
        net.run_until_quiet();
        Sim {
            net,
            known: Known {
                members: vec![member()],
                ..Known::default()
            },
            counter: 0,
            attempted: 0,
            succeeded: 0,
            hostile_changes: 0,
        }
    }

    /// The hostile phone: now an honest visit, now a change the server must refuse.
    fn hostile_act(&mut self, kind: u8, a: u32) {
        self.attempted += 1;
        self.net.now = self.net.now.plus_minutes(1);
        let now = self.net.now;
        let fresh = self.fresh();
        let mallory = sign(HOSTILE_STAFF, now);
        let visit = pick(&self.known.visits, a);
        let Some(doc) = self.net.peers[HOSTILE].document_mut(&DOC) else {
            return;
        };
        let object = |tx: &lots_core::automerge::transaction::Transaction<'_>, key: &str| match tx
            .get(ROOT, key)
        {
            Ok(Some((lots_core::automerge::Value::Object(_), id))) => Some(id),
            _ => None,
        };
        let mut tx = doc.transaction();
        let signed = match kind % 6 {
            0 => {
                // An honest visit (refused all the same once it depends on a refused change).
                tx.rollback();
                let visit = VisitId::from_random(fresh);
                let mut household = HouseholdDoc::new(&mut *doc);
                let record = visit_record(now.plus_minutes(-30), HOSTILE_STAFF, "ärligt");
                if household.record_visit(&mallory, &visit, record).is_ok() {
                    self.net
                        .input(HOSTILE, Input::LocalChange { document: DOC });
                }
                return;
            }
            1 => {
                let (Some(visits), Some(visit)) = (object(&tx, "visits"), visit) else {
                    tx.rollback();
                    return;
                };
                if tx.delete(&visits, visit.as_str()).is_err() {
                    tx.rollback();
                    return;
                }
                Some(mallory)
            }
            2 => {
                tx.put(ROOT, "stash", "hidden").unwrap();
                Some(mallory)
            }
            3 => {
                tx.put(ROOT, "stash", "as anna").unwrap();
                Some(sign("u-anna", now))
            }
            4 => {
                let Some(profile) = object(&tx, "profile") else {
                    tx.rollback();
                    return;
                };
                tx.put(&profile, "unit", "utan underskrift").unwrap();
                None
            }
            _ => {
                let Some(profile) = object(&tx, "profile") else {
                    tx.rollback();
                    return;
                };
                tx.put(&profile, "assigned_staff", HOSTILE_STAFF).unwrap();
                Some(mallory)
            }
        };
        match signed {
            Some(signature) => tx.commit_with(signature.commit_options("hostile")),
            None => tx.commit(),
        };
        self.hostile_changes += 1;
        self.net
            .input(HOSTILE, Input::LocalChange { document: DOC });
    }

    fn fresh(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn act(&mut self, replica: usize, kind: u8, a: u32, b: u32) {
        if replica == HOSTILE {
            self.hostile_act(kind, a);
            return;
        }
        self.net.now = self.net.now.plus_minutes(1);
        let now = self.net.now;
        let signature = sign(STAFF[replica], now);
        let fresh = self.fresh();
        let known = &mut self.known;
        let Some(automerge) = self.net.peers[replica].document_mut(&DOC) else {
            return;
        };
        let mut doc = HouseholdDoc::new(automerge);
        let heads = doc.heads();
        let today = now.date();
        let result: Result<(), ActionError> =
            match kind {
                0 | 1 => {
                    let visit = VisitId::from_random(fresh);
                    let planned = now.plus_minutes(i64::from(a % 20_000) - 10_000);
                    known.visits.push(visit.clone());
                    doc.schedule_visit(&signature, &visit, planned, &staff(STAFF[replica]))
                }
                2 | 3 => {
                    let visit = if kind == 2 {
                        pick(&known.visits, a)
                    } else {
                        None
                    }
                    .unwrap_or_else(|| {
                        let visit = VisitId::from_random(fresh);
                        known.visits.push(visit.clone());
                        visit
                    });
                    let mut record = visit_record(
                        now.plus_minutes(-i64::from(a % 600)),
                        STAFF[replica],
                        WORDS[b as usize % WORDS.len()],
                    );
                    record.duration_minutes = 15 + b % 120;
                    record.topics = Topic::ALL
                        .iter()
                        .copied()
                        .filter(|topic| (a >> (*topic as u32 % 20)) & 1 == 1)
                        .collect();
                    record.present = known
                        .members
                        .iter()
                        .filter(|_| !b.is_multiple_of(3))
                        .cloned()
                        .collect();
                    doc.record_visit(&signature, &visit, record)
                }
                4 => pick(&known.visits, a)
                    .map_or(Ok(()), |visit| doc.cancel_visit(&signature, &visit)),
                5 => pick(&known.visits, a)
                    .map_or(Ok(()), |visit| doc.mark_no_show(&signature, &visit)),
                6..=8 => {
                    // Concurrent splices of the same notes: the plan notes or a visit's.
                    let note = if kind == 6 {
                        NoteRef::Plan
                    } else {
                        pick(&known.visits, a).map_or(NoteRef::Plan, NoteRef::Visit)
                    };
                    match doc.note_len(&note) {
                        Ok(Some(len)) => {
                            let position = a as usize % (len + 1);
                            let delete = (b as usize % 4).min(len - position);
                            doc.splice_note(
                                &signature,
                                &note,
                                position,
                                delete,
                                WORDS[b as usize % WORDS.len()],
                            )
                        }
                        _ => doc.splice_note(&signature, &note, 0, 0, "x"),
                    }
                }
                9 => match pick(&known.visits, a) {
                    Some(visit) => {
                        let follow_up = FollowUpId::from_random(fresh);
                        known.follow_ups.push((visit.clone(), follow_up.clone()));
                        let owner = if b.is_multiple_of(2) {
                            Owner::Agency(Agency::ALL[b as usize % Agency::ALL.len()])
                        } else {
                            Owner::Member(member())
                        };
                        doc.add_follow_up(
                            &signature,
                            &visit,
                            &follow_up,
                            NewFollowUp {
                                description: "Ring".into(),
                                owner,
                                agency: None,
                                due_on: today.plus_days(i64::from(b % 30)),
                            },
                        )
                    }
                    None => Ok(()),
                },
                10 => pick(&known.follow_ups, a).map_or(Ok(()), |(visit, follow_up)| {
                    doc.complete_follow_up(&signature, &visit, &follow_up, today)
                }),
                11 => {
                    let goal = GoalId::from_random(fresh);
                    known.goals.push(goal.clone());
                    let member = pick(&known.members, b).unwrap_or_else(member);
                    doc.add_goal(
                        &signature,
                        &goal,
                        NewGoal {
                            member,
                            area: GoalArea::ALL[a as usize % GoalArea::ALL.len()],
                            description: "Mål".into(),
                        },
                    )
                }
                12 => match pick(&known.goals, a) {
                    Some(goal) => {
                        let step = StepId::from_random(fresh);
                        known.steps.push((goal.clone(), step.clone()));
                        doc.add_step(
                            &signature,
                            &goal,
                            &step,
                            NewStep {
                                description: "Steg".into(),
                                owner: Owner::Staff(staff(STAFF[replica])),
                                due_on: None,
                            },
                        )
                    }
                    None => Ok(()),
                },
                13 => pick(&known.goals, a).map_or(Ok(()), |goal| {
                    doc.set_goal_status(
                        &signature,
                        &goal,
                        GoalStatus::ALL[b as usize % GoalStatus::ALL.len()],
                        today,
                    )
                }),
                14 => pick(&known.steps, a).map_or(Ok(()), |(goal, step)| {
                    doc.set_step_status(
                        &signature,
                        &goal,
                        &step,
                        StepStatus::ALL[b as usize % StepStatus::ALL.len()],
                        today,
                    )
                }),
                15 => doc.assign_staff(
                    &signature,
                    (!b.is_multiple_of(3))
                        .then(|| staff(STAFF[a as usize % REPLICAS]))
                        .as_ref(),
                ),
                16 => {
                    let member = MemberId::from_random(fresh);
                    known.members.push(member.clone());
                    doc.add_member(
                        &signature,
                        &member,
                        MemberDetails {
                            name: format!("Person {a}"),
                            birth_date: date("2000-01-01").plus_days(i64::from(a % 8000)),
                            gender: Gender::ALL[b as usize % 3],
                            residence_permit_on: Some(date("2023-06-01")),
                            born_outside_eea: true,
                            registered_in_district: !b.is_multiple_of(5),
                            languages: vec!["so".into()],
                            interpreter_language: None,
                        },
                    )
                }
                17 => doc.update_housing(
                    &signature,
                    &format!("Gata {}", a % 9),
                    "",
                    HousingForm::ALL[b as usize % HousingForm::ALL.len()],
                ),
                18 => {
                    if b.is_multiple_of(4) {
                        doc.close_case(&signature, CloseReason::ALL[a as usize % 4], today)
                    } else {
                        doc.reopen_case(&signature)
                    }
                }
                _ => match doc.conflicts() {
                    Ok(conflicts) => match pick(&conflicts, a) {
                        Some(conflict) => {
                            let value = conflict.values[b as usize % conflict.values.len()]
                                .value
                                .clone();
                            doc.resolve_conflict(&signature, &conflict.field, &value)
                        }
                        None => Ok(()),
                    },
                    Err(error) => Err(error.into()),
                },
            };
        self.attempted += 1;
        match result {
            Ok(()) => {
                self.succeeded += 1;
                self.net
                    .input(replica, Input::LocalChange { document: DOC });
            }
            Err(ActionError::Document(error)) => panic!("the document broke: {error}"),
            Err(_) => assert_eq!(
                HouseholdDoc::new(self.net.peers[replica].document(&DOC).unwrap()).heads(),
                heads,
                "a refused action changed the document"
            ),
        }
    }

    fn links_of(&self, replica: usize) -> Vec<usize> {
        (0..self.net.links.len())
            .filter(|link| {
                self.net.links[*link].client == replica || self.net.links[*link].server == replica
            })
            .collect()
    }

    /// The replica saves everything, stops and starts again from its saved bytes.
    fn restart(&mut self, replica: usize) {
        for link in self.links_of(replica) {
            self.net.disconnect(link);
        }
        let old = &self.net.peers[replica];
        let Some(doc) = old.document(&DOC) else {
            return;
        };
        let bytes = doc.save();
        let heads = doc.get_heads();
        let dirty: Vec<DocumentId> = old.dirty_documents().copied().collect();
        let states: Vec<(PeerId, Vec<u8>)> = (0..=HOSTILE)
            .map(|other| PeerId::new(format!("replica-{other}")).unwrap())
            .filter_map(|peer| {
                old.export_sync_state(&peer, &DOC)
                    .map(|state| (peer, state))
            })
            .collect();
        let role = if replica == 0 {
            Role::Server
        } else {
            Role::Client
        };
        // The server's tables (writers, actor bindings, quarantine) outlive a restart.
        let policy = std::mem::take(self.net.peers[replica].policy_mut());
        let mut peer = SyncPeer::with_policy(
            PeerConfig::new(PeerId::new(peer_name(replica)).unwrap(), role),
            policy,
        );
        // Every run of every replica writes with its own actor id, as every app start does.
        let mut actor_bytes = [0xa0; 16];
        actor_bytes[..8].copy_from_slice(&self.fresh().to_le_bytes());
        let actor = lots_core::automerge::ActorId::from(actor_bytes.as_slice());
        let loaded = HouseholdDoc::load(&bytes, actor).expect("saved bytes load");
        assert_eq!(loaded.heads(), heads, "a save/load round trip lost changes");
        peer.insert_document(DOC, loaded.into_automerge());
        for document in dirty {
            peer.mark_dirty(document);
        }
        for (other, state) in states {
            peer.import_sync_state(other, DOC, &state)
                .expect("saved sync state loads");
        }
        self.net.peers[replica] = peer;
    }

    fn run(&mut self, steps: &[Step]) {
        for step in steps {
            match *step {
                Step::Act {
                    replica,
                    kind,
                    a,
                    b,
                } => self.act(replica, kind, a, b),
                Step::Deliver {
                    link,
                    to_server,
                    pick,
                    duplicate,
                } => {
                    let direction = if to_server {
                        Direction::ToServer
                    } else {
                        Direction::ToClient
                    };
                    let pending = self.net.links[link].pending(direction);
                    if pending > 0 {
                        self.net.deliver(link, direction, pick % pending, duplicate);
                    }
                }
                Step::Drop {
                    link,
                    to_server,
                    pick,
                } => {
                    let direction = if to_server {
                        Direction::ToServer
                    } else {
                        Direction::ToClient
                    };
                    let pending = self.net.links[link].pending(direction);
                    if pending > 0 {
                        self.net.drop_message(link, direction, pick % pending);
                        // The transport notices the loss and drops the connection; a later
                        // step (or the final sync) retries.
                        self.net.disconnect(link);
                    }
                }
                Step::Reconnect { link } => self.net.reconnect(link),
                Step::Restart { replica } => self.restart(replica),
            }
        }
        // Final full sync: every device reconnects (a fresh session, as after coverage
        // returns) and every message is delivered in order.
        for link in 0..self.net.links.len() {
            self.net.disconnect(link);
            self.net.reconnect(link);
        }
        let events_before = self.net.events.len();
        self.net.run_until_quiet();
        for (peer, event) in &self.net.events[events_before..] {
            if let Output::Rejected { error, .. } = event {
                panic!("replica {peer} refused a message in the final sync: {error}");
            }
        }
        // No honest change is ever refused, in the run or the final sync: its phone's later
        // changes would all depend on it and be refused too.
        let hostile = PeerId::new(peer_name(HOSTILE)).unwrap();
        for (peer, event) in &self.net.events {
            if let Output::Refused {
                peer: sender,
                changes,
                ..
            } = event
            {
                assert!(
                    *sender == hostile,
                    "replica {peer} refused changes of {sender}: {changes:?}"
                );
            }
        }
        for (index, link) in self.net.links.iter().enumerate() {
            // The server closes the hostile phone's link whenever it refuses its changes.
            assert!(
                index == HOSTILE_LINK || link.is_up(),
                "link {index} went down in the final sync"
            );
        }
    }

    fn check_converged(&self) -> Result<(), TestCaseError> {
        let reference = HouseholdDoc::new(self.net.peers[0].document(&DOC).unwrap());
        let household = reference
            .household()
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        let mut heads = reference.heads();
        heads.sort();
        // Nothing the server refused is in its copy.
        let server = self.net.peers[0].document(&DOC).unwrap();
        prop_assert!(server.get(ROOT, "stash").unwrap().is_none());
        prop_assert!(
            household
                .profile
                .assigned_staff
                .as_ref()
                .map(StaffId::as_str)
                != Some(HOSTILE_STAFF)
        );
        let conflicts = reference
            .conflicts()
            .map_err(|error| TestCaseError::fail(error.to_string()))?;
        for replica in 1..REPLICAS {
            let doc = HouseholdDoc::new(self.net.peers[replica].document(&DOC).unwrap());
            let mut replica_heads = doc.heads();
            replica_heads.sort();
            prop_assert_eq!(
                &replica_heads,
                &heads,
                "replica {} has other heads",
                replica
            );
            prop_assert_eq!(
                &doc.household().unwrap(),
                &household,
                "replica {} reads differently",
                replica
            );
            prop_assert_eq!(&doc.conflicts().unwrap(), &conflicts);
            prop_assert_eq!(
                self.net.peers[replica].status().dirty_documents,
                0,
                "replica {} still has unsynced changes",
                replica
            );
        }
        Ok(())
    }
}

#[test]
fn replicas_converge_under_random_actions_and_delivery() {
    let seed = std::env::var("LOTS_CONVERGENCE_SEED")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or_else(|| {
            use std::hash::{BuildHasher, RandomState};
            RandomState::new().hash_one(0u8)
        });
    let cases = env_number("LOTS_CONVERGENCE_CASES", 8) as u32;
    let n_steps = env_number("LOTS_CONVERGENCE_STEPS", 2_500) as usize;
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: env_number("LOTS_CONVERGENCE_SHRINK", 200) as u32,
        ..Config::default()
    };
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        config,
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let totals = std::cell::Cell::new((0usize, 0usize));
    let hostile = std::cell::Cell::new(0usize);
    let result = runner.run(&prop::collection::vec(step(), n_steps), |steps| {
        let mut sim = Sim::new();
        sim.run(&steps);
        let (attempted, succeeded) = totals.get();
        totals.set((attempted + sim.attempted, succeeded + sim.succeeded));
        hostile.set(hostile.get() + sim.hostile_changes);
        sim.check_converged()
    });
    let (attempted, succeeded) = totals.get();
    println!(
        "{attempted} actions attempted ({succeeded} accepted), {} hostile changes, over {cases} cases, seed {seed}",
        hostile.get()
    );
    if let Err(error) = result {
        panic!("replicas diverged; replay with LOTS_CONVERGENCE_SEED={seed}: {error}");
    }
    // The default run (8 × 2,500 steps) is sized to take at least 10,000 actions.
    let default_size = cases as usize * n_steps >= 20_000;
    assert!(
        !default_size || attempted >= 10_000,
        "only {attempted} actions were attempted"
    );
}

/// A change the server sets aside until what it depends on arrives is vetted again as the
/// phone that sent it: a colleague's message arriving meanwhile neither takes the blame for it
/// (refused, the colleague's connection closed) nor gets it quarantined as a forgery.
#[test]
fn a_change_set_aside_is_vetted_as_the_phone_that_sent_it() {
    let mut sim = Sim::new();
    let (first_phone, colleague) = (1, 2);
    let (first_link, colleague_link) = (0, 1);
    // Two changes on the first phone, the second depending on the first, each in a message.
    sim.act(first_phone, 0, 1, 1);
    sim.act(first_phone, 17, 2, 2);
    let queued = sim.net.links[first_link].pending(Direction::ToServer);
    assert_eq!(queued, 2, "each change goes in a message of its own");
    // The second message arrives first: its change waits for the first.
    sim.net
        .deliver(first_link, Direction::ToServer, queued - 1, false);
    // A colleague's change arrives meanwhile.
    sim.act(colleague, 0, 3, 3);
    while sim.net.links[colleague_link].pending(Direction::ToServer) > 0 {
        sim.net
            .deliver(colleague_link, Direction::ToServer, 0, false);
    }
    sim.net.run_until_quiet();
    for (peer, event) in &sim.net.events {
        assert!(
            !matches!(event, Output::Refused { .. } | Output::Rejected { .. }),
            "replica {peer}: {event:?}"
        );
    }
    assert!(sim.net.links.iter().all(|link| link.is_up()));
    sim.check_converged().unwrap();
}
