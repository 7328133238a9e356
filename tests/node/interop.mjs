// The JavaScript automerge-repo client (the npm packages, 2.5.x) against the Lots server,
// driven by tests/tests/interop.rs. It writes the way a JavaScript client writes: plain
// JavaScript values with @automerge/automerge's defaults (a string becomes Text, a number an
// Automerge int), keyed maps for entries, sets as maps to `true`, every change signed with
// the Lots signature the server asks for.
//
//   node interop.mjs create <ws-url> <staff> <device> <district>
//       creates a whole household in one signed change (the first change of a household
//       must hold all of it), brings it into the repo under a fresh document id, prints
//       {"ok":true,"url":…,"heads":[…],"ids":{},"household":{…}} and stays connected until stdin
//       closes; then prints {"ok":true,"closes":[…]}: the close frames the server sent.
//   node interop.mjs edit <ws-url> <staff> <device> <doc-url>
//       finds the household and edits it as a person would, one signed change per action
//       (a member with languages, a visit with who was present, topics and notes, a
//       follow-up, a goal with a step, plan and visit notes typed into, a topic unticked,
//       scalar fields changed); prints the same two lines as `create`, the first with the
//       ids of the entries it added.
//   node interop.mjs find <ws-url> <doc-url> <visit>
//       waits until the document has the visit and prints its notes and status.
//
// `household` is the household as this client wrote it, in the JSON form of core's
// `Household` (sets as arrays, Text as strings), for the test to compare with what core reads.
// <staff> and <device> may be `-`: then they are read from GET /api/me, which needs the
// session token in LOTS_SESSION_TOKEN.

import * as A from "@automerge/automerge";
import {
  Repo,
  generateAutomergeUrl,
  parseAutomergeUrl,
  splice,
  updateText,
} from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const [mode, wsUrl, ...rest] = process.argv.slice(2);

const print = (value) => console.log(JSON.stringify(value));
const fail = (message) => {
  print({ ok: false, error: message });
  process.exit(1);
};
setTimeout(() => fail("timed out after 120 s"), 120_000).unref();

/** A WebSocket adapter that remembers how the server closed its sockets. Its retry interval
 * is long: a sync token opens one socket only, so reconnecting could only fail. */
class WatchedAdapter extends WebSocketClientAdapter {
  closes = [];
  constructor(url) {
    super(url, 600_000);
  }
  connect(peerId, peerMetadata) {
    super.connect(peerId, peerMetadata);
    this.socket.addEventListener("close", (event) => {
      this.closes.push({ code: event.code, reason: String(event.reason) });
      console.error(`interop.mjs: the server closed the socket: ${event.code} ${event.reason}`);
    });
  }
}

const adapter = new WatchedAdapter(wsUrl);
const repo = new Repo({ network: [adapter], sharePolicy: async () => true });

/** Who signs: from the command line, or from GET /api/me. */
async function signer(staff, device) {
  if (staff !== "-" && device !== "-") return { staff, device, offset: 0 };
  const me = await fetch(wsUrl.replace(/^ws/, "http").replace(/\/sync.*$/, "/api/me"), {
    headers: { authorization: `Bearer ${process.env.LOTS_SESSION_TOKEN}` },
  }).then((response) => response.json());
  return { staff: me.user.id, device: me.device_id, offset: me.server_time - Date.now() };
}

/** Change options carrying the Lots signature: who, on which device, when, which action. */
function signed(who, action) {
  const at = Date.now() + who.offset;
  return {
    message: JSON.stringify({ staff: who.staff, device: who.device, at, action }),
    time: Math.floor(at / 1000),
  };
}

/** A fresh entry id of the form core's ids take. */
const newId = (prefix) => `${prefix}-js${Math.random().toString(16).slice(2, 14)}`;

/** `YYYY-MM-DD` of an instant, in UTC as core's dates are. */
const day = (millis) => new Date(millis).toISOString().slice(0, 10);

/** Plain JSON values: strings core wrote as scalars (immutable strings here) and Text alike
 * as strings, timestamps as milliseconds, big integers as numbers. */
function plain(value) {
  if (A.isImmutableString(value)) return value.toString();
  if (value instanceof Date) return value.getTime();
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)]));
  }
  return value;
}

/** The household as core's `Household` serialises to JSON. */
function asCore(doc) {
  const household = plain(A.toJS(doc));
  delete household.schema_version;
  for (const visit of Object.values(household.visits)) {
    visit.present = Object.keys(visit.present).sort();
    visit.topics = Object.keys(visit.topics).sort();
  }
  return household;
}

/** Prints the result, then waits for stdin to close and reports the server's close frames. */
function report(handle, ids = {}) {
  const doc = handle.doc();
  print({ ok: true, url: handle.url, heads: A.getHeads(doc), ids, household: asCore(doc) });
  process.stdin.resume();
  process.stdin.on("end", () => {
    print({ ok: true, closes: adapter.closes });
    process.exit(0);
  });
}

