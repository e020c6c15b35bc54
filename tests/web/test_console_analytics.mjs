// The console's analytics in Chromium against the real daemon (demo data):
//  - admin01 (B01) drills from the bank's branches to a branch's client
//    managers and back (breadcrumbs); the CSV and Excel downloads of the page
//    open (a BOM'd CSV; a zip whose sheet python3 reads) and hold exactly the
//    rows on the screen;
//  - nothing of B02 (its code, name, branch names) appears on any page or in
//    any export as admin01;
//  - the today board: a visit checked in from the field (`zhanye call`, a
//    command-line tablet) shows on the open page within seconds, no reload;
//  - prov01: the province's 合计 row equals the sum of the banks' rows.
// Screenshots to $ZHANYE_SCREENSHOTS (console-performance*.png, console-today.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRig, WEB_DIST, BIN, PASSWORD, sleep } from './lib/rig.mjs';

const B02 = ['B02', '绿水', '南湖支行', '北岭支行', 'demo03', 'demo04'];
const SHOTS = process.env.ZHANYE_SCREENSHOTS;
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png' };

// The console from the daemon when it serves /console/, else a same-origin stand-in.
async function consoleBase(rig) {
  const st = await fetch(`${rig.apiUrl}/console/`).then((r) => r.status).catch(() => 0);
  if (st === 200) return { base: rig.apiUrl, close() {} };
  const root = join(WEB_DIST, 'console');
  const server = http.createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    if (path.startsWith('/api/')) {
      const up = http.request({ host: '127.0.0.1', port: rig.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      });
      up.on('error', () => res.writeHead(502).end());
      req.pipe(up);
      return;
    }
    const rel = path.replace(/^\/console\/?/, '');
    const file = join(root, rel === '' ? 'index.html' : rel);
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) return res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': TYPES[file.slice(file.lastIndexOf('.'))] || 'application/octet-stream' }).end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}

async function shot(page, name) {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `console-${name}.png`), fullPage: true });
}

async function login(rig, base, teller) {
  const { page, context } = await rig.newPage({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
  await page.goto(`${base}/console/#/login`);
  await page.getByPlaceholder('请输入柜员号').fill(teller);
  await page.getByPlaceholder('请输入密码').fill(PASSWORD);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForURL((u) => !u.hash.startsWith('#/login'));
  return { page, context };
}

// The rows of an el-table on the screen, each as its cells' text.
async function screenRows(page, testid) {
  await page.waitForSelector(`[data-testid=${testid}] .el-table__body tr`);
  return page.$$eval(`[data-testid=${testid}] .el-table__body tr`, (rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.innerText.trim())));
}

// CSV text (after the BOM) -> rows of fields (RFC 4180).
function parseCsv(text) {
  const rows = [];
  let row = [];
  let f = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') (f += '"'), i++;
      else if (c === '"') q = false;
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') row.push(f), (f = '');
    else if (c === '\r') {
      row.push(f);
      rows.push(row);
      row = [];
      f = '';
      i++;
    } else f += c;
  }
  return rows;
}

// The first sheet of an XLSX file as rows of strings (python3's zipfile).
function readXlsx(path) {
  const py = `
import zipfile, json, re, sys, xml.etree.ElementTree as ET
z = zipfile.ZipFile(sys.argv[1]); m = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
ss = ["".join(t.text or "" for t in si.iter(m + "t")) for si in ET.fromstring(z.read("xl/sharedStrings.xml")).iter(m + "si")] if "xl/sharedStrings.xml" in z.namelist() else []
rows = []
for r in ET.fromstring(z.read("xl/worksheets/sheet1.xml")).iter(m + "row"):
    out = []
    for c in r.iter(m + "c"):
        col = 0
        for ch in re.match("[A-Z]+", c.get("r")).group(0): col = col * 26 + ord(ch) - 64
        out += [""] * (col - 1 - len(out))
        v = c.find(m + "v")
        out.append("" if v is None else ss[int(v.text)] if c.get("t") == "s" else v.text)
    rows.append(out)
print(json.dumps(rows))`;
  return JSON.parse(execFileSync('python3', ['-c', py, path], { encoding: 'utf8' }));
}

