// The field app end to end, in Debian's Chromium against the real built app and the real
// server: two phones apart merging, a reload with no network, a conflict settled on the phone,
// every screen at phone size with axe-core, a phone the server refuses for a full quarantine,
// households that cannot be read listed with why, a household opened offline reaching the
// access log, and a household removed while the phone was offline erased from it. Run by `cargo xtask test`
// (`node --test`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  ANNA,
  addToCaseload,
  apiSession,
  check,
  editPlanNotes,
  goOffline,
  goOnline,
  householdId,
  launch,
  newDocumentId,
  openHousehold,
  phone,
  reconnectAndReadClock,
  recordsOf,
  recordVisit,
  reloadAndUnlock,
  SARA,
  signIn,
  skewServerClock,
  startServer,
  status,
  waitForHouseholds,
  waitSynced,
} from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

/** Two phones of one worker, signed in and synced. */
async function twoPhones() {
  const phones = [await phone(browser, server.base), await phone(browser, server.base)];
  for (const { page } of phones) {
    await signIn(page, ANNA);
    await waitSynced(page);
  }
  return phones;
}

/** A new device signing in sees what the server has. */
async function freshPhone() {
  const fresh = await phone(browser, server.base);
  await signIn(fresh.page, ANNA);
  return fresh;
}

