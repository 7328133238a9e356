// `cargo xtask bench-web`: the field app's budgets, measured in Debian's Chromium with
// Chrome DevTools Protocol throttling against the real server (release build) holding a
// synthetic caseload of 60 households with 100 visits each. Prints one line per figure and
// a JSON summary; the figures go in BENCHMARKS.md.
//
//   wasm size        each .wasm, brotli (quality 11) as the server sends it: the sign-in alone
//                    (a new device's first download, see web/src/boot.rs) and the whole app
//   cold start       first visit, empty cache, to the sign-in form: Fast 3G, 4× CPU slowdown
//   whole app        in that visit, from the form shown until the start-up script has fetched
//                    and compiled the whole app (`lots:app-loaded`): the time a person has to
//                    type before signing in waits for it
//   first sync       sign in to 60 households on the device and "Synkat": Fast 3G, once the
//                    whole app is fetched (as after typing for that time)
//   signed in at once  the same, with the form submitted the moment it shows on a first visit:
//                    the rest of the whole app's download is then part of the wait
//   warm start       reload (which is what the lock does), shell from the service worker, to
//                    the unlock form
//   unlock           the password submitted to the 60-household list shown: the key derived
//                    and unwrapped (`lots:unlock-key`, also on its own: WebCrypto runs PBKDF2
//                    in the browser's native code, which DevTools' CPU throttling does not
//                    slow, so the 4× figure counts it at native speed), then IndexedDB read
//                    and decrypted
//   list from IDB    in that unlock, from reading IndexedDB (`lots:open`) to the list shown
//                    (all at full speed and with 4× CPU slowdown; the budgets: warm start at
//                    full speed, unlock on the 4×-slowed phone)
//   visit saved      submitting the visit form to the change committed in IndexedDB
//                    (`lots:save`, the app's own User Timing measure), median of 5
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants } from "node:zlib";
import { ANNA, householdId, launch, phone, signIn, startServer, waitSynced } from "./harness.mjs";

const HOUSEHOLDS = 60;
const VISITS = 100;
const RUNS = Number(process.env.LOTS_BENCH_RUNS ?? 3);
// Chrome DevTools' "Fast 3G" preset (as in its network panel), in bytes per second.
const FAST_3G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: (1.6 * 1024 * 1024 * 0.9) / 8,
  uploadThroughput: (750 * 1024 * 0.9) / 8,
};
const UNTHROTTLED = { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 };

const dist = process.env.LOTS_DIST;
const results = {};

function record(name, value, unit, budget) {
  const verdict = budget === undefined ? "" : value <= budget ? `  (budget ${budget} ${unit}: met)` : `  (budget ${budget} ${unit}: NOT met)`;
  console.log(`${name.padEnd(34)} ${String(value).padStart(8)} ${unit}${verdict}`);
  results[name] = { value, unit, budget };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function throttle(page, network, cpu) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", network);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: cpu });
  return cdp;
}

// Each wasm, compressed as the server's precompressed copy is.
for (const [label, prefix] of [["sign-in, first download", "lots-signin-"], ["whole app", "lots-web-"]]) {
  const wasmFile = readdirSync(dist).find((file) => file.startsWith(prefix) && file.endsWith(".wasm"));
  if (wasmFile === undefined) throw new Error(`no ${prefix}*.wasm in ${dist}: build the web app first`);
  const wasm = readFileSync(join(dist, wasmFile));
  const brotli = brotliCompressSync(wasm, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } });
  record(`wasm (brotli), ${label}`, Math.round(brotli.length / 1024), "KB", 350);
}

/** Resolves when the start-up script has fetched and compiled the whole app. */
const appLoaded = (page) =>
  page.waitForFunction(() => performance.getEntriesByName("lots:app-loaded").length > 0, null, {
    timeout: 120_000,
  });

/** Signs in on `page` (its form shown) and resolves when the caseload is on it and synced. */
async function signInAndSync(page) {
  await page.fill("#username", ANNA.username);
  await page.fill("#password", ANNA.password);
  const started = await page.evaluate(() => performance.now());
  await page.click("button[type=submit]");
  await page.waitForFunction(
    (count) => document.querySelectorAll(".card.household").length >= count,
    HOUSEHOLDS,
    { timeout: 120_000 },
  );
  await waitSynced(page, 120_000);
  return (await page.evaluate(() => performance.now())) - started;
}

/** A new phone's first visit on Fast 3G at `cpu`× slowdown, up to the sign-in form. */
async function firstVisit(browser, base, cpu) {
  const one = await phone(browser, base);
  await throttle(one.page, FAST_3G, cpu);
  await one.page.goto("/");
  await one.page.waitForSelector("#username");
  return one;
}

