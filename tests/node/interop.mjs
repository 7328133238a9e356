// The JavaScript automerge-repo client (the npm packages, 2.5.x) against the Lots server,
// driven by tests/tests/interop.rs. Prints one JSON line with its result.
//
//   node interop.mjs create <ws-url>                  create a document, print its URL, stay
//                                                     connected until stdin closes
//   node interop.mjs find <ws-url> <doc-url> <visit>  wait until the document has the visit,
//                                                     print its notes

import { Repo } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const [mode, wsUrl, docUrl, visitId] = process.argv.slice(2);
const repo = new Repo({
  network: [new WebSocketClientAdapter(wsUrl)],
  sharePolicy: async () => true,
});

const fail = (message) => {
  console.log(JSON.stringify({ ok: false, error: message }));
  process.exit(1);
};
setTimeout(() => fail("timed out after 20 s"), 20_000).unref();

if (mode === "create") {
  const handle = repo.create({ title: "skapad i node", notes: "" });
  handle.change((doc) => {
    doc.notes = "Anteckning från JavaScript-klienten.";
  });
  console.log(JSON.stringify({ ok: true, url: handle.url }));
  // Stay connected so the server can finish syncing; the test closes stdin when done.
  process.stdin.resume();
  process.stdin.on("end", () => process.exit(0));
} else if (mode === "find") {
  const handle = await repo.find(docUrl);
  const visit = () => handle.doc()?.visits?.[visitId];
  const report = () => {
    const found = visit();
    if (found) {
      console.log(JSON.stringify({ ok: true, notes: String(found.notes), status: found.status }));
      process.exit(0);
    }
  };
  handle.on("change", report);
  report();
} else {
  fail(`unknown mode ${mode}`);
}
