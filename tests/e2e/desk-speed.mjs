// How fast the supervisor's desk opens over a large caseload: a measurement, not a test
// (nothing here passes or fails on time). The demo server is started with
// LOTS_DEMO_HOUSEHOLDS per staff member (default 250: 500 households, cases opened over two
// years with weekly or fortnightly visits); the supervisor signs in at 1440×900 and waits
// until every household is on the device; then, with the CPU slowed 4× through the DevTools
// protocol, it times opening the overview (a reload: the app starting, IndexedDB read, every
// household listed from its stored summary), the current tertial's report, the previous
// tertial's (its households as at the end read in the background after the first sync and
// kept on the device), that one again (kept in memory), and the plans as they stood a year
// ago (read from history).
//
//   LOTS_DEMO_HOUSEHOLDS=250 node desk-speed.mjs
import { launch, phone, startServer } from "./harness.mjs";

process.env.LOTS_DEMO_HOUSEHOLDS ??= "250";
const households = 2 * Number(process.env.LOTS_DEMO_HOUSEHOLDS);
const server = await startServer();
const browser = await launch();
const results = {};

/**
 * Whether the overview lists `count` households (its line "Visar 100 av 500 … (500
 * totalt)"), and with `synced` also that the status line says everything is synced. Passed
 * to the page as a function: the app's CSP forbids evaluating strings.
 */
const listed = ([count, synced]) => {
  const line = document.querySelector("section.desk-overview p[role=status]")?.innerText ?? "";
  const numbers = line.match(/\d+/g);
  const all = numbers !== null && Number(numbers[2]) >= count;
  return all && (!synced || document.querySelector("header .status")?.innerText.trim() === "Synkat");
};

let page;

/** Times `action`, then lists the app's own User Timing measures taken meanwhile. */
async function timed(name, action) {
  const since = (await page?.evaluate(() => performance.now())) ?? 0;
  const started = performance.now();
  await action();
  results[name] = Math.round(performance.now() - started);
  // A reload starts the page's clock again: its measures are all new.
  const measures = await page.evaluate((since) =>
    performance
      .getEntriesByType("measure")
      .filter((entry) => entry.name.startsWith("lots:") && (entry.startTime >= since || performance.now() < since))
      .map((entry) => `${entry.name} ${Math.round(entry.duration)}`),
    since,
  );
  console.log(`${name}: ${results[name]} ms${measures.length ? ` (${measures.join(", ")})` : ""}`);
}

try {
  const opened = await phone(browser, server.base, { width: 1440, height: 900 });
  page = opened.page;
  const context = opened.context;
  await page.goto("/");
  await page.fill("#username", "sara");
  await page.fill("#password", "demo-sara-2026");
  await page.click("button[type=submit]");
  await timed("first sync of every household (no slowdown)", () =>
    page.waitForFunction(
      listed,
      [households, true],
      { timeout: 1_800_000, polling: 1000 },
    ),
  );

  // The desk reads every household as at each past tertial's end in the background once
  // everything is on the device, and keeps them there (a User Timing measure when done).
  await timed("then households as at the five past tertials' ends, in the background (no slowdown)", () =>
    // A pass that read history ends with a measure; done when none has followed for 10 s.
    page.waitForFunction(
      () => {
        const passes = performance.getEntriesByName("lots:past-tertials");
        const last = passes.at(-1);
        return last !== undefined && performance.now() - (last.startTime + last.duration) > 10_000;
      },
      null,
      { timeout: 1_800_000, polling: 1000 },
    ),
  );
  results["the same, as the app measured it (its passes)"] = await page.evaluate(() =>
    performance.getEntriesByName("lots:past-tertials").map((pass) => Math.round(pass.duration)),
  );

  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });

  await timed("overview: reload until every household is listed (4× slower CPU)", async () => {
    await page.reload();
    await page.waitForFunction(listed, [households, false], { timeout: 600_000, polling: 50 });
  });
  await timed("report, current tertial (4×)", async () => {
    await page.locator("nav .tab", { hasText: "Rapport" }).click();
    await page.locator("dd.visits-done").waitFor({ timeout: 600_000 });
  });
  const tertials = page.locator(".filters label", { hasText: "Tertial" }).locator("select");
  const current = await tertials.inputValue();
  const previous = await tertials.locator("option").nth(1).getAttribute("value");
  await timed("report, previous tertial, first time this session: kept on the device (4×)", async () => {
    await tertials.selectOption(previous);
    await page.waitForFunction(
      () => !document.querySelector("main p[role=status]") && document.querySelector("dd.visits-done"),
      null,
      { timeout: 1_800_000, polling: 50 },
    );
  });
  await tertials.selectOption(current);
  await page.locator("dd.visits-done").waitFor();
  await timed("report, previous tertial again: kept in memory (4×)", async () => {
    await tertials.selectOption(previous);
    await page.waitForFunction(
      () => !document.querySelector("main p[role=status]") && document.querySelector("dd.visits-done"),
      null,
      { timeout: 600_000, polling: 50 },
    );
  });
  await timed("plans a year ago, first time (4×)", async () => {
    await page.locator("nav .tab", { hasText: "Planer" }).click();
    const yearAgo = new Date(Date.now() - 365 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const input = page.locator(".filters input[type=date]");
    await input.fill(yearAgo);
    await input.dispatchEvent("change");
    await page.waitForFunction(
      () => !document.querySelector("main p[role=status]") && document.querySelector("table.desk-table tr.total"),
      null,
      { timeout: 1_800_000, polling: 50 },
    );
  });
  console.log(JSON.stringify({ households, ...results }, null, 2));
} finally {
  await browser.close();
  server.stop();
}