const server = await startServer({
  args: ["--demo-households", String(HOUSEHOLDS), "--demo-visits", String(VISITS)],
});
const browser = await launch();
try {
  const cold = [];
  const ready = [];
  for (let run = 0; run < RUNS; run++) {
    const one = await firstVisit(browser, server.base, 4);
    const shown = await one.page.evaluate(() => performance.now());
    cold.push(shown);
    await appLoaded(one.page);
    ready.push((await one.page.evaluate(() => performance.getEntriesByName("lots:app-loaded")[0].startTime)) - shown);
    await one.context.close();
  }
  record("cold start, Fast 3G, 4x CPU", Math.round(median(cold)), "ms", 3000);
  record("whole app fetched after the form, Fast 3G, 4x CPU", Math.round(median(ready)), "ms");

  const atOnce = [];
  for (let run = 0; run < RUNS; run++) {
    const one = await firstVisit(browser, server.base, 1);
    atOnce.push(await signInAndSync(one.page));
    await one.context.close();
  }
  record(`signed in at once, ${HOUSEHOLDS} households, Fast 3G`, Math.round(median(atOnce)), "ms");

  const sync = [];
  let device;
  for (let run = 0; run < RUNS; run++) {
    device = await phone(browser, server.base);
    const { page } = device;
    await page.goto("/");
    await page.waitForSelector("#username");
    await appLoaded(page);
    const cdp = await throttle(page, FAST_3G, 1);
    sync.push(await signInAndSync(page));
    await cdp.send("Network.emulateNetworkConditions", UNTHROTTLED);
    if (run < RUNS - 1) await device.context.close();
  }
  record(`first sync, ${HOUSEHOLDS} households, Fast 3G`, Math.round(median(sync)), "ms", 10_000);

  // The last device stays signed in: warm starts and saves on it, once the service worker the
  // whole app registered has taken the page.
  const { page } = device;
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 60_000 });
  for (const [label, cpu] of [["", 1], [", 4x CPU", 4]]) {
    await throttle(page, UNTHROTTLED, cpu);
    const warm = [];
    const unlock = [];
    const derive = [];
    const list = [];
    for (let run = 0; run < RUNS; run++) {
      // A reload is what the lock does: the page starts again at the unlock form.
      await page.reload();
      await page.waitForSelector("#unlock-secret", { timeout: 60_000 });
      const { formShown, fromWorker } = await page.evaluate(() => {
        const [navigation] = performance.getEntriesByType("navigation");
        return { formShown: performance.now(), fromWorker: navigation.workerStart > 0 };
      });
      if (!fromWorker) throw new Error("the reload did not go through the service worker");
      await page.fill("#unlock-secret", ANNA.password);
      const submitted = await page.evaluate(() => performance.now());
      await page.click(".unlock button[type=submit]");
      await page.waitForFunction(
        (count) => document.querySelectorAll(".card.household").length >= count,
        HOUSEHOLDS,
        { timeout: 60_000, polling: "raf" },
      );
      const { shown, open, derived } = await page.evaluate(() => ({
        shown: performance.now(),
        open: performance.getEntriesByName("lots:open")[0]?.startTime,
        derived: performance.getEntriesByName("lots:unlock-key")[0]?.duration,
      }));
      if (open === undefined) throw new Error("the app recorded no lots:open measure");
      if (derived === undefined) throw new Error("the app recorded no lots:unlock-key measure");
      warm.push(formShown);
      unlock.push(shown - submitted);
      derive.push(derived);
      list.push(shown - open);
    }
    record(`warm start to the unlock form${label}`, Math.round(median(warm)), "ms", cpu === 1 ? 1000 : undefined);
    record(`unlock to the ${HOUSEHOLDS}-household list${label}`, Math.round(median(unlock)), "ms", cpu === 4 ? 1500 : undefined);
    record(`  of which the key (PBKDF2, 600,000 rounds)${label}`, Math.round(median(derive)), "ms");
    record(`${HOUSEHOLDS}-household list from IndexedDB${label}`, Math.round(median(list)), "ms", cpu === 1 ? 500 : undefined);
  }

  const id = await householdId(page, 0);
  for (const [label, cpu] of [["", 1], [", 4x CPU", 4]]) {
    await throttle(page, UNTHROTTLED, cpu);
    const saves = [];
    for (let run = 0; run < 5; run++) {
      await page.goto(`/#/h/${id}/visit/new`);
      await page.waitForSelector("form.visit-form");
      await page.locator("form.visit-form .chips").first().locator(".chip").first().click();
      await page.fill("#notes", `Benchmark ${run}${label}.`);
      await page.evaluate(() => performance.clearMeasures("lots:save"));
      await page.click("form.visit-form button[type=submit]");
      await page.waitForFunction(() => performance.getEntriesByName("lots:save").length > 0);
      saves.push(await page.evaluate(() => performance.getEntriesByName("lots:save")[0].duration));
    }
    record(`visit saved${label}`, Math.round(median(saves) * 10) / 10, "ms", cpu === 1 ? 50 : undefined);
  }
} finally {
  await browser.close();
  server.stop();
}
console.log(JSON.stringify({ machine: process.env.LOTS_MACHINE, results }));
