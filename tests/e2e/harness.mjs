// What every browser end-to-end test needs: the real server (started here, on a free
// loopback port, with a fresh data directory and the synthetic demo data), Debian's Chromium
// through playwright-core, phones at 390×844, screenshots as artifacts, and axe-core.
//
// Environment (set by `cargo xtask test`):
//   LOTS_SERVER_BIN  the lots-server binary to run
//   LOTS_DIST        the built web app (dist/)
//   LOTS_ARTIFACTS   where screenshots go
//   CHROMIUM         the browser binary (default /usr/bin/chromium)
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "../..");
const serverBin = process.env.LOTS_SERVER_BIN ?? join(root, "target/debug/lots-server");
const dist = process.env.LOTS_DIST ?? join(root, "dist");
export const artifacts = process.env.LOTS_ARTIFACTS ?? join(root, "target/e2e");
mkdirSync(artifacts, { recursive: true });

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** Demo logins (synthetic; created by the server's --demo). */
export const ANNA = { username: "anna", password: "demo-anna-2026" };
export const SARA = { username: "sara", password: "demo-sara-2026" };

/** A loopback port nothing listens on right now. */
export function freePort() {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.on("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => done(port));
    });
  });
}

/**
 * Starts lots-server with demo data; resolves once it answers. Its sockets accept pages from
 * `publicOrigin` (where `{port}` is its port), by default its own address; `args` are more
 * of its options.
 */
export async function startServer({ publicOrigin, args = [] } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), "lots-e2e-"));
  const child = spawn(
    serverBin,
    ["--demo", "--data-dir", dataDir, "--dist", dist, "--listen", `127.0.0.1:${port}`, "--public-origin", (publicOrigin ?? base).replace("{port}", port), ...args],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, RUST_LOG: "warn" } },
  );
  let log = "";
  child.stdout.on("data", (chunk) => (log += chunk));
  child.stderr.on("data", (chunk) => (log += chunk));
  // The server never outlives the tests, however they end.
  const stop = () => {
    child.kill("SIGTERM");
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.on("exit", stop);
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`lots-server exited (${child.exitCode}):\n${log}`);
    try {
      const response = await fetch(`${base}/api/openapi.json`);
      if (response.ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`lots-server did not answer within 180 s:\n${log}`);
    await new Promise((wait) => setTimeout(wait, 250));
  }
  return { base, stop, log: () => log };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    // A Swedish phone: date and time inputs show Swedish formats ("2026-12-15"). On Linux
    // Chromium takes its own language from LANG/LANGUAGE (`--lang` is for the other systems),
    // and only when its Swedish strings are installed (Debian's chromium-l10n); without them
    // it falls back to American formats without a word.
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--lang=sv-SE"],
    env: { ...process.env, LANG: "sv_SE.UTF-8", LANGUAGE: "sv_SE:sv" },
  });
}

/**
 * A phone: its own browser context (own IndexedDB, own service worker), 390×844. Errors on
 * the page fail the test that reads `phone.errors`.
 */
export async function phone(browser, base, viewport = { width: 390, height: 844 }) {
  const context = await browser.newContext({
    viewport,
    deviceScaleFactor: 2,
    baseURL: base,
    locale: "sv-SE",
  });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  return { context, page, errors };
}

/** Signs in and waits until `households` households are on the device. */
export async function signIn(page, login, households = 20) {
  await page.goto("/");
  await page.waitForSelector("#username");
  await page.fill("#username", login.username);
  await page.fill("#password", login.password);
  await page.click("button[type=submit]");
  await waitForHouseholds(page, households);
}

/** A device passphrase for people who sign in through the identity provider (synthetic). */
export const PASSPHRASE = "tre ord för telefonen";

/** After a reload the app is locked: types `secret` (a password or passphrase) to unlock. */
export async function unlock(page, secret) {
  await page.waitForSelector("#unlock-secret", { timeout: 60_000 });
  await page.fill("#unlock-secret", secret);
  await page.click(".unlock button[type=submit]");
  await page.waitForSelector("#unlock-secret", { state: "detached", timeout: 60_000 });
}

/** Reloads the page, and unlocks it with `secret`. */
export async function reloadAndUnlock(page, secret) {
  await page.reload();
  await unlock(page, secret);
}

/** Chooses the device passphrase, as a person signed in through the identity provider does. */
export async function choosePassphrase(page, passphrase = PASSPHRASE) {
  await page.waitForSelector("#passphrase", { timeout: 60_000 });
  await page.fill("#passphrase", passphrase);
  await page.fill("#passphrase-again", passphrase);
  await page.click(".passphrase button[type=submit]");
}

export async function waitForHouseholds(page, count) {
  await page.waitForFunction(
    (count) => document.querySelectorAll(".card.household").length >= count,
    count,
    { timeout: 90_000 },
  );
}

/** The status line's text. */
export function status(page) {
  return page.locator("header .status").innerText();
}

/** Waits until the status line says everything is synced (Swedish, the default language). */
export async function waitSynced(page, timeout = 60_000) {
  await page.waitForFunction(
    () => document.querySelector("header .status")?.innerText.trim() === "Synkat",
    null,
    { timeout },
  );
}

/** Goes offline the way a phone does: the network disappears and the page is told. */
export async function goOffline(phone) {
  await phone.context.setOffline(true);
  await phone.page.waitForFunction(
    () => document.querySelector("header .status")?.innerText.includes("Offline"),
    null,
    { timeout: 10_000 },
  );
}

export async function goOnline(phone) {
  await phone.context.setOffline(false);
}

