// The dashboard in headless Debian chromium against a real tern: it loads, shows devices and
// values live, charts a number (backfilled from the history), turns red when tern stops and
// resumes from the history when tern comes back on the same ports and data dir.
//
//   TERN_BIN=/path/to/tern node dashboard.test.mjs
// Environment: TERN_BIN (required), CHROMIUM (default /usr/bin/chromium), TERN_WORKERS (1),
// TERN_DASHBOARD_AUTH=1 (the bridge requires Basic credentials), TERN_ARTIFACTS (screenshots,
// default ./artifacts), TERN_WORK_DIR (config and data; default a fresh temporary directory).
// Exits 0 when every check passed, 1 with the failed check otherwise.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import mqtt from 'mqtt';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const HOST = '127.0.0.1';
const ternBin = process.env.TERN_BIN;
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const workers = Number(process.env.TERN_WORKERS ?? '1');
const withAuth = process.env.TERN_DASHBOARD_AUTH === '1';
const artifacts = process.env.TERN_ARTIFACTS ?? path.join(here, 'artifacts');
const workDir = process.env.TERN_WORK_DIR ?? mkdtempSync(path.join(os.tmpdir(), 'tern-dashboard-'));
const USER = 'dash';
const PASSWORD = 'board-secret';

const started = Date.now();
function log(message) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${message}`);
}

function check(condition, message) {
  if (!condition) {
    throw new Error(`check failed: ${message}`);
  }
}

// Ports already handed out: the kernel may offer a just-closed port again, and tern would then
// find its MQTT and HTTP listeners on the same port.
const givenPorts = new Set();

function probePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function freePort() {
  for (;;) {
    const port = await probePort();
    if (!givenPorts.has(port)) {
      givenPorts.add(port);
      return port;
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// --- tern -------------------------------------------------------------------------------------

class Tern {
  constructor(dir, mqttPort, httpPort) {
    this.dir = dir;
    this.mqttPort = mqttPort;
    this.httpPort = httpPort;
    this.configPath = path.join(dir, 'tern.toml');
    this.runs = 0;
    const lines = [
      '[broker]', `workers = ${workers}`, 'log_level = "info"', 'sys_interval = 0', '',
      '[[listeners]]', 'type = "mqtt"', `address = "${HOST}"`, `port = ${mqttPort}`, '',
      '[storage]', `data_dir = ${JSON.stringify(path.join(dir, 'data'))}`, 'durability = "async"',
      '', '[[storage.history]]', 'filter = "#"', 'max_messages = 500', '',
    ];
    if (withAuth) {
      const passwd = path.join(dir, 'passwd');
      execFileSync('mosquitto_passwd', ['-c', '-b', passwd, USER, PASSWORD]);
      lines.push('[auth]', 'allow_anonymous = false', `password_file = ${JSON.stringify(passwd)}`, '');
    }
    lines.push('[bridge]', 'enabled = true', `address = "${HOST}"`, `port = ${httpPort}`,
               'heartbeat_interval_ms = 1000', '');
    writeFileSync(this.configPath, lines.join('\n'));
  }

  get url() {
    return `http://${HOST}:${this.httpPort}/`;
  }

  async start() {
    this.runs += 1;
    this.logPath = path.join(this.dir, `tern-${this.runs}.log`);
    const out = openSync(this.logPath, 'w');
    this.proc = spawn(ternBin, ['-c', this.configPath], { stdio: ['ignore', out, out] });
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
    const deadline = Date.now() + 10000;
    for (;;) {
      if (this.proc.exitCode !== null) {
        throw new Error(`tern exited with ${this.proc.exitCode}:\n${this.log()}`);
      }
      try {
        const response = await fetch(`${this.url}healthz`);
        if (response.status === 200) {
          return;
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        throw new Error(`tern's bridge is not answering on ${this.httpPort}:\n${this.log()}`);
      }
      await sleep(50);
    }
  }

  // SIGTERM, and the exit status (0 for a graceful stop).
  async stop() {
    if (!this.proc || this.proc.exitCode !== null) {
      return;
    }
    this.proc.kill('SIGTERM');
    const timeout = sleep(10000).then(() => null);
    const result = await Promise.race([this.exited, timeout]);
    if (result === null) {
      this.proc.kill('SIGKILL');
      throw new Error('tern did not stop within 10 s of SIGTERM');
    }
    check(result.code === 0, `tern stopped with ${JSON.stringify(result)}:\n${this.log()}`);
  }

  log() {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }
}

