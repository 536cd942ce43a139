// The browser demo (`npm run demo:browser`): a Mandelbrot picture computed in parallel tiles by an
// IsolateWorkgroup. Every tile is one job; workers draw straight into one RGBA buffer on the workgroup's
// shared memory (wg.allocate), and the page copies each finished tile to the canvas. Live per-worker job
// counts, jobs/s, the same tiles on one thread for comparison, and buttons to add and kill a worker while
// it renders (a killed worker's tile is dispatched again).
//   ?autostart=1  render at once, add a worker at 10 % and kill one at 50 % of the tiles, then measure
//                 one thread (what the browser test suite opens).
//   ?workers=N    initial worker count (default: the core count, 2..8).
import {
  IsolateWorkgroup,
  WorkgroupJobAbortedException,
  WorkgroupMemberDeadException,
} from '../../dist/index.browser.js';
import { MandelbrotTile, VIEW, renderTile } from './mandelbrot.mjs';

const WIDTH = 960;
const HEIGHT = 600;
const TILE = 40;
const COLS = WIDTH / TILE;
const ROWS = HEIGHT / TILE;
const COLORS = ['#4cc9f0', '#f72585', '#b5e48c', '#ffb703', '#9d4edd', '#ff7f51', '#43aa8b', '#e9c46a', '#4895ef', '#f15bb5'];

const params = new URLSearchParams(location.search);
const autostart = params.has('autostart');
const cores = navigator.hardwareConcurrency || 4;
const initialWorkers = Number(params.get('workers')) || Math.max(2, Math.min(cores, 8));

const $ = (id) => document.getElementById(id);
const picture = $('picture').getContext('2d');
const tilemap = $('tilemap').getContext('2d');
const CELL = 10; // tile map: one 10 px cell per tile, 1 px gap
$('tilemap').width = COLS * CELL;
$('tilemap').height = ROWS * CELL;

/** Tiles ordered from the centre outwards, so the picture grows from the middle. */
const tiles = [];
for (let row = 0; row < ROWS; row++) {
  for (let col = 0; col < COLS; col++) tiles.push({ id: tiles.length, x: col * TILE, y: row * TILE, w: TILE, h: TILE, col, row });
}
const byDistance = [...tiles].sort((a, b) => dist(a) - dist(b));
function dist(t) {
  return Math.hypot(t.col + 0.5 - COLS / 2, (t.row + 0.5 - ROWS / 2) * 1.2);
}

const run = {
  state: 'idle',
  tilesDone: 0,
  startedAt: 0,
  parallelMs: 0,
  singleMs: 0,
  redispatched: 0,
  added: false,
  killed: false,
  mismatchedPixels: -1,
  blankTiles: -1,
};
/** index → { jobs (this render), killed } */
const workers = new Map();
let wg;
let rgba;
const tileImage = new ImageData(TILE, TILE);

// ---------------------------------------------------------------------------------------------- UI

const colorOf = (index) => COLORS[index % COLORS.length];

function log(html) {
  const li = document.createElement('li');
  li.innerHTML = html;
  $('log').prepend(li);
  while ($('log').children.length > 6) $('log').lastChild.remove();
}

