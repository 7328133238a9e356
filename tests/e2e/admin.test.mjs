// The administrator's console end to end, at 1440×900 (and 390×844) in Debian's Chromium
// against the real built app and the real server: a district created and renamed, a user
// created (a taken username refused in words), their role changed, their password reset to a
// temporary one with which they sign in and are made to choose their own; a lost phone
// revoked; and the caseloads overview with counts and no household. axe-core on every
// section. Run by `cargo xtask test` (`node --test`).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { SARA, apiSession, check, launch, phone, recordsOf, reloadAndUnlock, startServer } from "./harness.mjs";

const ADMIN = { username: "admin", password: "demo-admin-2026" };
const OMAR = { username: "omar", password: "demo-omar-2026" };
const DESKTOP = { width: 1440, height: 900 };
const PHONE = { width: 390, height: 844 };

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

/** The demo administrator, signed in, on the users section. */
async function console_(viewport = DESKTOP) {
  const one = await phone(browser, server.base, viewport);
  const { page } = one;
  await page.goto("/");
  await page.waitForSelector("#username");
  await page.fill("#username", ADMIN.username);
  await page.fill("#password", ADMIN.password);
  await page.click("button[type=submit]");
  await page.locator("table.users-table tbody tr").first().waitFor({ timeout: 60_000 });
  return one;
}

/** Opens a section by its tab and waits for its heading. */
async function section(page, name) {
  await page.locator("nav .tab", { hasText: name }).click();
  await page.locator("main h1", { hasText: name }).waitFor();
}

/** The users table's row of `name`. */
function userRow(page, name) {
  return page.locator("table.users-table tbody tr", { has: page.locator("th", { hasText: name }) });
}