/** Saves a screenshot artifact and fails on any WCAG 2.1 AA violation axe-core finds. */
export async function check(page, name) {
  await page.waitForTimeout(200);
  await page.screenshot({ path: join(artifacts, `${name}.png`) });
  // Evaluated through the DevTools protocol: the app's CSP rightly refuses injected scripts.
  const result = await page.evaluate(
    `${axeSource}; axe.run(document, { runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] })`,
  );
  const problems = result.violations.map(
    (violation) =>
      `${violation.id}: ${violation.description} — ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
  );
  if (problems.length > 0) {
    throw new Error(`${name}: ${problems.length} accessibility violations:\n${problems.join("\n")}`);
  }
}

/** Opens the household whose card shows `name` (from the list). */
export async function openHousehold(page, id) {
  await page.goto(`/#/h/${id}`);
  await page.waitForSelector("article.household h1");
}

/** The document id of the n-th household card in the list. */
export async function householdId(page, n = 0) {
  const href = await page.locator(".card.household").nth(n).getAttribute("href");
  return href.replace(/^.*#\/h\//, "");
}

/** Records a visit with the form: first member present, one topic, `notes`. */
export async function recordVisit(page, id, notes) {
  await page.goto(`/#/h/${id}/visit/new`);
  await page.waitForSelector("form.visit-form");
  await page.locator("form.visit-form .chips").first().locator(".chip").first().click();
  await page.locator("form.visit-form fieldset").nth(2).locator(".chip").first().click();
  await page.fill("#notes", notes);
  await page.click("form.visit-form button[type=submit]");
  await page.waitForSelector("article.household h1");
  await page.locator(".note", { hasText: notes }).waitFor();
}

/** Types into the plan notes (at the start or end) and saves. */
export async function editPlanNotes(page, edit) {
  const area = page.locator("#plan-notes");
  const text = await area.inputValue();
  await area.fill(edit(text));
  await page.click(".plan-notes button[type=submit]");
  await page.locator(".plan-notes .saved").waitFor();
}

/**
 * Makes the page see the server's clock `aheadMs` ahead of where it is (`GET /api/me`'s
 * `server_time`), as when the phone's clock has gone wrong since it last learned the
 * server's: the app then signs its changes that far ahead, and the server refuses them.
 * Returns a function that puts the clock right again.
 */
export async function skewServerClock(page, aheadMs) {
  const handler = (route) =>
    rewrite(route, (body) => {
      if (typeof body.server_time === "number") body.server_time += aheadMs;
      return body;
    });
  await page.route("**/api/me", handler);
  return () => page.unroute("**/api/me", handler);
}

/** Connects again (offline, then online) and waits until the app has read the server's clock. */
export async function reconnectAndReadClock(one) {
  await goOffline(one);
  const clock = one.page.waitForResponse((response) => new URL(response.url()).pathname === "/api/me", { timeout: 30_000 });
  await goOnline(one);
  await clock;
  await one.page.waitForFunction(
    () => !/Offline/.test(document.querySelector("header .status")?.innerText ?? "Offline"),
    null,
    { timeout: 30_000 },
  );
}

/** A fresh automerge-repo document id: 16 random bytes in base58check. */
export function newDocumentId() {
  const bytes = randomBytes(16);
  const sha = (data) => createHash("sha256").update(data).digest();
  const full = Buffer.concat([bytes, sha(sha(bytes)).subarray(0, 4)]);
  const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  let number = BigInt(`0x${full.toString("hex")}`);
  let text = "";
  while (number > 0n) {
    text = alphabet[Number(number % 58n)] + text;
    number /= 58n;
  }
  for (const byte of full) {
    if (byte !== 0) break;
    text = `1${text}`;
  }
  return text;
}

/**
 * Makes the caseload API list `extra` households besides the real ones (each
 * `{ document_id, district, unreadable }`), as a server that cannot read them lists them.
 */
export async function addToCaseload(page, extra) {
  const entries = extra.map((entry) => ({
    url: `automerge:${entry.document_id}`,
    address: "",
    unit: "",
    assigned_staff: null,
    status: "active",
    members: 0,
    next_visit: null,
    last_visit: null,
    overdue_follow_ups: 0,
    conflicts: 0,
    ...entry,
  }));
  await page.route("**/api/caseload", (route) => rewrite(route, (body) => [...entries, ...body]));
}

/** Answers a routed API request with the server's JSON answer as `edit` changes it. A
 * request cut off by the page closing is let go. */
async function rewrite(route, edit) {
  try {
    const response = await route.fetch();
    if (!response.ok()) return await route.fulfill({ response });
    await route.fulfill({ response, json: edit(await response.json()) });
  } catch {
    await route.abort().catch(() => {});
  }
}

/** A supervisor's API session (bearer token), for tests that decide without the desk. */
export async function apiSession(base, login) {
  const response = await fetch(`${base}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...login, device_label: "e2e" }),
  });
  if (!response.ok) throw new Error(`signing in as ${login.username}: ${response.status}`);
  const { token } = await response.json();
  return async (method, path, body) => {
    const headers = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const json = body === undefined ? undefined : JSON.stringify(body);
    const answer = await fetch(`${base}${path}`, { method, headers, body: json });
    if (!answer.ok) throw new Error(`${method} ${path}: ${answer.status} ${await answer.text()}`);
    return answer.json();
  };
}

/** How many records of IndexedDB's `store` belong to document `id` (by key or by field). */
export function recordsOf(page, store, id) {
  return page.evaluate(
    ({ store, id }) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("lots");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const request = open.result.transaction(store).objectStore(store).openCursor();
          let count = 0;
          request.onsuccess = () => {
            const cursor = request.result;
            if (!cursor) {
              open.result.close();
              return resolve(count);
            }
            if (String(cursor.key).includes(id) || cursor.value?.document === id) count += 1;
            cursor.continue();
          };
          request.onerror = () => reject(request.error);
        };
      }),
    { store, id },
  );
}
