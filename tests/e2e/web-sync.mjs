// Runs the web app's browser tests (`wasm-pack test --headless --chrome` in web/) with a real
// server for the sync client's tests: starts lots-server with its demo data, signs in as a
// field worker, and hands the tests the socket's address, her session cookie, who she is and
// on which device (changes are signed so), and one household of her caseload. The test page is served at an address fixed here, which the
// server takes as its public origin so that the socket's Origin check passes; cookies do not
// tell ports apart, so the page's cookie reaches the server's socket as the app's own does.
// Called by `cargo xtask test`.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ANNA, freePort, startServer } from "./harness.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const testPage = `127.0.0.1:${await freePort()}`;
const server = await startServer({ publicOrigin: `http://${testPage}` });
let status = 1;
try {
  const response = await fetch(`${server.base}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...ANNA, device_label: "wasm-bindgen-test" }),
  });
  const login = await json(response);
  const cookie = response.headers.get("set-cookie")?.split(";")[0];
  if (!cookie) throw new Error("signing in set no session cookie");
  const bearer = { authorization: `Bearer ${login.token}` };
  const caseload = await json(await fetch(`${server.base}/api/caseload`, { headers: bearer }));
  if (caseload.length === 0) throw new Error("the demo worker has no households");
  const run = spawnSync(
    "wasm-pack",
    ["test", "--headless", "--chrome", "--mode", "no-install", ...process.argv.slice(2)],
    {
      cwd: join(root, "web"),
      stdio: "inherit",
      env: {
        ...process.env,
        WASM_BINDGEN_TEST_ADDRESS: testPage,
        LOTS_TEST_SYNC_URL: `${server.base.replace("http://", "ws://")}/sync`,
        LOTS_TEST_SESSION_COOKIE: cookie,
        LOTS_TEST_DOCUMENT: caseload[0].document_id,
        // The server takes only changes signed by the signed-in person on this device.
        LOTS_TEST_STAFF: login.user.id,
        LOTS_TEST_DEVICE: login.device_id,
      },
    },
  );
  status = run.status ?? 1;
  if (run.error) throw run.error;
} finally {
  server.stop();
}
process.exit(status);

async function json(response) {
  const body = await response.json();
  if (!response.ok) throw new Error(`${response.url}: ${response.status} ${JSON.stringify(body)}`);
  return body;
}
