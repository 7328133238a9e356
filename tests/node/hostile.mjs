// A hostile JavaScript automerge-repo client (the npm packages, 2.5.x), driven by
// tests/tests/hostile_js.rs. Signed in as a staff member, it tries against one of their
// households what the server must refuse, each attempt on a fresh connection with a fresh
// sync token, and prints one JSON line per attempt:
//
//   {"attempt":…,"changes":[<hash of each change it sent>],"code":<close code or null>,
//    "reason":<close reason or null>,"answer":<"doc-unavailable" or null>,"ms":…}
//
// then {"done":true}. `code` is null when the server did not close the socket within 20 s.
//
//   node hostile.mjs <http-base> <session-token> <household-url> <outside-household-url>
//
// The attempts: a change signed as someone else; an unsigned change; deleting every visit;
// replacing the plan with a string; setting the district and the assigned staff; maps nested
// 100,000 deep; a 50 MB text; and a household outside the caseload, forged under its id.
// Most are written as any JavaScript client writes, with `handle.change`. The deep nesting
// is encoded by hand and sent as a sync message of its own: JavaScript's Automerge cannot
// hold it (its patches carry the whole path, so 100,000 levels cost 5·10⁹ path entries).

import * as A from "@automerge/automerge";
import { Repo, ImmutableString, parseAutomergeUrl } from "@automerge/automerge-repo";

const { Uint } = A;
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const [httpBase, sessionToken, householdUrl, outsideUrl] = process.argv.slice(2);
if (!outsideUrl) {
  console.error("usage: node hostile.mjs <http-base> <session-token> <household-url> <outside-url>");
  process.exit(2);
}

const ATTEMPT_MS = 45_000;
const CLOSE_WAIT_MS = 20_000;
const print = (value) => console.log(JSON.stringify(value));
// A hostile client goes on after its own errors (a send on a socket the server closed).
process.on("uncaughtException", (error) => console.error(`hostile.mjs: ${error.stack ?? error}`));
process.on("unhandledRejection", (error) => console.error(`hostile.mjs: ${error?.stack ?? error}`));

