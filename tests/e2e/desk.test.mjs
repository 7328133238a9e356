// The supervisor's desk end to end, at 1440×900 in Debian's Chromium against the real built
// app and the real server: every desk view with axe-core, a visit recorded on a phone showing
// up in the tertial report and its CSV, and an assignment moving a household's access. Run
// by `cargo xtask test` (`node --test`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  ANNA,
  check,
  householdId,
  launch,
  openHousehold,
  phone,
  recordVisit,
  signIn,
  startServer,
  waitSynced,
} from "./harness.mjs";

const SARA = { username: "sara", password: "demo-sara-2026" };
const DESKTOP = { width: 1440, height: 900 };
/** The demo gives Anna and Omar 20 households each; Sara supervises both districts. */
const ALL_HOUSEHOLDS = 40;

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

/** The overview's count line: "Visar 40 av 40 hushåll som matchar (40 totalt)." */
async function overviewCounts(page) {
  const text = await page.locator("section.desk-overview p[role=status]").innerText();
  const [shown, matching, total] = text.match(/\d+/g).map(Number);
  return { shown, matching, total };
}

/** A supervisor at a desktop, signed in, with every household of her districts synced. */
async function desk() {
  const one = await phone(browser, server.base, DESKTOP);
  const { page } = one;
  await page.goto("/");
  await page.waitForSelector("#username");
  await page.fill("#username", SARA.username);
  await page.fill("#password", SARA.password);
  await page.click("button[type=submit]");
  await page.waitForSelector("section.desk-overview");
  await page.waitForFunction(
    (count) => document.querySelectorAll("table.desk-table tbody tr").length >= count,
    ALL_HOUSEHOLDS,
    { timeout: 90_000 },
  );
  await waitSynced(page);
  return one;
}

/** Opens a desk tab by its visible name and waits for its heading. */
async function tab(page, name, heading) {
  await page.locator("nav .tab", { hasText: name }).click();
  await page.locator("main h1", { hasText: heading }).waitFor();
}

/** The report's "visits done" figure, once the report is computed. */
async function visitsDone(page) {
  await page.locator("dd.visits-done").waitFor({ timeout: 60_000 });
  return Number(await page.locator("dd.visits-done").innerText());
}

/** Downloads one report table's CSV and returns it as rows of cells. */
async function reportCsv(page, table) {
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator(`.report-table[data-table=${table}] button.csv`).click(),
  ]);
  const text = readFileSync(await download.path(), "utf8").replace(/^\uFEFF/, "");
  return text
    .trim()
    .split(/\r?\n/)
    .map((line) => line.split(","));
}

test("every desk view at 1440×900, with no accessibility violations", async () => {
  const one = await desk();
  const { page } = one;
  const all = await overviewCounts(page);
  assert.equal(all.total, ALL_HOUSEHOLDS);
  assert.equal(all.matching, ALL_HOUSEHOLDS);
  await check(page, "desk-overview");

  // Filtering by district leaves Anna's twenty.
  await page.locator(".filters label", { hasText: "Stadsdel" }).locator("select").selectOption("district-norrmalm");
  await page.waitForFunction(() => /Visar 20 av 20/.test(document.querySelector("section.desk-overview p[role=status]").innerText));
  await page.locator(".filters label", { hasText: "Sortera efter" }).locator("select").selectOption("last_visit");
  await check(page, "desk-overview-norrmalm-by-last-visit");
  await page.locator(".filters label", { hasText: "Stadsdel" }).locator("select").selectOption("");

  // A household opens to read, every control disabled, and from there to edit.
  await page.locator("table.desk-table a.household-link").first().click();
  await page.waitForSelector("article.household h1");
  assert.ok(await page.locator("fieldset.read-only-frame select").first().isDisabled());
  await check(page, "desk-household-read-only");
  await page.locator(".read-only-note a").click();
  await page.waitForSelector("article.household a.button.primary");
  await check(page, "desk-household-edit");

  await tab(page, "Arbetsbelastning", "Arbetsbelastning");
  const workload = await page.locator("table.desk-table tbody tr").allInnerTexts();
  assert.ok(workload.some((row) => row.startsWith("Anna")), workload.join("\n"));
  await check(page, "desk-workload");

  await tab(page, "Planer", "Planernas framsteg");
  await page.locator("table.desk-table tbody tr.total").waitFor({ timeout: 60_000 });
  await check(page, "desk-plans");
  // The plans as they stood a year ago: read from history.
  const yearAgo = new Date(Date.now() - 365 * 24 * 3600 * 1000).toISOString().slice(0, 10);
  await page.locator(".filters input[type=date]").fill(yearAgo);
  await page.locator(".filters input[type=date]").dispatchEvent("change");
  await page.locator("p.meta", { hasText: "den " }).waitFor();
  await page.locator("table.desk-table tbody tr.total").waitFor({ timeout: 60_000 });
  await check(page, "desk-plans-a-year-ago");

  await tab(page, "Rapport", "Tertialrapport");
  await visitsDone(page);
  await page.locator(".report-table[data-table=cost_share]").waitFor({ timeout: 60_000 });
  await check(page, "desk-report");
  await page.locator(".report-table[data-table=topics]").scrollIntoViewIfNeeded();
  await check(page, "desk-report-tables");
  await page.locator(".report-table[data-table=cost_share]").scrollIntoViewIfNeeded();
  await check(page, "desk-report-cost-share");
  await page.emulateMedia({ media: "print" });
  await page.screenshot({ path: `${process.env.LOTS_ARTIFACTS ?? "../../target/e2e"}/desk-report-print.png`, fullPage: true });
  await page.emulateMedia({ media: "screen" });

  await tab(page, "Logg", "Åtkomstlogg");
  await page.locator("table.desk-table tbody tr").first().waitFor({ timeout: 30_000 });
  assert.match(await page.locator("main").innerText(), /Loggens kedja är obruten/);
  await check(page, "desk-log");

  assert.deepEqual(one.errors, []);
  await one.context.close();
});

