// A lost phone reveals nothing, end to end against the real built app and server: what the
// phone keeps is sealed (read raw after the lock, no canary and no demo name or address
// anywhere: IndexedDB, Cache Storage, localStorage, the JavaScript heap, the wasm memory; no
// stored chunk loads as an Automerge document); the app locks itself when left alone, after
// a warning, keeps the visit being typed and unlocks offline; ten wrong passwords erase the
// device; a device offline too long must reach the server before it unlocks. axe-core on the
// lock's screens. Run by `cargo xtask test` (`node --test`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { resolve } from "node:path";
import {
  ANNA,
  check,
  editPlanNotes,
  goOffline,
  goOnline,
  householdId,
  launch,
  openHousehold,
  phone,
  recordsOf,
  recordVisit,
  signIn,
  startServer,
  unlock,
  waitForHouseholds,
  waitSynced,
} from "./harness.mjs";

// The JavaScript Automerge of the interop test's packages (`cargo xtask test` installs them).
const Automerge = createRequire(resolve(import.meta.dirname, "../node/package.json"))("@automerge/automerge");

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

/** Every store of the app's IndexedDB, read raw: each record as text (bytes read as Latin-1,
 * so that any UTF-8 in them shows), with the number of records per store and the chunks'
 * sealed bytes. */
function readDevice(page) {
  return page.evaluate(async () => {
    const latin1 = new TextDecoder("latin1");
    const asText = (value) => {
      if (value === null || value === undefined) return "";
      if (typeof value === "string") return value;
      if (value instanceof Uint8Array) return latin1.decode(value);
      if (value instanceof ArrayBuffer) return latin1.decode(new Uint8Array(value));
      if (typeof value === "object") return Object.entries(value).map(([key, inner]) => `${key}:${asText(inner)}`).join("\n");
      return String(value);
    };
    const database = await new Promise((done, fail) => {
      const open = indexedDB.open("lots");
      open.onsuccess = () => done(open.result);
      open.onerror = () => fail(open.error);
    });
    const stores = {};
    const chunks = [];
    let text = "";
    for (const name of database.objectStoreNames) {
      const store = database.transaction(name).objectStore(name);
      const [keys, values] = await Promise.all(
        [store.getAllKeys(), store.getAll()].map(
          (request) => new Promise((done, fail) => {
            request.onsuccess = () => done(request.result);
            request.onerror = () => fail(request.error);
          }),
        ),
      );
      stores[name] = values.length;
      keys.forEach((key, n) => {
        text += `${asText(key)}\n${asText(values[n])}\n`;
        if (name === "chunks") chunks.push(Array.from(values[n].sealed ?? values[n].bytes ?? []));
      });
    }
    database.close();
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      for (const request of await cache.keys()) {
        const response = await cache.match(request);
        text += latin1.decode(new Uint8Array(await response.arrayBuffer()));
      }
    }
    for (let n = 0; n < localStorage.length; n += 1) {
      const key = localStorage.key(n);
      text += `${key}\n${localStorage.getItem(key)}\n`;
    }
    return { stores, chunks, text };
  });
}

/** The page's JavaScript heap, as a DevTools heap snapshot's text. */
async function heapSnapshot(page) {
  const session = await page.context().newCDPSession(page);
  let snapshot = "";
  session.on("HeapProfiler.addHeapSnapshotChunk", ({ chunk }) => (snapshot += chunk));
  await session.send("HeapProfiler.enable");
  await session.send("HeapProfiler.collectGarbage");
  await session.send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
  await session.detach();
  return snapshot;
}

/** The running app's wasm memory, as Latin-1 text: its glue module, imported again, hands
 * back the instance it started. */
function wasmMemory(page) {
  return page.evaluate(async () => {
    const glue = performance
      .getEntriesByType("resource")
      .map((entry) => new URL(entry.name).pathname)
      .find((path) => /^\/lots-(web|desk)-[^/]*\.js$/.test(path));
    if (glue === undefined) throw new Error("the app's glue module was not loaded");
    const instance = await (await import(glue)).default();
    return new TextDecoder("latin1").decode(new Uint8Array(instance.memory.buffer));
  });
}

/** Whether the page shows the unlock form and nothing else of the app. */
async function lockedScreen(page) {
  await page.waitForSelector("#unlock-secret", { timeout: 60_000 });
  assert.equal(await page.locator(".card.household, header .status, article.household").count(), 0);
}