test("every screen at phone size, with no accessibility violations", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await page.goto("/");
  await page.waitForSelector("#username");
  await check(page, "phone-signin");
  await signIn(page, ANNA);
  await waitSynced(page);
  await check(page, "phone-households");
  await page.click(".tab >> nth=1");
  await page.waitForSelector("main h1");
  await check(page, "phone-today");
  await page.click(".tab >> nth=0");
  const id = await householdId(page, 0);
  await openHousehold(page, id);
  await check(page, "phone-household");
  // Languages by name, not ISO 639 code: "Språk: dari, engelska".
  const languageLines = await page.locator(".member .meta", { hasText: /^(Språk|Behöver tolk):/ }).allInnerTexts();
  assert.ok(languageLines.length > 0, "the members' languages are shown");
  for (const line of languageLines) assert.doesNotMatch(line, /\b(ar|prs|fa|so|ti|uk|en|sv)\b/, line);
  await page.locator("details.steps").first().locator("summary").click();
  await page.locator("details.add-goal summary").click();
  await page.locator("#plan-title").scrollIntoViewIfNeeded();
  await check(page, "phone-household-plan");
  await page.locator(".close-case summary").click();
  await page.locator(".close-case").scrollIntoViewIfNeeded();
  await check(page, "phone-household-close");
  await page.goto(`/#/h/${id}/visit/new`);
  await page.waitForSelector("form.visit-form");
  await check(page, "phone-visit-form");
  await recordVisit(page, id, "Gick igenom brev från Försäkringskassan.");
  await check(page, "phone-household-after-visit");
  await page.selectOption("footer select", "en");
  await page.locator("footer button.link", { hasText: "Sign out" }).waitFor();
  await check(page, "phone-household-english");
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("a new device downloads the sign-in alone, and the whole app once signed in", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  const requests = [];
  page.on("request", (request) => requests.push(new URL(request.url()).pathname));
  await signIn(page, ANNA);
  // The sign-in first; the whole app only once the sign-in has arrived, and only once.
  const wasm = await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((entry) => entry.name.endsWith(".wasm"))
      .map((entry) => ({
        build: new URL(entry.name).pathname.match(/^\/(lots-\w+)-/)?.[1],
        start: entry.startTime,
        end: entry.responseEnd,
      })),
  );
  assert.deepEqual(wasm.map((entry) => entry.build), ["lots-signin", "lots-web"]);
  assert.ok(wasm[1].start >= wasm[0].end, `the whole app waited: ${JSON.stringify(wasm)}`);
  assert.equal(requests.filter((path) => /^\/lots-web-\w+_bg\.wasm$/.test(path)).length, 1);
  assert.equal(await page.evaluate(() => localStorage.getItem("lots-signed-in")), "field");

  // Signed in, the flag lost (the whole app sets it; an older version did not): the sign-in
  // app finds the person in storage and hands over at once.
  await page.evaluate(() => localStorage.removeItem("lots-signed-in"));
  await reloadAndUnlock(page, ANNA.password);
  await waitForHouseholds(page, 20);
  assert.equal(await page.evaluate(() => localStorage.getItem("lots-signed-in")), "field");

  // A phone never downloads the desk's app, not even into the service worker's cache.
  const cached = await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    const names = [];
    for (const key of await caches.keys()) {
      const cache = await caches.open(key);
      for (const request of await cache.keys()) names.push(new URL(request.url).pathname);
    }
    return names;
  });
  assert.ok(cached.some((path) => path.startsWith("/lots-web-")), `the app is kept: ${cached}`);
  assert.deepEqual(cached.filter((path) => path.startsWith("/lots-desk-")), []);
  assert.deepEqual(requests.filter((path) => path.startsWith("/lots-desk-")), []);

  // Signing out in the whole app leaves its own sign-in form, and the next start the small one.
  await waitSynced(page);
  await page.locator("footer button.link", { hasText: "Logga ut" }).click();
  await page.waitForSelector("#username");
  assert.equal(await page.evaluate(() => localStorage.getItem("lots-signed-in")), null);
  await signIn(page, ANNA);
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("the whole app not loading after signing in is said, and trying again starts it while saying so", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  // Trunk names a build by its hash in hex, without leading zeros.
  const appWasm = /\/lots-web-[0-9a-f]+_bg\.wasm$/;
  await page.route(appWasm, (route) => route.abort("internetdisconnected"));
  await page.goto("/");
  await page.waitForSelector("#username");
  await page.fill("#username", ANNA.username);
  await page.fill("#password", ANNA.password);
  await page.click("button[type=submit]");
  await page.getByRole("alert").filter({ hasText: "appen kunde inte hämtas" }).waitFor();
  assert.equal(await page.locator("#username").count(), 1, "the sign-in stays on the screen");
  await check(page, "phone-signin-app-not-loaded");

  // Coverage back, but slow: signing in again says the app is on its way, and it starts.
  await page.unroute(appWasm);
  let arrive;
  const arrived = new Promise((resolve) => (arrive = resolve));
  await page.route(appWasm, async (route) => {
    await arrived;
    await route.continue();
  });
  await page.click("button[type=submit]");
  await page.getByRole("status").filter({ hasText: "Lots hämtas" }).waitFor();
  await check(page, "phone-signin-app-on-its-way");
  arrive();
  await waitForHouseholds(page, 20);
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("two phones apart: both visits and both note edits arrive everywhere", async () => {
  const [a, b] = await twoPhones();
  const id = await householdId(a.page, 1);
  await openHousehold(a.page, id);
  await openHousehold(b.page, id);
  await editPlanNotes(a.page, () => "Planen ses över i december.");
  await b.page.waitForFunction(
    () => document.querySelector("#plan-notes")?.value === "Planen ses över i december.",
    null,
    { timeout: 10_000 },
  );

  await goOffline(a);
  await goOffline(b);
  await recordVisit(a.page, id, "Besök från telefon A: bankkonto klart.");
  await recordVisit(b.page, id, "Besök från telefon B: SFI-anmälan.");
  await editPlanNotes(a.page, (text) => `${text} Boka tolk (dari).`);
  await editPlanNotes(b.page, (text) => `Viktigt: ${text}`);
  assert.match(await status(a.page), /\d+ ändring(ar)? väntar/);
  await check(a.page, "phone-offline-changes-waiting");

  await goOnline(a);
  await goOnline(b);
  await waitSynced(a.page);
  await waitSynced(b.page);
  const merged = "Viktigt: Planen ses över i december. Boka tolk (dari).";
  for (const { page } of [a, b]) {
    await page.locator(".note", { hasText: "telefon A" }).waitFor({ timeout: 15_000 });
    await page.locator(".note", { hasText: "telefon B" }).waitFor({ timeout: 15_000 });
    await page.waitForFunction(
      (merged) => document.querySelector("#plan-notes")?.value === merged,
      merged,
      { timeout: 15_000 },
    );
  }
  await check(b.page, "phone-merged");

  // The server has both: a device that never saw either phone gets them from it.
  const c = await freshPhone();
  await openHousehold(c.page, id);
  await c.page.locator(".note", { hasText: "telefon A" }).waitFor({ timeout: 15_000 });
  await c.page.locator(".note", { hasText: "telefon B" }).waitFor({ timeout: 15_000 });
  assert.equal(await c.page.locator("#plan-notes").inputValue(), merged);
  for (const one of [a, b, c]) {
    assert.deepEqual(one.errors, []);
    await one.context.close();
  }
});

test("reload with no network: everything is there, and a visit recorded then syncs", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signIn(page, ANNA);
  await waitSynced(page);
  // The service worker has taken over the page once it controls it.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
  const id = await householdId(page, 2);
  const count = await page.locator(".card.household").count();

  await goOffline(one);
  await reloadAndUnlock(page, ANNA.password);
  await waitForHouseholds(page, count);
  assert.match(await status(page), /Offline/);
  await openHousehold(page, id);
  await recordVisit(page, id, "Inspelat utan nät efter omladdning.");
  assert.match(await status(page), /1 ändring väntar/);
  await check(page, "phone-offline-after-reload");

  await goOnline(one);
  await waitSynced(page);
  const fresh = await freshPhone();
  await openHousehold(fresh.page, id);
  await fresh.page.locator(".note", { hasText: "utan nät efter omladdning" }).waitFor({ timeout: 15_000 });
  for (const phone of [one, fresh]) {
    assert.deepEqual(phone.errors, []);
    await phone.context.close();
  }
});