test("an administrator creates a district and a user, changes her role, resets her password, and she chooses her own", async () => {
  const admin = await console_();
  const { page } = admin;
  // No household list for an administrator: the console.
  assert.equal(await page.locator(".card.household").count(), 0);
  assert.match(await page.locator("table.users-table").innerText(), /Anna Lind/);
  await check(page, "admin-users");

  // Districts: create one (its id from its name), then rename it (the id stays).
  await section(page, "Stadsdelar");
  await page.fill("#new-district-name", "Östermalm");
  assert.match(await page.locator("#new-district-id").innerText(), /district-ostermalm/);
  await page.click("form.new-district button[type=submit]");
  await page.locator(".admin-done", { hasText: "Östermalm" }).waitFor();
  await page.locator("table.districts-table tr", { hasText: "district-ostermalm" }).waitFor();
  await page.locator("button", { hasText: "Byt namn: Östermalm" }).click();
  await page.fill("#rename-district-ostermalm", "Östermalm-Djurgården");
  await page.click("form.rename button[type=submit]");
  const renamed = page.locator("table.districts-table tr", { hasText: "district-ostermalm" });
  await renamed.locator("th", { hasText: "Östermalm-Djurgården" }).waitFor();
  // The same name again is refused in words.
  await page.fill("#new-district-name", "Östermalm");
  await page.click("form.new-district button[type=submit]");
  await page.locator(".admin-failed", { hasText: "finns redan" }).waitFor();
  await check(page, "admin-districts");

  // Users: a taken username is refused in words, a short password before it is sent.
  await section(page, "Användare");
  await page.click("button.admin-new");
  await page.fill("#new-username", "anna");
  await page.fill("#new-display-name", "Lina Berg");
  await page.check("#new-district-district-ostermalm");
  await page.fill("#new-initial-password", "kort");
  await page.click("form.new-user button[type=submit]");
  await page.locator("form.new-user .problem", { hasText: "minst 12 tecken" }).waitFor();
  await page.click("form.new-user button[type=button]:has-text('Föreslå')");
  assert.match(await page.inputValue("#new-initial-password"), /^[a-z2-9]{4}(-[a-z2-9]{4}){3}$/);
  await page.click("form.new-user button[type=submit]");
  await page.locator("form.new-user .problem", { hasText: "upptaget" }).waitFor();
  await check(page, "admin-user-new-refused");
  await page.fill("#new-username", "lina");
  await page.click("form.new-user button[type=submit]");
  await page.locator(".admin-done", { hasText: "Lina Berg har skapats" }).waitFor();
  await userRow(page, "Lina Berg").locator("td", { hasText: "Östermalm-Djurgården" }).waitFor();
  assert.match(await userRow(page, "Lina Berg").innerText(), /Boendestödjare/);

  // Her role changes to supervisor.
  await page.click("button:has-text('Ändra: Lina Berg')");
  await page.selectOption("#edit-role", "supervisor");
  await page.locator("form.edit-user", { hasText: "loggas" }).waitFor();
  await check(page, "admin-user-edit");
  await page.click("form.edit-user button[type=submit]");
  await page.locator(".admin-done", { hasText: "Lina Berg har sparats" }).waitFor();
  await userRow(page, "Lina Berg").locator("td", { hasText: "Arbetsledare" }).waitFor();

  // The administrator's own role and districts are not offered for change.
  await page.click("button:has-text('Ändra: Admin Lots')");
  assert.equal(await page.locator("#edit-role").isEditable(), false);
  await page.click("form.edit-user button[type=button]");

  // Her password is reset: the temporary one is shown once, with how to hand it over.
  await page.click("button:has-text('Återställ lösenord: Lina Berg')");
  await page.locator(".admin-confirm", { hasText: "Återställa lösenordet för Lina Berg?" }).waitFor();
  await page.click(".admin-confirm button.primary");
  const temporary = (await page.locator(".temporary-password code").innerText()).trim();
  assert.ok(temporary.length >= 12, temporary);
  assert.match(await page.locator(".admin-temporary").innerText(), /aldrig via e-post/);
  await check(page, "admin-temporary-password");
  await page.click(".admin-temporary button");
  assert.equal(await page.locator(".temporary-password").count(), 0, "shown once");

  // She signs in on her phone with it and must choose her own before anything else.
  const lina = await phone(browser, server.base, PHONE);
  await lina.page.goto("/");
  await lina.page.waitForSelector("#username");
  await lina.page.fill("#username", "lina");
  await lina.page.fill("#password", temporary);
  await lina.page.click("button[type=submit]");
  await lina.page.waitForSelector("#new-password", { timeout: 60_000 });
  assert.equal(await lina.page.locator(".card.household, section.desk-overview").count(), 0);
  await check(lina.page, "password-choose-phone");
  await lina.page.fill("#current-password", temporary);
  await lina.page.fill("#new-password", "linas-eget-losenord");
  await lina.page.fill("#repeat-password", "linas-eget-losenord-2");
  await lina.page.click("form button[type=submit]");
  await lina.page.locator("form .problem", { hasText: "inte likadana" }).waitFor();
  await lina.page.fill("#repeat-password", "linas-eget-losenord");
  await lina.page.click("form button[type=submit]");
  await lina.page.waitForSelector("section.desk-overview", { timeout: 60_000 });
  // What the device keeps is locked with her own password now, not the temporary one.
  await reloadAndUnlock(lina.page, "linas-eget-losenord");
  await lina.page.waitForSelector("section.desk-overview", { timeout: 60_000 });
  // The temporary password no longer works; her own does.
  const login = (password) =>
    fetch(`${server.base}/api/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "lina", password, device_label: "e2e" }),
    });
  assert.equal((await login(temporary)).status, 401);
  const own = await login("linas-eget-losenord");
  assert.equal(own.status, 200);
  assert.equal((await own.json()).must_change_password ?? false, false);

  for (const one of [admin, lina]) {
    assert.deepEqual(one.errors, []);
    await one.context.close();
  }
});

test("a lost phone is revoked in one click, after a confirmation naming it and its owner, and deletes everything", async () => {
  const omar = await phone(browser, server.base, PHONE);
  await omar.page.goto("/");
  await omar.page.waitForSelector("#username");
  await omar.page.fill("#username", OMAR.username);
  await omar.page.fill("#password", OMAR.password);
  await omar.page.click("button[type=submit]");
  await omar.page.locator(".card.household").first().waitFor({ timeout: 90_000 });
  assert.equal((await omar.page.request.get("/api/me")).status(), 200);

  const admin = await console_();
  const { page } = admin;
  await section(page, "Enheter");
  await page.fill("#device-filter", "Omar");
  const device = page.locator("table.devices-table tbody tr:not(.revoked)", { hasText: "Chrome på Linux" }).first();
  await device.waitFor();
  assert.match(await device.innerText(), /Omar Said/);
  await check(page, "admin-devices");
  await device.locator("button.danger").click();
  const confirm = page.locator(".admin-confirm");
  assert.match(await confirm.innerText(), /Spärra Chrome på Linux som tillhör Omar Said\?/);
  await check(page, "admin-device-confirm");
  await confirm.locator("button.primary").click();
  await page.locator(".admin-done", { hasText: "är spärrad" }).waitFor();
  const revoked = page.locator("table.devices-table tbody tr.revoked", { hasText: "Omar Said" }).first();
  await revoked.waitFor();
  assert.match(await revoked.innerText(), /Spärrad/);
  assert.equal((await omar.page.request.get("/api/me")).status(), 401, "the revoked phone is signed out");
  await check(page, "admin-device-revoked");

  // The phone hears it at once (its socket is closed), has nothing waiting for the server,
  // deletes everything and says why.
  await omar.page.locator(".wiped", { hasText: "En administratör har spärrat den här enheten" }).waitFor({ timeout: 30_000 });
  for (const store of ["chunks", "summaries", "sync_states", "dirty", "meta", "past"]) {
    assert.equal(await recordsOf(omar.page, store, ""), 0, `${store} still holds something`);
  }
  assert.equal(await omar.page.evaluate(() => localStorage.getItem("lots-signed-in")), null);
  await check(omar.page, "phone-wiped");
  // It told the server, which put it on the log for the administrator.
  const asAdmin = await apiSession(server.base, ADMIN);
  const wiped = await asAdmin("GET", "/api/audit?action=device-wiped");
  assert.ok(wiped.entries.some((row) => row.user_id === "u-omar" && row.detail === "device-revoked"), JSON.stringify(wiped));
  assert.deepEqual(omar.errors, []);

  assert.deepEqual(admin.errors, []);
  await admin.context.close();
  await omar.context.close();
});

test("the caseloads overview shows counts per person and district, and no household", async () => {
  const admin = await console_();
  const { page } = admin;
  // Caseloads: counts per person and district, and no household.
  await section(page, "Ärendefördelning");
  await page.locator("table.caseloads-table tbody tr.total").waitFor({ timeout: 30_000 });
  const table = await page.locator("table.caseloads-table").innerText();
  assert.match(table, /Anna Lind/);
  assert.match(table, /Omar Said/);
  const anna = await page.locator("table.caseloads-table tbody tr", { hasText: "Anna Lind" }).innerText();
  assert.match(anna, /\b20\b/, anna);
  const sara = await apiSession(server.base, SARA);
  const households = await sara("GET", "/api/caseload");
  assert.ok(households.length >= 40);
  const shown = await page.locator("body").innerText();
  for (const household of households) {
    assert.ok(!shown.includes(household.document_id), `a household id is shown: ${household.document_id}`);
    if (household.address) assert.ok(!shown.includes(household.address), `an address is shown: ${household.address}`);
  }
  await check(page, "admin-caseloads");
  assert.deepEqual(admin.errors, []);
  await admin.context.close();
});

test("the console on a phone, and in English", async () => {
  const admin = await console_(PHONE);
  const { page } = admin;
  await check(page, "admin-users-phone");
  await section(page, "Enheter");
  await page.locator("table.devices-table tbody tr").first().waitFor();
  await check(page, "admin-devices-phone");
  await section(page, "Ärendefördelning");
  await page.locator("table.caseloads-table tbody tr.total").waitFor({ timeout: 30_000 });
  await check(page, "admin-caseloads-phone");
  await section(page, "Stadsdelar");
  await check(page, "admin-districts-phone");
  await page.locator("footer select").selectOption("en");
  await section(page, "Users");
  await page.locator("table.users-table", { hasText: "Supervisor" }).waitFor();
  await check(page, "admin-users-phone-english");
  assert.deepEqual(admin.errors, []);
  await admin.context.close();
});

test("gallring lists what is due first, and a household recorded in error is removed on a decision", async () => {
  const admin = await console_();
  const { page } = admin;
  await section(page, "Gallring");
  await page.locator("button", { hasText: "Lista vad som ska gallras" }).click();
  // The demo's households were all written just now: nothing is due.
  await page.locator("table.retention-due caption", { hasText: "Inga hushåll att gallra" }).waitFor({ timeout: 30_000 });
  assert.match(await page.locator(".retention-rule").innerText(), /gallras 5 år efter sista anteckningen/);
  await check(page, "admin-retention");

  // An id that names no household is refused in words, and nothing is removed.
  await page.fill("#remove-household", "not-a-household");
  await page.fill("#remove-decision", "Dnr 2031/99");
  await page.fill("#remove-reason", "Registrerat två gånger (syntetiskt test)");
  await page.click("form.remove-one button[type=submit]");
  await page.locator(".admin-failed", { hasText: "Det finns inget hushåll med det id:t" }).waitFor();

  const sara = await apiSession(server.base, SARA);
  const before = await sara("GET", "/api/caseload");
  const doomed = before.find((household) => household.district === "district-kungsholmen").document_id;
  await page.fill("#remove-household", doomed);
  await page.click("form.remove-one button[type=submit]");
  await page.locator(".admin-done", { hasText: `Hushållet ${doomed} är borttaget` }).waitFor();
  await check(page, "admin-retention-removed");
  const after = await sara("GET", "/api/caseload");
  assert.equal(after.length, before.length - 1);
  assert.ok(!after.some((household) => household.document_id === doomed));
  const removed = await sara("GET", "/api/removed");
  assert.deepEqual(removed.map((tombstone) => tombstone.document_id), [doomed]);
  assert.equal(removed[0].decision, "Dnr 2031/99");
  assert.deepEqual(admin.errors, []);
  await admin.context.close();
});

test("how devices lock is set in the devices section, and a value out of range is not sent", async () => {
  const admin = await console_();
  const { page } = admin;
  await section(page, "Enheter");
  const form = page.locator("form.device-lock");
  await form.waitFor();
  assert.equal(await page.locator("#lock-phone").inputValue(), "5");
  // Out of range, the form is not sent: the browser says why at the field.
  await page.fill("#lock-offline", "400");
  await form.locator("button[type=submit]").click();
  assert.equal(await page.$eval("#lock-offline", (input) => input.validity.rangeOverflow), true);
  assert.equal(await form.locator(".admin-done").count(), 0);
  await page.fill("#lock-offline", "30");
  await page.fill("#lock-phone", "3");
  await form.locator("button[type=submit]").click();
  await form.locator(".admin-done", { hasText: "Låsningen är sparad" }).waitFor();
  await form.scrollIntoViewIfNeeded();
  await check(page, "admin-device-lock");
  const asAnna = await apiSession(server.base, { username: "anna", password: "demo-anna-2026" });
  assert.equal((await asAnna("GET", "/api/me")).device_lock.phone_idle_minutes, 3);
  // Back as it was, for the tests after this one.
  await page.fill("#lock-phone", "5");
  await form.locator("button[type=submit]").click();
  await form.locator(".admin-done").waitFor();
  assert.deepEqual(admin.errors, []);
  await admin.context.close();
});