test("a visit recorded on a phone minutes earlier is in the tertial report and its CSV", async () => {
  const supervisor = await desk();
  const { page } = supervisor;
  await tab(page, "Rapport", "Tertialrapport");
  const before = await visitsDone(page);
  const csvBefore = await reportCsv(page, "visits");
  assert.deepEqual(csvBefore[0].slice(0, 3), ["Besök", "Besök", "Personer"]);
  const doneRow = (rows) => rows.find((row) => row[0] === "Genomfört");
  assert.equal(Number(doneRow(csvBefore)[1]), before);

  const field = await phone(browser, server.base);
  await signIn(field.page, ANNA);
  await waitSynced(field.page);
  const id = await householdId(field.page, 0);
  await openHousehold(field.page, id);
  await recordVisit(field.page, id, "Besök som ska synas i tertialrapporten.");
  await waitSynced(field.page);

  await page.waitForFunction(
    (expected) => Number(document.querySelector("dd.visits-done")?.innerText) === expected,
    before + 1,
    { timeout: 30_000 },
  );
  const csvAfter = await reportCsv(page, "visits");
  assert.equal(Number(doneRow(csvAfter)[1]), before + 1);
  await check(page, "desk-report-after-phone-visit");

  for (const one of [supervisor, field]) {
    assert.deepEqual(one.errors, []);
    await one.context.close();
  }
});

test("assigning a household to nobody takes it off the staff member's caseload, and back", async () => {
  const supervisor = await desk();
  const { page } = supervisor;
  const field = await phone(browser, server.base);
  await signIn(field.page, ANNA);
  const caseload = async () =>
    (await (await field.page.request.get("/api/caseload")).json()).map((entry) => entry.document_id);
  const before = await caseload();
  assert.equal(before.length, 20);

  await page.locator(".filters label", { hasText: "Stadsdel" }).locator("select").selectOption("district-norrmalm");
  const row = page.locator("table.desk-table tbody tr").first();
  const link = await row.locator("a.household-link").getAttribute("href");
  const id = link.replace(/^.*#\/h\/([^/]+)\/read$/, "$1");
  assert.ok(before.includes(id));
  const assign = page.locator(`table.desk-table tbody tr:has(a[href$="/h/${id}/read"]) select`);
  await assign.selectOption("");
  // The server writes the assignment into the household; it reaches the desk by sync.
  await page.waitForFunction(
    (id) => {
      const select = document.querySelector(`table.desk-table tbody tr:has(a[href$="/h/${id}/read"]) select`);
      return select && select.value === "" && !select.closest("td").innerText.includes("Sparar");
    },
    id,
    { timeout: 30_000 },
  );
  assert.ok(!(await caseload()).includes(id));

  await assign.selectOption("u-anna");
  await page.waitForFunction(
    (id) => document.querySelector(`table.desk-table tbody tr:has(a[href$="/h/${id}/read"]) select`)?.value === "u-anna",
    id,
    { timeout: 30_000 },
  );
  assert.ok((await caseload()).includes(id));
  await check(page, "desk-overview-after-assignment");

  for (const one of [supervisor, field]) {
    assert.deepEqual(one.errors, []);
    await one.context.close();
  }
});