test("a household opened offline reaches the access log at the next contact, with the phone's time and the server's", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signIn(page, ANNA);
  await waitSynced(page);
  const id = await householdId(page, 1);
  const sara = await apiSession(server.base, SARA);
  const deviceTime = (row) => Number(/device_at=(\d+)/.exec(row.detail)?.[1]);
  const readsSince = async (since) =>
    (await sara("GET", `/api/audit?action=read&household=${id}&limit=100`)).entries.filter(
      (row) => row.user_id === "u-anna" && deviceTime(row) >= since,
    );

  await goOffline(one);
  const opened = Date.now();
  await openHousehold(page, id);
  await page.waitForTimeout(1_000);
  assert.deepEqual(await readsSince(opened - 2_000), [], "nothing reaches the server offline");

  const online = Date.now();
  await goOnline(one);
  let logged = [];
  for (let tries = 0; tries < 60 && logged.length === 0; tries += 1) {
    await page.waitForTimeout(250);
    logged = await readsSince(opened - 2_000);
  }
  assert.equal(logged.length, 1, JSON.stringify(logged));
  const [row] = logged;
  assert.match(row.detail, /^shown=household device_at=\d+ read=r-[0-9a-f]{16}$/);
  // Read while offline, by the phone's clock; received once online, by the server's.
  assert.ok(deviceTime(row) <= online + 2_000, row.detail);
  assert.ok(row.at >= online - 2_000, `${row.at} < ${online}`);
  // Opening it again online is a second read, uploaded at once.
  await page.goto("/#/");
  await openHousehold(page, id);
  for (let tries = 0; tries < 60 && logged.length < 2; tries += 1) {
    await page.waitForTimeout(250);
    logged = await readsSince(opened - 2_000);
  }
  assert.equal(logged.length, 2);
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("signing out offline empties the phone at once, and the server ends the session when the network returns", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signIn(page, ANNA);
  await waitSynced(page);
  const session = (await one.context.cookies()).find((cookie) => cookie.name === "lots_session");
  assert.ok(session, "signed in with a session cookie");
  // Whoever copied the cookie could use it while the session holds.
  const withCookie = async () =>
    (await fetch(`${server.base}/api/me`, { headers: { cookie: `lots_session=${session.value}` } })).status;
  assert.equal(await withCookie(), 200);

  await goOffline(one);
  await page.locator("footer button.link", { hasText: "Logga ut" }).click();
  await page.waitForSelector("#username");
  for (const store of ["chunks", "summaries", "sync_states", "dirty", "meta", "past"]) {
    assert.equal(await recordsOf(page, store, ""), 0, `${store} still holds something`);
  }
  assert.equal(await page.evaluate(() => localStorage.getItem("lots-signed-in")), null);
  assert.equal(await withCookie(), 200, "offline, the server has not heard yet");

  // The network returns: the sign-out goes at once, and the site's data is cleared.
  await goOnline(one);
  await page.waitForFunction(() => localStorage.getItem("lots-sign-out-pending") === null, null, { timeout: 30_000 });
  assert.equal(await withCookie(), 401, "the old session is refused");
  assert.ok(!(await one.context.cookies()).some((cookie) => cookie.name === "lots_session"));
  // And signing in again works as on a new phone.
  await signIn(page, ANNA);
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

/** The demo administrator's API, with a bearer token: `asAdmin(method, path, body)`. */
async function adminApi() {
  const login = await fetch(`${server.base}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "admin", password: "demo-admin-2026", device_label: "e2e" }),
  });
  const { token } = await login.json();
  return (method, path, body) =>
    fetch(`${server.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
}

/**
 * A phone with a visit recorded offline is shut out by an administrator (`shut`, given the
 * phone's device id): once online it hands the visit to the quarantine, not the record (it
 * may be in someone else's hands), deletes everything and says `words`; the wipe is on the
 * log.
 */
async function shutOutWithAVisitWaiting(asAdmin, shut, why, words) {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signIn(page, ANNA);
  await waitSynced(page);
  const device = (await (await page.request.get("/api/me")).json()).device_id;
  const visited = await householdId(page, 2);
  await goOffline(one);
  await recordVisit(page, visited, "Besök innan telefonen spärrades (syntetiskt).");
  assert.equal(await shut(device), 204);
  await goOnline(one);
  await page.locator(".wiped", { hasText: words }).waitFor({ timeout: 60_000 });
  for (const store of ["chunks", "summaries", "sync_states", "meta", "keyring", "dirty"]) {
    assert.equal(await recordsOf(page, store, ""), 0, `${store} still holds records`);
  }
  const sara = await apiSession(server.base, SARA);
  const quarantined = await sara("GET", "/api/quarantine");
  const handed = quarantined.filter((entry) => entry.device_id === device && entry.household === visited);
  assert.ok(handed.length >= 1, JSON.stringify(quarantined));
  assert.ok(handed[0].reason.includes(`shut out (${why})`), handed[0].reason);
  assert.equal(handed[0].status, "pending");
  const log = await asAdmin("GET", "/api/audit?action=device-wiped");
  assert.ok((await log.json()).entries.some((entry) => entry.device_id === device), "the wipe is on the log");
  assert.deepEqual(one.errors, []);
  await one.context.close();
}

test("a revoked phone hands the visit still waiting to the quarantine, then deletes everything", async () => {
  const asAdmin = await adminApi();
  await shutOutWithAVisitWaiting(
    asAdmin,
    async (device) => (await asAdmin("POST", `/api/devices/${device}/revoke`)).status,
    "device-revoked",
    "En administratör har spärrat den här enheten",
  );
});

test("a disabled person's phone hands the visit still waiting to the quarantine, then deletes everything", async () => {
  const asAdmin = await adminApi();
  try {
    await shutOutWithAVisitWaiting(
      asAdmin,
      async () => (await asAdmin("PATCH", "/api/users/u-anna", { disabled: true })).status,
      "user-disabled",
      "En administratör har stängt av ditt konto",
    );
  } finally {
    // Let back in, for the tests after this one.
    assert.equal((await asAdmin("PATCH", "/api/users/u-anna", { disabled: false })).status, 204);
  }
});

test("a sign-in the server no longer knows asks for the password again, keeps what was recorded, then syncs it", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signIn(page, ANNA);
  await waitSynced(page);
  const id = await householdId(page, 4);

  // The session cookie is gone, as when its 30 days run out while the phone is away.
  await one.context.clearCookies();
  await goOffline(one);
  await recordVisit(page, id, "Inspelat när inloggningen hade gått ut.");
  await goOnline(one);
  await page.getByRole("heading", { name: "Logga in igen" }).waitFor({ timeout: 30_000 });
  assert.match(await status(page), /Inloggningen har gått ut/);
  assert.match(await status(page), /1 ändring väntar/);
  // The status line's button brings the form (above the screen) into view.
  await page.locator("header .status button", { hasText: "Logga in igen" }).click();
  await page.locator("#again-password:focus").waitFor();
  await check(page, "phone-sign-in-again");

  await page.fill("#again-password", "fel-lösenord");
  await page.click(".signin-again button[type=submit]");
  await page.locator(".signin-again [role=alert]", { hasText: "Fel användarnamn eller lösenord" }).waitFor();
  await page.fill("#again-password", ANNA.password);
  await page.click(".signin-again button[type=submit]");
  await waitSynced(page);
  assert.equal(await page.locator(".signin-again").count(), 0);
  // The screen stayed where it was, with the visit on it.
  await page.locator(".note", { hasText: "inloggningen hade gått ut" }).waitFor();

  const fresh = await freshPhone();
  await openHousehold(fresh.page, id);
  await fresh.page.locator(".note", { hasText: "inloggningen hade gått ut" }).waitFor({ timeout: 15_000 });
  for (const phone of [one, fresh]) {
    assert.deepEqual(phone.errors, []);
    await phone.context.close();
  }
});

test("a field set differently on two phones is shown with both values and settled on one", async () => {
  const [a, b] = await twoPhones();
  const id = await householdId(a.page, 3);
  await openHousehold(a.page, id);
  await openHousehold(b.page, id);
  // A goal to disagree about, made while connected so both phones have it.
  await a.page.locator("details.add-goal summary").click();
  await a.page.fill("#new-goal-description", "Få ett förstahandskontrakt");
  await a.page.click("details.add-goal button[type=submit]");
  const goal = b.page.locator("li.goal", { hasText: "Få ett förstahandskontrakt" });
  await goal.waitFor({ timeout: 15_000 });

  await goOffline(a);
  await goOffline(b);
  await a.page.locator("li.goal", { hasText: "Få ett förstahandskontrakt" }).locator("select").first().selectOption("reached");
  await a.page.locator(".plan .saved").first().waitFor();
  await goal.locator("select").first().selectOption("stalled");
  await b.page.locator(".plan .saved").first().waitFor();
  await goOnline(a);
  await goOnline(b);

  const conflict = b.page.locator(".conflicts .conflict");
  await conflict.waitFor({ timeout: 30_000 });
  assert.match(await conflict.innerText(), /Uppnått/);
  assert.match(await conflict.innerText(), /Står still/);
  assert.match(await status(b.page), /konflikt/);
  await check(b.page, "phone-conflict");
  await conflict.locator("button.choice", { hasText: "Uppnått" }).click();
  for (const { page } of [a, b]) {
    await page.locator(".conflicts").waitFor({ state: "detached", timeout: 15_000 });
    await waitSynced(page);
    const chosen = page.locator("li.goal", { hasText: "Få ett förstahandskontrakt" }).locator("select").first();
    assert.equal(await chosen.inputValue(), "reached");
  }
  for (const one of [a, b]) {
    assert.deepEqual(one.errors, []);
    await one.context.close();
  }
});

test("a phone the server refuses for a full quarantine says a supervisor must look first, keeps what is written, and syncs once decided", async () => {
  // A server that stops taking changes from a device with one refused change waiting.
  const strict = await startServer({ args: ["--quarantine-quota", "1"] });
  try {
    const one = await phone(browser, strict.base);
    const { page } = one;
    await signIn(page, ANNA);
    await waitSynced(page);
    const [refused, later] = [await householdId(page, 8), await householdId(page, 9)];

    // The phone's clock goes two hours ahead of the server's: its visit is refused, and the
    // next connection is refused for the full quarantine.
    const putRight = await skewServerClock(page, 2 * 3600_000);
    await reconnectAndReadClock(one);
    await recordVisit(page, refused, "Besök som servern nekar.");
    await page.locator(".notices .notice", { hasText: "Servern tog inte emot en ändring" }).waitFor({ timeout: 30_000 });
    const full = page.locator(".notices .notice", { hasText: "Servern tar inte emot något från telefonen" });
    await full.waitFor({ timeout: 30_000 });
    assert.match(await full.innerText(), /förrän en arbetsledare har gått igenom 1 ändring som den nekade/);
    assert.match(await status(page), /Synkningen väntar på en arbetsledare/);

    // The clock put right (read again at start); what is written meanwhile waits on the phone.
    await putRight();
    await reloadAndUnlock(page, ANNA.password);
    await full.waitFor({ timeout: 30_000 });
    await recordVisit(page, later, "Besök medan karantänen är full.");
    await page.waitForFunction(() => /1 ändring väntar/.test(document.querySelector("header .status")?.innerText), null, { timeout: 15_000 });
    assert.match(await status(page), /Synkningen väntar på en arbetsledare/);
    await page.evaluate(() => window.scrollTo(0, 0));
    await check(page, "phone-quarantine-full");

    // A supervisor accepts the refused change: the phone hears of it and syncs everything.
    const sara = await apiSession(strict.base, { username: "sara", password: "demo-sara-2026" });
    const rows = await sara("GET", "/api/quarantine");
    const pending = rows.filter((row) => row.status === "pending" && row.household === refused);
    assert.equal(pending.length, 1, JSON.stringify(rows));
    await sara("POST", `/api/quarantine/${pending[0].id}/accept`);
    await waitSynced(page, 90_000);
    assert.equal(await page.locator(".notices .notice").count(), 0);

    const fresh = await phone(browser, strict.base);
    await signIn(fresh.page, ANNA);
    await openHousehold(fresh.page, refused);
    await fresh.page.locator(".note", { hasText: "servern nekar" }).waitFor({ timeout: 15_000 });
    await openHousehold(fresh.page, later);
    await fresh.page.locator(".note", { hasText: "karantänen är full" }).waitFor({ timeout: 15_000 });
    for (const device of [one, fresh]) {
      assert.deepEqual(device.errors, []);
      await device.context.close();
    }
  } finally {
    strict.stop();
  }
});

test("households that cannot be read, on the server or on the phone, are listed with why", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await addToCaseload(page, [
    { document_id: newDocumentId(), district: "district-norrmalm", unreadable: "the document is from schema version 9" },
  ]);
  await signIn(page, ANNA);
  const onServer = page.locator(".card.unreadable", { hasText: "På servern: the document is from schema version 9" });
  await onServer.waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => /1 hushåll kan inte läsas/.test(document.querySelector("header .status")?.innerText), null, { timeout: 60_000 });
  assert.doesNotMatch(await status(page), /Synkat/);

  // A household stored on the phone whose bytes do not load.
  const damaged = newDocumentId();
  await page.evaluate(
    (damaged) =>
      new Promise((resolve, reject) => {
        const open = indexedDB.open("lots");
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const transaction = open.result.transaction("chunks", "readwrite");
          // Sealed bytes that do not open with the device's key.
          transaction.objectStore("chunks").put({ document: damaged, sealed: new Uint8Array(40).fill(7) });
          transaction.oncomplete = () => {
            open.result.close();
            resolve();
          };
          transaction.onerror = () => reject(transaction.error);
        };
      }),
    damaged,
  );
  await reloadAndUnlock(page, ANNA.password);
  const onPhone = page.locator(".card.unreadable", { hasText: "På telefonen:" });
  await onPhone.waitFor({ timeout: 30_000 });
  assert.match(await onPhone.innerText(), new RegExp(`Hushåll ${damaged}`));
  await page.waitForFunction(() => /2 hushåll kan inte läsas/.test(document.querySelector("header .status")?.innerText), null, { timeout: 60_000 });
  await waitForHouseholds(page, 20);
  await check(page, "phone-unreadable");
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("a household removed on a decision while the phone was offline is erased from it at the next contact, and never comes back", async () => {
  // A server of its own: this one loses a household.
  const own = await startServer();
  try {
    const one = await phone(browser, own.base);
    const { page } = one;
    await signIn(page, ANNA);
    await waitSynced(page);
    const id = await householdId(page, 3);
    const before = await page.locator(".card.household").count();
    assert.ok((await recordsOf(page, "chunks", id)) > 0, "the phone holds the household");

    await goOffline(one);
    await openHousehold(page, id);
    await page.goto("/#/");
    const sara = await apiSession(own.base, SARA);
    const removed = await sara("POST", `/api/households/${id}/remove`, {
      decision: "Dnr 2031/99",
      reason: "Registrerat av misstag (syntetiskt test)",
    });
    assert.equal(removed.removed, 1);

    await goOnline(one);
    await page.waitForFunction((id) => !document.querySelector(`.card.household[href$="${id}"]`), id, { timeout: 30_000 });
    await waitSynced(page);
    assert.equal(await page.locator(".card.household").count(), before - 1);
    for (const store of ["chunks", "summaries", "sync_states", "dirty", "past"]) {
      assert.equal(await recordsOf(page, store, id), 0, `${store} still holds the household`);
    }
    // A reload finds nothing of it, and the server did not take it back.
    await reloadAndUnlock(page, ANNA.password);
    await waitForHouseholds(page, before - 1);
    await page.waitForTimeout(1_000);
    assert.equal(await page.locator(`.card.household[href$="${id}"]`).count(), 0);
    const caseload = await sara("GET", "/api/caseload");
    assert.ok(!caseload.some((entry) => entry.document_id === id), "the server has it again");
    // The read made offline before the removal is on the log all the same.
    const reads = await sara("GET", `/api/audit?action=read&household=${id}&limit=10`);
    assert.ok(reads.entries.some((row) => row.user_id === "u-anna"), JSON.stringify(reads));
    assert.deepEqual(one.errors, []);
    await one.context.close();
  } finally {
    own.stop();
  }
});