// --- MQTT -------------------------------------------------------------------------------------

async function device(tern, clientId) {
  const options = { clientId, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 };
  if (withAuth) {
    Object.assign(options, { username: USER, password: PASSWORD });
  }
  return mqtt.connectAsync(`mqtt://${HOST}:${tern.mqttPort}`, options);
}

// --- the page ---------------------------------------------------------------------------------

const badge = (page) => page.locator('[data-testid="connection"]');
const deviceRow = (page, id) => page.locator(`li.device[data-device="${id}"]`);
const topicRow = (page, topic) => page.locator(`tr.topic[data-topic="${topic}"]`);
const chart = (page, key) => page.locator(`article.chart[data-series="${key}"]`);

async function waitAttribute(locator, name, value, timeout, what) {
  const begin = Date.now();
  try {
    await locator.and(locator.page().locator(`[${name}="${value}"]`)).waitFor({ timeout });
  } catch {
    const actual = await locator.first().getAttribute(name, { timeout: 100 }).catch(() => 'absent');
    throw new Error(`check failed: ${what}: ${name} is ${actual}, not ${value} after ${timeout} ms`);
  }
  return Date.now() - begin;
}

async function waitText(locator, text, timeout, what) {
  const begin = Date.now();
  for (;;) {
    const actual = await locator.textContent({ timeout }).catch(() => null);
    if (actual !== null && actual.trim() === text) {
      return Date.now() - begin;
    }
    if (Date.now() - begin > timeout) {
      throw new Error(`check failed: ${what}: text is ${JSON.stringify(actual)}, not ${JSON.stringify(text)}`);
    }
    await sleep(25);
  }
}