if (mode === "create") {
  const [staff, device, district] = rest;
  const who = await signer(staff, device);
  const now = Date.now() + who.offset;
  // The first change holds the whole household, as core's `create_household` writes it.
  const doc = A.change(A.init(), signed(who, "create_household"), (d) => {
    d.schema_version = 1;
    d.profile = {
      district,
      address: "Sveavägen 12",
      unit: "1102",
      housing_form: "transitional_housing",
      arrival_route: "quota_refugee",
      arrived_on: day(now - 40 * 86_400_000),
      opened_on: day(now - 30 * 86_400_000),
      assigned_staff: who.staff,
      status: "active",
      close_reason: null,
      closed_on: null,
    };
    d.members = {};
    d.visits = {};
    d.plan = { goals: {}, notes: "" };
  });
  const { documentId } = parseAutomergeUrl(generateAutomergeUrl());
  const handle = repo.import(A.save(doc), { docId: documentId });
  // `import` with an id leaves the handle loading; it has all there is, as `create` says.
  handle.doneLoading();
  report(handle);
} else if (mode === "edit") {
  const [staff, device, docUrl] = rest;
  const who = await signer(staff, device);
  const handle = await repo.find(docUrl);
  const now = Date.now() + who.offset;
  const member = newId("m");
  const visit = newId("v");
  const followUp = newId("f");
  const goal = newId("g");
  const step = newId("s");
  handle.change((d) => {
    d.members[member] = {
      name: "Amina Yusuf",
      birth_date: "1988-04-02",
      gender: "female",
      residence_permit_on: day(now - 60 * 86_400_000),
      born_outside_eea: true,
      registered_in_district: true,
      languages: ["so", "ar"],
      interpreter_language: "so",
    };
  }, signed(who, "add_member"));
  handle.change((d) => {
    d.visits[visit] = {
      planned_at: now - 50 * 60_000,
      staff: who.staff,
      status: "done",
      present: { [member]: true },
      interpreter_language: "so",
      interpreter_mode: "phone",
      duration_minutes: 50,
      topics: { letters: true, budget: true, sfi: true },
      notes: "Gick igenom brev från Försäkringskassan.",
      follow_ups: {},
    };
  }, signed(who, "record_visit"));
  handle.change((d) => {
    d.visits[visit].follow_ups[followUp] = {
      description: "Ansök om hemutrustningslån",
      owner_kind: "agency",
      owner: null,
      agency: "csn",
      due_on: day(now + 14 * 86_400_000),
      done_on: null,
    };
  }, signed(who, "add_follow_up"));
  handle.change((d) => {
    d.plan.goals[goal] = {
      member,
      area: "sfi",
      description: "Börja på SFI under hösten",
      status: "in_progress",
      set_on: day(now),
      reached_on: null,
      steps: {
        [step]: {
          description: "Anmälan till SFI",
          owner_kind: "member",
          owner: member,
          agency: null,
          due_on: day(now + 7 * 86_400_000),
          status: "open",
          done_on: null,
          position: 1,
        },
      },
    };
  }, signed(who, "add_goal"));
  // Notes are typed into, not replaced: a splice, then an edit by diff.
  handle.change((d) => {
    splice(d, ["plan", "notes"], 0, 0, "Planen: SFI först, sedan arbete.");
  }, signed(who, "splice_note"));
  handle.change((d) => {
    updateText(d, ["plan", "notes"], "Planen: SFI först, sedan praktik och arbete.");
  }, signed(who, "splice_note"));
  handle.change((d) => {
    const notes = d.visits[visit].notes;
    splice(d, ["visits", visit, "notes"], notes.length, 0, " Tolk per telefon.");
  }, signed(who, "splice_note"));
  handle.change((d) => {
    delete d.visits[visit].topics.budget;
  }, signed(who, "record_visit"));
  handle.change((d) => {
    d.profile.unit = "1204";
    d.members[member].interpreter_language = null;
    d.visits[visit].duration_minutes = 55;
  }, signed(who, "update_housing"));
  handle.change((d) => {
    d.plan.goals[goal].steps[step].status = "done";
    d.plan.goals[goal].steps[step].done_on = day(now);
    d.visits[visit].follow_ups[followUp].done_on = day(now);
  }, signed(who, "set_step_status"));
  report(handle, { member, visit, follow_up: followUp, goal, step });
} else if (mode === "find") {
  const [docUrl, visitId] = rest;
  const handle = await repo.find(docUrl);
  const visit = () => handle.doc()?.visits?.[visitId];
  const found = () => {
    const value = visit();
    if (value) {
      print({ ok: true, notes: String(value.notes), status: String(value.status) });
      process.exit(0);
    }
  };
  handle.on("change", found);
  found();
} else {
  fail(`unknown mode ${mode}`);
}