test("locked, the phone holds nothing readable of anybody; unlocked, everything is back", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signIn(page, ANNA);
  await waitSynced(page);
  const tag = randomBytes(6).toString("hex");
  const canaries = { visit: `KanarieBesok${tag}`, plan: `KanariePlan${tag}` };
  const id = await householdId(page, 0);
  await recordVisit(page, id, `Besök med ${canaries.visit} i anteckningen.`);
  await editPlanNotes(page, (text) => `${text} ${canaries.plan}`);
  await waitSynced(page);
  // Every name and address of the demo data on this phone, as it shows them.
  const caseload = await page.evaluate(() => fetch("/api/caseload").then((answer) => answer.json()));
  const addresses = caseload.map((entry) => entry.address).filter((address) => address.length >= 8);
  const names = [];
  for (const entry of caseload) {
    await openHousehold(page, entry.document_id);
    names.push(...(await page.locator(".member strong").allInnerTexts()));
  }
  assert.ok(addresses.length >= 20 && names.length >= 20, `${addresses.length} addresses, ${names.length} names`);
  const secrets = [canaries.visit, canaries.plan, ...addresses, ...names.filter((name) => name.length >= 8)];

  // Locked (a reload is what the lock does), then read raw.
  await page.goto("/#/");
  await page.reload();
  await lockedScreen(page);
  const device = await readDevice(page);
  for (const store of ["chunks", "summaries", "sync_states", "meta"]) {
    assert.ok(device.stores[store] >= 20 || (store === "meta" && device.stores[store] >= 1), `${store}: ${device.stores[store]} records`);
  }
  for (const secret of secrets) assert.ok(!device.text.includes(secret), `"${secret}" is readable on the device`);
  assert.ok(device.chunks.length >= 20, `${device.chunks.length} chunks`);
  for (const chunk of device.chunks) {
    assert.throws(() => Automerge.load(new Uint8Array(chunk)), "a stored chunk loads as an Automerge document");
  }
  const heap = await heapSnapshot(page);
  const memory = await wasmMemory(page);
  for (const secret of secrets) {
    assert.ok(!heap.includes(secret), `"${secret}" is in the JavaScript heap after the lock`);
    assert.ok(!memory.includes(secret), `"${secret}" is in the wasm memory after the lock`);
  }

  // Unlocked: the canary is back where it was written.
  await unlock(page, ANNA.password);
  await waitForHouseholds(page, 20);
  await openHousehold(page, id);
  await page.locator(".note", { hasText: canaries.visit }).waitFor();
  assert.match(await page.locator("#plan-notes").inputValue(), new RegExp(canaries.plan));
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("left alone, the app warns, then locks; a visit being typed is kept, and it unlocks offline", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await page.clock.install();
  await signIn(page, ANNA);
  await waitSynced(page);
  const id = await householdId(page, 2);
  await page.goto(`/#/h/${id}/visit/new`);
  await page.waitForSelector("form.visit-form");
  await page.fill("#notes", "Halvskrivet besök när telefonen låstes.");
  await page.waitForTimeout(1_000); // the draft is written a moment after the last key

  // Four minutes without use: a minute's warning, which says so and offers to go on.
  await page.clock.fastForward("04:01");
  const warning = page.locator(".lock-warning");
  await warning.waitFor({ timeout: 10_000 });
  assert.match(await warning.innerText(), /Lots låses om \d+ s/);
  await check(page, "lock-warning");
  await warning.locator("button").click();
  await warning.waitFor({ state: "detached", timeout: 10_000 });

  // Left alone again for five minutes: locked, with nothing of the app on the screen.
  await page.clock.fastForward("05:01");
  await lockedScreen(page);
  await check(page, "lock-unlock-form");

  // No network: it unlocks all the same, and the visit is there as it was typed.
  await goOffline(one).catch(() => one.context.setOffline(true));
  await unlock(page, ANNA.password);
  await page.waitForSelector("form.visit-form", { timeout: 60_000 });
  assert.equal(await page.locator("#notes").inputValue(), "Halvskrivet besök när telefonen låstes.");
  await page.locator(".visit-form .notice", { hasText: "innan appen låstes" }).waitFor();
  await page.locator("form.visit-form .chips").first().locator(".chip").first().click();
  await page.click("form.visit-form button[type=submit]");
  await page.locator(".note", { hasText: "Halvskrivet besök" }).waitFor({ timeout: 30_000 });
  await goOnline(one);
  await waitSynced(page);
  assert.equal(await recordsOf(page, "meta", "draft/"), 0, "the draft stays after the visit was saved");
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("ten wrong passwords erase the device, warning from the fifth, and end its session", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signIn(page, ANNA);
  await waitSynced(page);
  await page.reload();
  await lockedScreen(page);
  for (let attempt = 1; attempt <= 9; attempt += 1) {
    await page.fill("#unlock-secret", `fel-losenord-${attempt}`);
    await page.click(".unlock button[type=submit]");
    const problem = page.locator(".unlock .problem");
    await page.waitForFunction(
      (attempt) => document.querySelector(".unlock .problem") && !document.querySelector(".unlock button[type=submit]").disabled,
      attempt,
      { timeout: 30_000 },
    );
    const words = await problem.innerText();
    if (attempt < 5) assert.equal(words, "Fel lösenord.");
    else assert.match(words, new RegExp(`${10 - attempt === 1 ? "Ett försök" : `${10 - attempt} försök`} kvar.*raderas allt.*Servern har redan allt`));
    if (attempt === 5) await check(page, "lock-wrong-password-warning");
  }
  await page.fill("#unlock-secret", "fel-losenord-10");
  await page.click(".unlock button[type=submit]");
  await page.locator(".wiped", { hasText: "Tio fel lösenord" }).waitFor({ timeout: 30_000 });
  await page.waitForSelector("#username");
  for (const store of ["chunks", "summaries", "sync_states", "meta", "keyring", "dirty"]) {
    assert.equal(await recordsOf(page, store, ""), 0, `${store} still holds records`);
  }
  assert.equal((await page.request.get("/api/me")).status(), 401);
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("a device that has not reached the server for too long must before it unlocks", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signIn(page, ANNA);
  await waitSynced(page);
  // Its last contact put 40 days back (the keyring is the one record kept in the clear).
  await page.evaluate(
    () =>
      new Promise((done, fail) => {
        const open = indexedDB.open("lots");
        open.onsuccess = () => {
          const store = open.result.transaction("keyring", "readwrite").objectStore("keyring");
          const read = store.get("device");
          read.onsuccess = () => {
            const keyring = JSON.parse(read.result);
            keyring.reached_server = Date.now() - 40 * 24 * 3600 * 1000;
            store.put(JSON.stringify(keyring), "device").onsuccess = () => {
              open.result.close();
              done();
            };
          };
          read.onerror = () => fail(read.error);
        };
        open.onerror = () => fail(open.error);
      }),
  );
  await page.reload();
  await lockedScreen(page);
  await one.context.setOffline(true);
  await page.fill("#unlock-secret", ANNA.password);
  await page.click(".unlock button[type=submit]");
  await page.locator(".unlock .problem", { hasText: "inte haft kontakt med servern på 40 dagar" }).waitFor({ timeout: 30_000 });
  await one.context.setOffline(false);
  await unlock(page, ANNA.password);
  await waitForHouseholds(page, 20);
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("signing out in one tab empties every tab, and a second tab unlocks on its own", async () => {
  const one = await phone(browser, server.base);
  const { page } = one;
  await signIn(page, ANNA);
  await waitSynced(page);
  // A second tab of the app starts locked: the key lives in the tab that unlocked.
  const second = await one.context.newPage();
  await second.goto("/");
  await lockedScreen(second);
  await unlock(second, ANNA.password);
  await waitForHouseholds(second, 20);
  await page.locator("footer button", { hasText: "Logga ut" }).click();
  await page.waitForSelector("#username", { timeout: 60_000 });
  await second.waitForSelector("#username", { timeout: 60_000 });
  assert.equal(await second.locator(".card.household").count(), 0);
  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("a passkey unlocks the phone with its screen lock, and the password still does", async () => {
  // WebAuthn takes no IP address for the site, so this phone opens Lots at localhost.
  const local = await startServer({ publicOrigin: "http://localhost:{port}" });
  try {
    const one = await phone(browser, local.base.replace("127.0.0.1", "localhost"));
    const { page } = one;
    // The phone's authenticator, with PRF, and a person who always says yes.
    const cdp = await one.context.newCDPSession(page);
    await cdp.send("WebAuthn.enable");
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        hasPrf: true,
        automaticPresenceSimulation: true,
      },
    });
    await signIn(page, ANNA);
    await page.reload();
    await lockedScreen(page);
    await page.locator(".unlock label.check", { hasText: "skärmlås" }).click();
    await check(page, "lock-unlock-passkey-offer");
    await unlock(page, ANNA.password);
    await waitForHouseholds(page, 20);
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.equal(credentials.length, 1);

    // Locked again: one touch unlocks.
    await page.reload();
    await lockedScreen(page);
    await check(page, "lock-unlock-passkey");
    await page.click(".unlock button.passkey");
    await waitForHouseholds(page, 20);

    // A passkey that is gone says so; the password still unlocks.
    await page.reload();
    await lockedScreen(page);
    await cdp.send("WebAuthn.removeCredential", { authenticatorId, credentialId: credentials[0].credentialId });
    await page.click(".unlock button.passkey");
    await page.locator(".unlock .problem", { hasText: "Passkey låste inte upp" }).waitFor({ timeout: 30_000 });
    await unlock(page, ANNA.password);
    await waitForHouseholds(page, 20);
    assert.deepEqual(one.errors, []);
    await one.context.close();
  } finally {
    local.stop();
  }
});