const api = async (method, path) => {
  const response = await fetch(`${httpBase}${path}`, {
    method,
    headers: { authorization: `Bearer ${sessionToken}` },
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status}`);
  return response.json();
};

const me = await api("GET", "/api/me");
const staff = me.user.id;
const device = me.device_id;
const offset = me.server_time - Date.now();

const signature = (action, as = staff) => {
  const at = Date.now() + offset;
  return {
    message: JSON.stringify({ staff: as, device, at, action }),
    time: Math.floor(at / 1000),
  };
};
const day = (millis) => new Date(millis).toISOString().slice(0, 10);
const newId = (prefix) => `${prefix}-hostile${Math.random().toString(16).slice(2, 12)}`;

/** Adds a visit that is valid in every field, so that only what an attempt does wrong can
 * be refused. Core reads a duration only from an Automerge uint, which JavaScript writes
 * only by assigning a `Uint` directly (nested in an object literal it becomes a map). */
const addVisit = (d, notes) => {
  const id = newId("v");
  d.visits[id] = {
    planned_at: Date.now() + offset - 30 * 60_000,
    staff,
    status: "done",
    present: {},
    interpreter_language: null,
    interpreter_mode: null,
    duration_minutes: null,
    topics: { forms: true },
    notes,
    follow_ups: {},
  };
  d.visits[id].duration_minutes = new Uint(30);
};

/** A WebSocket adapter that reports how the server closed its socket. It never reconnects
 * while the attempt runs: its sync token opened one socket only. */
class WatchedAdapter extends WebSocketClientAdapter {
  constructor(url) {
    super(url, 600_000);
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
  }
  connect(peerId, peerMetadata) {
    super.connect(peerId, peerMetadata);
    this.socket.addEventListener("close", (event) =>
      this.resolveClosed({ code: event.code, reason: String(event.reason) }),
    );
  }
}

const within = (ms, promise, what) =>
  Promise.race([
    promise,
    new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms)),
  ]);

/** Runs one attempt on a fresh connection: `act(repo, adapter)` returns the hashes of the
 * changes it sent and, optionally, a promise of an answer other than a close. */
async function attempt(name, act) {
  const started = Date.now();
  const line = { attempt: name, changes: [], code: null, reason: null, answer: null };
  let repo;
  let adapter;
  try {
    const { token } = await api("POST", "/api/sync-token");
    adapter = new WatchedAdapter(`${httpBase.replace(/^http/, "ws")}/sync?token=${token}`);
    repo = new Repo({ network: [adapter], sharePolicy: async () => true });
    const { changes, answered } = await within(ATTEMPT_MS, act(repo, adapter), name);
    line.changes = changes;
    const outcome = await Promise.race([
      adapter.closed,
      answered ?? new Promise(() => {}),
      new Promise((resolve) => setTimeout(() => resolve({}), CLOSE_WAIT_MS)),
    ]);
    Object.assign(line, outcome);
  } catch (error) {
    line.error = String(error?.message ?? error);
  }
  line.ms = Date.now() - started;
  print(line);
  try {
    await within(5_000, repo?.shutdown() ?? Promise.resolve(), "shutdown");
  } catch {
    // The socket is gone either way.
  }
}

/** Finds the household and makes one change with `handle.change`; returns its hash. */
const change = (edit, options) => async (repo) => {
  const handle = await repo.find(householdUrl);
  const before = A.getHeads(handle.doc());
  handle.change(edit, options);
  const changes = A.getHeads(handle.doc()).filter((hash) => !before.includes(hash));
  return { changes };
};

await attempt(
  "signed-as-other",
  change((d) => {
    addVisit(d, "Skrivet i någon annans namn.");
  }, signature("record_visit", "u-omar")),
);

await attempt(
  "unsigned",
  change((d) => {
    addVisit(d, "Osignerad ändring.");
  }, {}),
);

await attempt(
  "deletes-visits",
  change((d) => {
    for (const id of Object.keys(d.visits)) delete d.visits[id];
  }, signature("record_visit")),
);

await attempt(
  "replaces-plan",
  change((d) => {
    d.plan = "ingen plan";
  }, signature("splice_note")),
);

await attempt(
  "sets-district-and-staff",
  change((d) => {
    d.profile.district = "district-kungsholmen";
    d.profile.assigned_staff = "u-omar";
  }, signature("assign_staff")),
);

await attempt("nests-deep", async (repo, adapter) => {
  const handle = await repo.find(householdUrl);
  const doc = handle.doc();
  // A new author (actor) whose first change nests maps 100,000 deep under a new visit.
  const actor = [...crypto.getRandomValues(new Uint8Array(16))]
    .map((byte) => byte.toString(16).padStart(2, "0"))
    .join("");
  const startOp = Math.max(...A.getChangesMetaSince(doc, []).map((meta) => meta.maxOp)) + 1;
  const ops = [{ action: "makeMap", obj: A.getObjectId(doc.visits), key: newId("v"), pred: [] }];
  for (let level = 1; level < 100_000; level++) {
    ops.push({ action: "makeMap", obj: `${startOp + level - 1}@${actor}`, key: "n", pred: [] });
  }
  const { message, time } = signature("record_visit");
  const bytes = A.encodeChange({
    actor,
    author: null,
    seq: 1,
    startOp,
    time,
    message,
    deps: A.getHeads(doc),
    ops,
  });
  const { hash } = A.decodeChange(bytes);
  const data = A.encodeSyncMessage({
    heads: [hash],
    need: [],
    have: [{ lastSync: A.getHeads(doc), bloom: new Uint8Array(0) }],
    changes: [bytes],
  });
  adapter.send({
    type: "sync",
    senderId: repo.peerId,
    targetId: adapter.remotePeerId,
    documentId: handle.documentId,
    data,
  });
  return { changes: [hash] };
});

await attempt(
  "huge-text",
  change((d) => {
    // 50 MB of note in one string: as Text it would cost this client gigabytes, so it goes
    // as a plain string, which the schema also reads for notes.
    const line = "Anteckning som aldrig tar slut. ";
    addVisit(d, new ImmutableString(line.repeat(Math.ceil(50e6 / line.length))));
  }, signature("record_visit")),
);

await attempt("outside-caseload", async (repo, adapter) => {
  // The household is not in this caseload, so the server will not send it. Forge one with
  // the same id — a whole household, signed, in this staff member's district — and offer it.
  const { documentId } = parseAutomergeUrl(outsideUrl);
  const answered = new Promise((resolve) =>
    adapter.on("message", (message) => {
      if (message.type === "doc-unavailable" && message.documentId === documentId) {
        resolve({ answer: "doc-unavailable" });
      }
    }),
  );
  const now = Date.now() + offset;
  const forged = A.change(A.init(), signature("create_household"), (d) => {
    d.schema_version = 1;
    d.profile = {
      district: me.user.districts[0],
      address: "Falsk gata 1",
      unit: "",
      housing_form: "own_housing",
      arrival_route: "own_housing",
      arrived_on: day(now - 86_400_000),
      opened_on: day(now),
      assigned_staff: staff,
      status: "active",
      close_reason: null,
      closed_on: null,
    };
    d.members = {};
    d.visits = {};
    d.plan = { goals: {}, notes: "" };
  });
  const handle = repo.import(A.save(forged), { docId: documentId });
  handle.doneLoading();
  return { changes: A.getHeads(forged), answered };
});

print({ done: true });
process.exit(0);