async function download(page, testid) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${testid}]`)]);
  const path = await d.path();
  return { name: d.suggestedFilename(), path, bytes: readFileSync(path) };
}

const cur = (cell) => cell.split('（')[0];
const num = (s) => Number(String(s).replace('%', ''));

// The screen's performance rows against the export's: code, name, visits,
// customers, completeness, accepted, conversion, count, amount.
function sameAsScreen(screen, file, where) {
  const body = screen.filter((r) => r[1] !== '合计');
  assert.equal(file.length - 1, body.length, `${where}: rows`);
  assert.equal(file[0][0], '代码');
  assert.equal(file[0][2], '走访');
  body.forEach((r, i) => {
    const f = file[i + 1];
    assert.equal(f[0], r[0], `${where} row ${i} code`);
    assert.equal(f[1], r[1], `${where} row ${i} name`);
    assert.equal(num(f[2]), num(cur(r[2])), `${where} row ${i} visits`);
    assert.equal(num(f[3]), num(cur(r[3])), `${where} row ${i} customers`);
    assert.equal((100 * num(f[5] || 0)).toFixed(1), num(cur(r[4])).toFixed(1), `${where} row ${i} completeness`);
    assert.equal(num(f[7]), num(cur(r[5])), `${where} row ${i} accepted`);
    assert.equal(num(f[9]), num(cur(r[7])), `${where} row ${i} business`);
    assert.equal(num(f[10] || 0).toFixed(2), cur(r[8]), `${where} row ${i} amount`);
  });
}

function noB02(text, where) {
  for (const s of B02) assert.ok(!text.includes(s), `${where} shows ${s}`);
}

test('console_analytics', { timeout: 240000 }, async () => {
  const rig = await startRig({});
  const front = await consoleBase(rig);
  try {
    const { page } = await login(rig, front.base, 'admin01');

    // ---- drill-down: B01's branches -> 城关支行's client managers ----
    await page.goto(`${front.base}/console/#/ana/performance`);
    let rows = await screenRows(page, 'perf-table');
    assert.ok(rows.some((r) => r[1] === '城关支行'), 'the bank admin starts at the branches');
    noB02(await page.innerText('body'), 'performance (bank)');
    await shot(page, 'performance');
    const bankCsv = await download(page, 'export-csv-performance');
    assert.match(bankCsv.name, /^业绩-\d{8}\.csv$/);
    assert.deepEqual([...bankCsv.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    sameAsScreen(rows, parseCsv(bankCsv.bytes.subarray(3).toString('utf8')), 'bank csv');
    noB02(bankCsv.bytes.toString('utf8'), 'bank csv');

    await page.click('[data-testid=drill-01]');
    await page.waitForFunction(() => document.querySelector('[data-testid=perf-crumbs]')?.innerText.includes('城关支行'));
    rows = await screenRows(page, 'perf-table');
    assert.ok(rows.some((r) => r[0] === 'demo01' && r[1] === '张晓明'), `managers: ${JSON.stringify(rows)}`);
    assert.ok(!rows.some((r) => r[0] === 'demo02'), 'demo02 works in 河东支行');
    await shot(page, 'performance-tellers');
    const tCsv = await download(page, 'export-csv-performance');
    sameAsScreen(rows, parseCsv(tCsv.bytes.subarray(3).toString('utf8')), 'tellers csv');
    const tXlsx = await download(page, 'export-xlsx-performance');
    assert.match(tXlsx.name, /^业绩-\d{8}\.xlsx$/);
    assert.equal(tXlsx.bytes.subarray(0, 2).toString(), 'PK');
    sameAsScreen(rows, readXlsx(tXlsx.path), 'tellers xlsx');

    // the period switch keeps the drill-down; the breadcrumbs go back up
    await page.locator('.el-radio-button', { hasText: /^月$/ }).click();
    await sleep(1000);
    rows = await screenRows(page, 'perf-table');
    assert.ok(rows.some((r) => r[0] === 'demo01'));
    await page.locator('[data-testid=perf-crumbs] a').first().click();
    await page.waitForFunction(() => !document.querySelector('[data-testid=perf-crumbs]').innerText.includes('城关支行'));
    rows = await screenRows(page, 'perf-table');
    assert.ok(rows.some((r) => r[1] === '河东支行'));

    // ---- every table page and its exports, as admin01: nothing of B02 ----
    for (const [path, table] of [['/org/banks', 'banks'], ['/org/branches', 'branches'], ['/org/tellers', 'tellers'], ['/org/devices', 'devices'], ['/ops/audit', 'audit'], ['/ana/customers', 'customers'], ['/ana/today', 'today']]) {
      await page.goto(`${front.base}/console/#${path}`);
      await page.waitForSelector(`[data-testid=export-csv-${table}]`);
      await sleep(500);
      noB02(await page.innerText('body'), path);
      const c = await download(page, `export-csv-${table}`);
      assert.deepEqual([...c.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], `${table} csv BOM`);
      noB02(c.bytes.toString('utf8'), `${table} csv`);
      const x = await download(page, `export-xlsx-${table}`);
      noB02(JSON.stringify(readXlsx(x.path)), `${table} xlsx`);
    }

    // ---- the today board follows the field ----
    await page.goto(`${front.base}/console/#/ana/today`);
    await page.waitForSelector('[data-testid=today-visits]');
    await sleep(500);
    const before = Number(await page.innerText('[data-testid=today-visits]'));
    const state = join(rig.dir, 'tablet.state');
    const code = rig.cli('activation', 'issue', '--teller', 'demo01').match(/[A-Z0-9]{4}-[A-Z0-9]{4}/)[0];
    const call = (...a) => execFileSync(BIN, ['call', '--state', state, ...a], { encoding: 'utf8' });
    call('--server', rig.apiUrl, '--activate', code, '--teller', 'demo01');
    call('LOGIN', '--data', JSON.stringify({ teller: 'demo01', password: PASSWORD }));
    const made = JSON.parse(call('CUSTOMER_CREATE', '--data', JSON.stringify({ kind: 'person', name: '看板客户', id_no: '330102198511300015' })));
    const cid = (made.data || made).customer_id;
    call('VISIT_CHECKIN', '--data', JSON.stringify({ customer_id: cid, lat: 30.2, lon: 120.1, outcome: 'met', notes: '看板' }));
    const t0 = Date.now();
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid=today-visits]')?.innerText) === b + 1, before, { timeout: 15000 });
    assert.ok(Date.now() - t0 < 15000);
    noB02(await page.innerText('body'), 'today');
    await shot(page, 'today');

    // ---- the province: 合计 is the sum of the banks ----
    const prov = await login(rig, front.base, 'prov01');
    await prov.page.goto(`${front.base}/console/#/ana/performance`);
    rows = await screenRows(prov.page, 'perf-table');
    const banks = rows.filter((r) => r[1] !== '合计');
    const total = rows.find((r) => r[1] === '合计');
    assert.ok(banks.length >= 2 && total);
    for (const col of [2, 3, 5, 7]) assert.equal(num(cur(total[col])), banks.reduce((s, r) => s + num(cur(r[col])), 0), `column ${col}`);
    assert.equal(num(cur(total[8])).toFixed(2), banks.reduce((s, r) => s + num(cur(r[8])), 0).toFixed(2));
    // drill from the province to B01, its branch, its managers
    await prov.page.click('[data-testid=drill-B01]');
    await prov.page.waitForSelector('[data-testid=drill-01]');
    await prov.page.click('[data-testid=drill-01]');
    await prov.page.waitForFunction(() => document.querySelector('[data-testid=perf-crumbs]')?.innerText.includes('城关支行'));
    rows = await screenRows(prov.page, 'perf-table');
    assert.ok(rows.some((r) => r[0] === 'demo01'));
    assert.ok((await prov.page.innerText('[data-testid=perf-crumbs]')).includes('全省'));
  } finally {
    front.close();
    await rig.stop();
  }
});