function fmtMs(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

let uiQueued = false;
function updateSoon() {
  if (uiQueued) return;
  uiQueued = true;
  requestAnimationFrame(() => {
    uiQueued = false;
    updateNow();
  });
}

function updateNow() {
  const elapsed = (run.state === 'rendering' ? performance.now() : run.startedAt + run.parallelMs) - run.startedAt;
  $('tiles').textContent = `${run.tilesDone} / ${tiles.length}`;
  $('rate').textContent = run.tilesDone > 0 && elapsed > 0 ? `${Math.round((run.tilesDone / elapsed) * 1000)}` : '–';
  $('parallel').textContent = run.parallelMs > 0 ? fmtMs(run.parallelMs) : run.state === 'rendering' ? fmtMs(elapsed) : '–';
  $('single').textContent = run.singleMs > 0 ? fmtMs(run.singleMs) : run.state === 'measuring' ? 'measuring…' : '–';
  const speedup = run.singleMs > 0 && run.parallelMs > 0 ? run.singleMs / run.parallelMs : 0;
  $('speedup').textContent = speedup > 0 ? `× ${speedup.toFixed(2)}` : '–';
  $('speedup').classList.toggle('slow', speedup > 0 && speedup < 1);
  const max = Math.max(1, ...[...workers.values()].map((w) => w.jobs));
  $('workers').innerHTML = [...workers.entries()]
    .map(
      ([index, w]) =>
        `<tr class="${w.killed ? 'killed' : ''}"><td class="swatch"><i style="background:${colorOf(index)}"></i></td>` +
        `<td>worker #${index} <span class="state">${w.killed ? 'killed' : w.added ? 'added' : ''}</span></td>` +
        `<td class="bar"><div style="width:${(100 * w.jobs) / max}%;background:${colorOf(index)}"></div></td>` +
        `<td class="count">${w.jobs}</td></tr>`,
    )
    .join('');
  const status = $('status');
  status.className = run.state === 'rendering' || run.state === 'measuring' ? 'rendering' : run.state;
  status.textContent =
    run.state === 'rendering' ? `rendering on ${wg?.liveIsolateCount ?? 0} workers…` : run.state === 'measuring' ? 'timing one thread…' : run.state === 'done' ? 'done' : run.state;
  $('render').disabled = run.state === 'rendering' || run.state === 'measuring';
  $('kill').disabled = !wg || wg.liveIsolateCount <= 1;
  $('add').disabled = !wg;
}

function showFacts() {
  const yes = (ok, text) => `<span class="${ok ? 'ok' : 'bad'}">${ok ? '✓' : '✗'} ${text}</span>`;
  $('facts').innerHTML = [
    yes(globalThis.crossOriginIsolated === true, 'crossOriginIsolated'),
    yes(typeof Atomics.waitAsync === 'function', 'Atomics.waitAsync'),
    `<span>${cores} logical cores</span>`,
    `<span>${COLS * ROWS} tiles of ${TILE}×${TILE} px · ${WIDTH}×${HEIGHT} px · 4 samples per pixel · up to ${VIEW.maxIter} iterations</span>`,
  ].join('');
}

// ------------------------------------------------------------------------------------ the workgroup

async function start() {
  showFacts();
  try {
    wg = new IsolateWorkgroup(initialWorkers, { modules: [new URL('./mandelbrot.mjs', import.meta.url)] });
  } catch (e) {
    $('error').style.display = 'block';
    $('error').textContent = e.message;
    run.state = 'failed';
    updateNow();
    return;
  }
  await wg.launch();
  for (let i = 0; i < initialWorkers; i++) workers.set(i, { jobs: 0, killed: false, added: false });
  rgba = wg.allocate(Uint8ClampedArray, WIDTH * HEIGHT * 4);
  log(`<b>${initialWorkers} workers</b> ready`);
  $('render').onclick = () => void render({});
  $('add').onclick = () => void addWorker();
  $('kill').onclick = () => void killWorker();
  updateNow();
  if (autostart) {
    await render({ addAt: 0.1, killAt: 0.5 });
  }
}

async function render({ addAt, killAt }) {
  run.state = 'rendering';
  run.tilesDone = 0;
  run.parallelMs = 0;
  run.singleMs = 0;
  run.redispatched = 0;
  for (const w of workers.values()) w.jobs = 0;
  rgba.fill(0);
  picture.clearRect(0, 0, WIDTH, HEIGHT);
  tilemap.clearRect(0, 0, COLS * CELL, ROWS * CELL);
  triggers.add = addAt === undefined ? Infinity : Math.ceil(addAt * tiles.length);
  triggers.kill = killAt === undefined ? Infinity : Math.ceil(killAt * tiles.length);
  run.startedAt = performance.now();
  updateNow();
  await Promise.all(byDistance.map(runTile));
  run.parallelMs = performance.now() - run.startedAt;
  log(`rendered <b>${tiles.length} tiles</b> in ${fmtMs(run.parallelMs)}${run.redispatched ? `, ${run.redispatched} dispatched again` : ''}`);
  await measureSingleThread();
  run.state = 'done';
  updateNow();
}

/** Dispatches one tile; a tile whose worker was killed under it goes back to the queue. */
async function runTile(tile) {
  for (let attempt = 0; ; attempt++) {
    try {
      const result = await wg.dispatch(new MandelbrotTile(rgba, WIDTH, HEIGHT, { id: tile.id, x: tile.x, y: tile.y, w: tile.w, h: tile.h }));
      tileDone(tile, result);
      return;
    } catch (e) {
      const lost = e instanceof WorkgroupJobAbortedException || e instanceof WorkgroupMemberDeadException;
      if (!lost || attempt >= 5 || wg.state !== 'active') throw e;
      run.redispatched++;
    }
  }
}

/** Tile counts at which the autostart run adds and kills a worker. */
const triggers = { add: Infinity, kill: Infinity };

function tileDone(tile, result) {
  run.tilesDone++;
  if (run.tilesDone >= triggers.add) {
    triggers.add = Infinity;
    void addWorker().then(() => (run.added = true));
  }
  if (run.tilesDone >= triggers.kill) {
    triggers.kill = Infinity;
    void killWorker().then(() => (run.killed = true));
  }
  // (A worker added while rendering can finish tiles before addIsolate() resolves here: count them too.)
  let w = workers.get(result.worker);
  if (!w) workers.set(result.worker, (w = { jobs: 0, killed: false, added: true }));
  w.jobs++;
  // The tile's rows, copied out of shared memory (canvas APIs refuse shared views).
  const data = tileImage.data;
  for (let row = 0; row < tile.h; row++) {
    const from = ((tile.y + row) * WIDTH + tile.x) * 4;
    data.set(rgba.subarray(from, from + tile.w * 4), row * tile.w * 4);
  }
  picture.putImageData(tileImage, tile.x, tile.y);
  tilemap.fillStyle = colorOf(result.worker);
  tilemap.fillRect(tile.col * CELL, tile.row * CELL, CELL - 1, CELL - 1);
  updateSoon();
}

async function addWorker() {
  const index = await wg.addIsolate();
  if (!workers.has(index)) workers.set(index, { jobs: 0, killed: false, added: true });
  log(`added <b style="color:${colorOf(index)}">worker #${index}</b>${run.state === 'rendering' ? ' while rendering' : ''}`);
  updateSoon();
}

async function killWorker() {
  const live = [...workers.entries()].filter(([, w]) => !w.killed).map(([i]) => i);
  if (live.length <= 1) return;
  const index = live[0];
  workers.get(index).killed = true;
  updateSoon();
  await wg.kill(index);
  log(`killed <b style="color:${colorOf(index)}">worker #${index}</b>${run.state === 'rendering' ? ' while rendering' : ''}`);
  updateSoon();
}

/** The same tiles with the same code on this thread, a few tiles per task so the page stays responsive. */
async function measureSingleThread() {
  run.state = 'measuring';
  updateNow();
  const mine = new Uint8ClampedArray(WIDTH * HEIGHT * 4);
  let ms = 0;
  for (let k = 0; k < tiles.length; k++) {
    const t = tiles[k];
    const started = performance.now();
    renderTile(mine, WIDTH, HEIGHT, t.x, t.y, t.w, t.h);
    ms += performance.now() - started;
    if (k % 8 === 7) await new Promise((r) => setTimeout(r, 0));
  }
  run.singleMs = ms;
  let mismatched = 0;
  for (let i = 0; i < mine.length; i += 4) {
    if (mine[i] !== rgba[i] || mine[i + 1] !== rgba[i + 1] || mine[i + 2] !== rgba[i + 2] || mine[i + 3] !== rgba[i + 3]) mismatched++;
  }
  run.mismatchedPixels = mismatched;
  const shown = picture.getImageData(0, 0, WIDTH, HEIGHT).data;
  run.blankTiles = tiles.filter((t) => shown[((t.y + t.h / 2) * WIDTH + t.x + t.w / 2) * 4 + 3] === 0).length;
  log(`one thread: <b>${fmtMs(ms)}</b>, ${mismatched === 0 ? 'identical picture' : `${mismatched} pixels differ`}`);
}

window.demo = {
  get state() {
    return run.state;
  },
  summary() {
    const rows = [...workers.values()];
    return {
      tiles: tiles.length,
      tilesDone: run.tilesDone,
      jobsPerSecond: Number($('rate').textContent) || 0,
      jobsPerSecondText: $('rate').textContent,
      parallelMs: Math.round(run.parallelMs),
      singleThreadMs: Math.round(run.singleMs),
      singleThreadText: $('single').textContent,
      speedup: $('speedup').textContent,
      workerRows: $('workers').children.length,
      jobsCounted: rows.reduce((sum, w) => sum + w.jobs, 0),
      added: run.added,
      killed: run.killed,
      redispatched: run.redispatched,
      mismatchedPixels: run.mismatchedPixels,
      blankTiles: run.blankTiles,
    };
  },
};

await start();