async function main() {
  check(ternBin, 'TERN_BIN names the tern executable');
  check(existsSync(chromiumPath), `${chromiumPath} exists (apt-get install chromium)`);
  mkdirSync(artifacts, { recursive: true });
  const tern = new Tern(workDir, await freePort(), await freePort());
  await tern.start();
  log(`tern on mqtt ${tern.mqttPort}, http ${tern.httpPort} (${workers} workers${withAuth ? ', Basic auth' : ''})`);

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const pageErrors = [];
  const clients = [];
  try {
    if (withAuth) {
      await checkUnauthorized(browser, tern);
    }
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 },
      ...(withAuth ? { httpCredentials: { username: USER, password: PASSWORD } } : {}),
    });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(String(error)));

    // The page loads and goes live.
    const response = await page.goto(tern.url);
    check(response.status() === 200, `GET / answers 200, not ${response.status()}`);
    check((await page.title()) === 'Tern dashboard', 'the page title');
    await waitAttribute(badge(page), 'data-state', 'live', 5000, 'the connection badge');
    log('page loaded, badge live');

    // A device going online shows within a second.
    const sensor = await device(tern, 'sensor-1');
    clients.push(sensor);
    const shown = await waitAttribute(deviceRow(page, 'sensor-1'), 'data-online', 'true', 1000,
                                      'sensor-1 online');
    check((await deviceRow(page, 'sensor-1').locator('.presence').textContent()) === 'online',
          'the online badge');
    log(`device online shown after ${shown} ms`);

    // Published values show with their age; a number can be charted, backfilled from history.
    await sensor.publishAsync('sensors/room1/temp', '21.5', { qos: 1 });
    await sensor.publishAsync('sensors/room1/env', JSON.stringify({ temp: 19.25, humidity: 40, ok: true }), { qos: 1 });
    await waitText(topicRow(page, 'sensors/room1/temp').locator('.value'), '21.5', 1000, 'temp value');
    const envChip = page.locator('button.number[data-series="sensors/room1/env#humidity"]');
    await waitText(envChip, 'humidity40', 1000, 'the humidity field of the JSON payload');
    const age = topicRow(page, 'sensors/room1/temp').locator('.age');
    const firstAge = (await age.textContent()).trim();
    await waitText(age, '2s', 3500, 'the age ticks');
    log(`values shown; age went from "${firstAge}" to "2s"`);

    await page.locator('button.number[data-series="sensors/room1/temp"]').click();
    await waitAttribute(chart(page, 'sensors/room1/temp'), 'data-points', '1', 2000, 'backfilled chart');
    await page.locator('button.number[data-series="sensors/room1/env#humidity"]').click();
    await waitAttribute(chart(page, 'sensors/room1/env#humidity'), 'data-points', '1', 2000,
                        'backfilled JSON field chart');
    check((await chart(page, 'sensors/room1/temp').locator('canvas').count()) === 1, 'uPlot drew a canvas');
    await sensor.publishAsync('sensors/room1/temp', '23', { qos: 1 });
    await waitAttribute(chart(page, 'sensors/room1/temp'), 'data-points', '2', 1000, 'live chart point');
    await waitAttribute(chart(page, 'sensors/room1/temp'), 'data-last', '23', 1000, 'live chart value');
    await waitText(topicRow(page, 'sensors/room1/temp').locator('.value'), '23', 1000, 'new value');
    log('charts backfilled from /api/history and updated live');

    // A device going offline.
    const gauge = await device(tern, 'gauge-2');
    await waitAttribute(deviceRow(page, 'gauge-2'), 'data-online', 'true', 1000, 'gauge-2 online');
    await gauge.endAsync();
    await waitAttribute(deviceRow(page, 'gauge-2'), 'data-online', 'false', 1000, 'gauge-2 offline');
    log('device offline shown');

    // tern stops: the badge turns red.
    await sensor.endAsync(true).catch(() => {});
    clients.length = 0;
    await tern.stop();
    const red = await waitAttribute(badge(page), 'data-state', 'disconnected', 5000, 'badge after SIGTERM');
    log(`tern stopped; badge red after ${red} ms`);

    // While the page cannot reach it, tern restarts (same ports, same data) and gets a value: the
    // page must get it from the history when it reconnects.
    await context.setOffline(true);
    await tern.start();
    const late = await device(tern, 'sensor-1');
    clients.push(late);
    await late.publishAsync('sensors/room1/temp', '24.75', { qos: 1 });
    await sleep(1500);
    check((await badge(page).getAttribute('data-state')) !== 'live', 'the page stays offline');
    await waitText(topicRow(page, 'sensors/room1/temp').locator('.value'), '23', 100, 'old value while offline');
    await context.setOffline(false);
    const back = await waitAttribute(badge(page), 'data-state', 'live', 8000, 'badge after restart');
    await waitText(topicRow(page, 'sensors/room1/temp').locator('.value'), '24.75', 2000, 'value published while down');
    await waitAttribute(chart(page, 'sensors/room1/temp'), 'data-points', '3', 2000, 'resumed chart');
    await waitAttribute(chart(page, 'sensors/room1/temp'), 'data-last', '24.75', 1000, 'resumed chart value');
    await waitAttribute(deviceRow(page, 'sensor-1'), 'data-online', 'true', 2000, 'sensor-1 online again');
    log(`page live again after ${back} ms and resumed from the history`);

    await page.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });
    // A phone: one column, nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await sleep(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `no horizontal scrolling on a phone (overflow ${overflow} px)`);
    await page.screenshot({ path: path.join(artifacts, 'dashboard-phone.png'), fullPage: true });
    log(`screenshots in ${artifacts}`);
    check(pageErrors.length === 0, `no uncaught page errors: ${pageErrors.join('; ')}`);
    await context.close();
  } finally {
    for (const client of clients) {
      await client.endAsync(true).catch(() => {});
    }
    await browser.close();
    await tern.stop().catch((error) => console.error(String(error)));
  }
}

// Without credentials the page is refused with a Basic challenge: a browser with a user would
// prompt; headless chromium, which has no one to ask, fails the navigation on it.
async function checkUnauthorized(browser, tern) {
  const direct = await fetch(tern.url);
  check(direct.status === 401, `GET / without credentials answers 401, not ${direct.status}`);
  check((direct.headers.get('www-authenticate') ?? '').startsWith('Basic'), 'a Basic challenge');
  const context = await browser.newContext();
  const page = await context.newPage();
  const failure = await page.goto(tern.url).then(
    (response) => `status ${response.status()}`,
    (error) => String(error));
  check(failure.includes('ERR_INVALID_AUTH_CREDENTIALS'),
        `chromium without credentials is challenged (got ${failure})`);
  await context.close();
  log('without credentials: 401 with a Basic challenge');
}

main().then(
  () => {
    log('PASS');
    process.exit(0);
  },
  (error) => {
    console.error(error instanceof Error ? error.stack ?? error.message : String(error));
    process.exit(1);
  },
);
