// `npm start`: a workgroup at work, in the terminal.
//
//   1. 4 workers take jobs from one shared queue: one lane per worker, jobs flowing, a progress bar, jobs/s;
//   2. a stateful member (a cache living in one worker) warms up: its hit rate climbs, its calls get fast;
//   3. a worker is killed and another added while jobs keep flowing: nothing is lost;
//   4. the same work on one thread, on piscina and on the workgroup, side by side.
//
// The lanes and counters are read from the workgroup's shared memory (`wg.stats()`), not from messages.
// In a terminal it redraws in place (80 columns is enough); piped or redirected, it prints plain lines.
//
//   npm start            (or: npm run build && node examples/demo.mjs)
import { isMainThread } from 'node:worker_threads';
import os from 'node:os';
import { IsolateWorkgroup, WorkerCommand, WorkgroupJob, WorkgroupMember } from 'isolate-workgroup';

// ---------------------------------------------------------------------------------------------- work

function busy(us) {
  const end = performance.now() + us / 1000;
  while (performance.now() < end);
}

/** A job of about `us` microseconds of CPU work. */
export class Crunch extends WorkgroupJob {
  constructor(us) {
    super();
    this.us = us;
  }
  execute() {
    busy(this.us);
    return this.isolateIndex;
  }
}

/** Counts the primes in [from, to): the work of the closing comparison. */
export function countPrimes(from, to) {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

export class CountPrimes extends WorkgroupJob {
  constructor(from, to) {
    super();
    this.from = from;
    this.to = to;
  }
  execute() {
    return countPrimes(this.from, this.to);
  }
}

/** piscina's form of the same work: it imports this file and calls this export. */
export function countPrimesTask({ from, to }) {
  return countPrimes(from, to);
}

export class Lookup extends WorkerCommand {
  constructor(key) {
    super();
    this.key = key;
  }
}

/** A cache living in one worker: a miss costs ~4 ms of work, a hit almost nothing. */
export class SlowSquareCache extends WorkgroupMember {
  setup() {
    this.entries = new Map();
  }
  handle(command) {
    if (!(command instanceof Lookup)) throw new TypeError('SlowSquareCache handles Lookup only');
    const hit = this.entries.has(command.key);
    if (!hit) {
      busy(4000);
      this.entries.set(command.key, command.key * command.key);
    }
    return { value: this.entries.get(command.key), hit, size: this.entries.size };
  }
}

// ------------------------------------------------------------------------------------------- display

const tty = process.stdout.isTTY === true;
const color = tty && !process.env.NO_COLOR;
const paint = (code) => (s) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = paint('1');
const dim = paint('2');
const red = paint('31');
const green = paint('32');
const yellow = paint('33');
const cyan = paint('36');
const WIDTH = Math.min(80, process.stdout.columns || 80);
const SPARK = ' ▁▂▃▄▅▆▇█';
const fmtInt = (n) => Math.round(n).toLocaleString('en-US');

/** Redraws a block of lines in place on a terminal; on a pipe it prints only what `plain()` is given. */
class Screen {
  #lines = 0;
  draw(lines) {
    if (!tty) return;
    let out = this.#lines > 0 ? `\x1b[${this.#lines}F` : '';
    for (const line of lines) out += `\x1b[2K${line}\n`;
    for (let i = lines.length; i < this.#lines; i++) out += '\x1b[2K\n';
    if (lines.length < this.#lines) out += `\x1b[${this.#lines - lines.length}F`;
    process.stdout.write(out);
    this.#lines = lines.length;
  }
  /** Ends the block: the next draw starts below it. */
  commit() {
    this.#lines = 0;
  }
  plain(line) {
    if (!tty) console.log(line);
  }
  say(line = '') {
    this.commit();
    console.log(line);
  }
}

function bar(fraction, width) {
  const full = Math.max(0, Math.min(width, Math.round(fraction * width)));
  return `${'█'.repeat(full)}${dim('░'.repeat(width - full))}`;
}

/** One lane per worker: a strip of recent activity (jobs done per frame) scrolling right to left. */
class Lanes {
  constructor(width) {
    this.width = width;
    this.lanes = new Map(); // index -> { strip: number[], last: number, done: number, state: string, note: string }
  }
  update(stats) {
    const seen = new Set();
    for (const w of stats.workers) {
      seen.add(w.isolateIndex);
      let lane = this.lanes.get(w.isolateIndex);
      if (!lane) {
        lane = { strip: [], last: w.jobsDone, base: 0, done: 0, state: 'live', note: '' };
        this.lanes.set(w.isolateIndex, lane);
      }
      lane.strip.push(Math.max(0, w.jobsDone - lane.last));
      lane.last = w.jobsDone;
      lane.done = w.jobsDone;
      if (lane.strip.length > this.width) lane.strip.shift();
    }
    for (const [i, lane] of this.lanes) {
      if (seen.has(i) || lane.state !== 'live') continue;
      lane.state = 'gone';
    }
    for (const lane of this.lanes.values()) {
      if (lane.state === 'gone') {
        lane.strip.push(-1);
        if (lane.strip.length > this.width) lane.strip.shift();
      }
    }
  }
  mark(index, note) {
    const lane = this.lanes.get(index);
    if (lane) lane.note = note;
  }
  render() {
    const lines = [];
    // One scale for every lane (the 90th percentile of what is on screen), so lanes compare at a glance.
    const visible = [...this.lanes.values()].flatMap((l) => l.strip.filter((n) => n > 0)).sort((a, b) => a - b);
    const peak = Math.max(1, visible[Math.floor(visible.length * 0.9)] ?? 1);
    for (const [i, lane] of [...this.lanes].sort((a, b) => a[0] - b[0])) {
      const cells = lane.strip.map((n) => (n < 0 ? red('✕') : n === 0 ? dim('·') : cyan(SPARK[Math.min(8, Math.max(1, Math.ceil((n / peak) * 8)))]))).join('');
      const pad = ' '.repeat(Math.max(0, this.width - lane.strip.length));
      const label = lane.state === 'gone' ? red(`worker ${i}`) : `worker ${i}`;
      lines.push(` ${label} │${pad}${cells}│ ${fmtInt(lane.done).padStart(6)} ${dim(lane.note)}`);
    }
    return lines;
  }
}

// -------------------------------------------------------------------------------------------- phases

/** Seeded random numbers, so every run shows the same job mix. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

const FRAME_MS = 80;
const LANE_WIDTH = 40;
const tick = () => new Promise((r) => setTimeout(r, FRAME_MS));

async function phaseDispatch(wg, screen) {
  const total = 8_000;
  const rand = random(7);
  screen.say(bold(` 1 · ${fmtInt(total)} jobs (50–500 µs of work each) on one shared queue, 4 workers`));
  screen.plain(`   dispatching ${fmtInt(total)} jobs at once`);
  const lanes = new Lanes(LANE_WIDTH);
  lanes.update(wg.stats());
  const started = performance.now();
  let done = 0;
  const all = [];
  for (let i = 0; i < total; i++) all.push(wg.dispatch(new Crunch(50 + Math.floor(rand() * 450))).then(() => done++));
  const finished = Promise.all(all);
  let settled = false;
  finished.then(() => (settled = true), () => (settled = true));
  let nextQuarter = 0.25;
  while (!settled) {
    await tick();
    lanes.update(wg.stats());
    const s = (performance.now() - started) / 1000;
    screen.draw([...lanes.render(), '', ` ${bar(done / total, 44)} ${String(Math.floor((done / total) * 100)).padStart(3)}%  ${green(fmtInt(done / s))} jobs/s`]);
    while (done / total >= nextQuarter) {
      screen.plain(`   ${Math.round(nextQuarter * 100)}% — ${fmtInt(done)} jobs done, ${fmtInt(done / s)} jobs/s`);
      nextQuarter += 0.25;
    }
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  lanes.update(wg.stats());
  screen.draw([...lanes.render(), '', ` ${bar(1, 44)} 100%  ${green(fmtInt(total / seconds))} jobs/s`]);
  screen.commit();
  const per = wg.stats().workers.map((w) => fmtInt(w.jobsDone)).join(' / ');
  screen.say(`   ${fmtInt(total)} jobs in ${seconds.toFixed(1)} s, ${fmtInt(total / seconds)} jobs/s; per worker ${per}`);
}

async function phaseMember(wg, screen) {
  const cache = await wg.addInstance(new SlowSquareCache());
  const calls = 1_000;
  const keys = 150;
  const rand = random(11);
  screen.say('');
  screen.say(bold(` 2 · a cache member warming up (it lives in worker ${cache.isolateIndex}; a miss costs 4 ms)`));
  let issued = 0;
  let done = 0;
  let hits = 0;
  let size = 0;
  const recent = [];
  const started = performance.now();
  let nextPlain = 200;
  // 4 callers, each asking for keys with a skewed distribution: popular keys soon come from the cache.
  const caller = async () => {
    while (issued < calls) {
      issued++;
      const key = Math.floor(keys * rand() ** 2);
      const t0 = performance.now();
      const r = await cache.invoke(new Lookup(key));
      if (r.value !== key * key) throw new Error(`cache answered ${r.value} for ${key}`);
      recent.push({ ms: performance.now() - t0, hit: r.hit });
      if (recent.length > 40) recent.shift();
      done++;
      if (r.hit) hits++;
      size = Math.max(size, r.size);
      if (done >= nextPlain) {
        screen.plain(`   ${fmtInt(done)} calls: hit rate ${Math.round((hits / done) * 100)}%, ${size} entries`);
        nextPlain += 200;
      }
      await new Promise((r) => setTimeout(r, 2)); // a caller's own work between lookups
    }
  };
  const work = Promise.all([caller(), caller(), caller(), caller()]);
  let over = false;
  work.then(() => (over = true), () => (over = true));
  const render = () => {
    const recentHits = recent.filter((r) => r.hit).length / Math.max(1, recent.length);
    const meanMs = recent.reduce((a, r) => a + r.ms, 0) / Math.max(1, recent.length);
    return [
      ` calls   ${bar(done / calls, 30)} ${fmtInt(done).padStart(5)}/${fmtInt(calls)}`,
      ` hits    ${bar(recentHits, 30)} ${String(Math.round(recentHits * 100)).padStart(3)}% of the last 40 calls`,
      ` entries ${bar(size / keys, 30)} ${String(size).padStart(4)}/${keys}`,
      ` latency ${dim(recent.map((r) => (r.hit ? green('▁') : yellow('█'))).join(''))} ${meanMs.toFixed(2)} ms mean`,
    ];
  };
  while (!over) {
    await tick();
    screen.draw(render());
  }
  await work;
  screen.draw(render());
  screen.commit();
  screen.say(`   ${fmtInt(calls)} calls in ${((performance.now() - started) / 1000).toFixed(1)} s, ${Math.round((hits / calls) * 100)}% hits overall: the state stays in the worker`);
  await wg.destroyInstance(cache);
}

async function phaseResize(wg, screen) {
  screen.say('');
  screen.say(bold(' 3 · a worker killed and another added while jobs keep flowing'));
  const lanes = new Lanes(LANE_WIDTH);
  lanes.update(wg.stats());
  let dispatched = 0;
  let done = 0;
  let cancelled = 0;
  let streaming = true;
  const rand = random(3);
  const inFlight = new Set();
  const pump = async () => {
    while (streaming) {
      while (inFlight.size < 64 && streaming) {
        dispatched++;
        const p = wg.dispatch(new Crunch(200 + Math.floor(rand() * 800))).then(
          () => done++,
          () => cancelled++,
        );
        inFlight.add(p);
        p.finally(() => inFlight.delete(p));
      }
      await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  };
  const pumping = pump();
  const events = [];
  const status = () => [...lanes.render(), '', ` dispatched ${fmtInt(dispatched)}  done ${green(fmtInt(done))}  cancelled ${cancelled ? red(String(cancelled)) : '0'}  in flight ${inFlight.size}`, ...events.map((e) => ` ${e}`)];
  const run = async (ms) => {
    const until = performance.now() + ms;
    while (performance.now() < until) {
      await tick();
      lanes.update(wg.stats());
      screen.draw(status());
    }
  };
  await run(1200);
  const victim = 1;
  await wg.kill(victim);
  lanes.update(wg.stats());
  lanes.mark(victim, 'killed');
  events.push(red(`✕ kill(${victim}): what it held is rejected, the queue goes on elsewhere`));
  screen.plain(`   ${events.at(-1)}`);
  await run(1000);
  const added = await wg.addIsolate({ label: 'late joiner' });
  lanes.update(wg.stats());
  lanes.mark(added, 'new');
  events.push(green(`+ addIsolate() -> worker ${added} (indices are never reused)`));
  screen.plain(`   ${events.at(-1)}`);
  await run(1500);
  streaming = false;
  await pumping;
  lanes.update(wg.stats());
  screen.draw(status());
  screen.commit();
  const pending = dispatched - done - cancelled;
  screen.say(`   ${fmtInt(dispatched)} jobs: ${fmtInt(done)} done, ${cancelled} rejected by the kill, ${pending} lost`);
  screen.say(`   now ${wg.liveIsolateCount} live workers, indices 0…${wg.isolatesCount - 1} used`);
}

async function phaseCompare(wg, screen) {
  const jobs = 300;
  const span = 12_000;
  screen.say('');
  screen.say(bold(` 4 · the same work three ways: primes below ${fmtInt(jobs * span)}, ${jobs} jobs`));
  const expected = [];
  const rows = [];
  const show = (name, ms, note = '') => {
    rows.push({ name, ms, note });
    const base = rows[0].ms;
    screen.say(`   ${name.padEnd(28)} ${`${(ms / 1000).toFixed(2)} s`.padStart(8)}  ${`${(base / ms).toFixed(2)}×`.padStart(6)} ${dim(note)}`);
  };
  let t0 = performance.now();
  for (let i = 0; i < jobs; i++) expected.push(countPrimes(i * span, (i + 1) * span));
  const total = expected.reduce((a, b) => a + b, 0);
  show('one thread (main)', performance.now() - t0, `${fmtInt(total)} primes`);

  const check = (results, who) => {
    for (let i = 0; i < jobs; i++) if (results[i] !== expected[i]) throw new Error(`${who}: job ${i} answered ${results[i]}, expected ${expected[i]}`);
  };
  let piscina;
  try {
    const { Piscina } = await import('piscina');
    piscina = new Piscina({ filename: import.meta.url, minThreads: 4, maxThreads: 4 });
    await Promise.all(Array.from({ length: 8 }, () => piscina.run({ from: 0, to: 10 }, { name: 'countPrimesTask' }))); // threads up
    t0 = performance.now();
    const r = await Promise.all(Array.from({ length: jobs }, (_, i) => piscina.run({ from: i * span, to: (i + 1) * span }, { name: 'countPrimesTask' })));
    const ms = performance.now() - t0;
    check(r, 'piscina');
    show('piscina, 4 threads', ms);
  } catch (e) {
    screen.say(`   piscina                      skipped (${e?.code === 'ERR_MODULE_NOT_FOUND' ? 'not installed: it is a devDependency' : e.message})`);
  } finally {
    await piscina?.destroy();
  }

  while (wg.liveIsolateCount < 4) await wg.addIsolate();
  await Promise.all(Array.from({ length: 8 }, () => wg.dispatch(new CountPrimes(0, 10))));
  t0 = performance.now();
  const r = await Promise.all(Array.from({ length: jobs }, (_, i) => wg.dispatch(new CountPrimes(i * span, (i + 1) * span))));
  const ms = performance.now() - t0;
  check(r, 'isolate-workgroup');
  show('isolate-workgroup, 4 workers', ms, 'all answers checked');
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  screen.say(dim(`   (${cores} CPU cores here: 4 workers can go at most ${Math.min(4, cores)}× faster than one thread)`));
}

async function main() {
  const screen = new Screen();
  if (tty) process.stdout.write('\x1b[?25l'); // hide the cursor while drawing
  const restore = () => tty && process.stdout.write('\x1b[?25h');
  process.once('exit', restore);
  process.once('SIGINT', () => {
    restore();
    process.exit(130);
  });
  const started = performance.now();
  screen.say(bold(cyan(' isolate-workgroup')) + dim(' — jobs, calls and results through SharedArrayBuffer rings'));
  screen.say('');
  const wg = new IsolateWorkgroup(4, { modules: [import.meta.url] });
  await wg.launch();
  try {
    await phaseDispatch(wg, screen);
    await phaseMember(wg, screen);
    await phaseResize(wg, screen);
    await phaseCompare(wg, screen);
  } finally {
    await wg.shutdown();
  }
  screen.say('');
  screen.say(dim(` done in ${((performance.now() - started) / 1000).toFixed(0)} s. More: examples/ (one file per feature), npm run bench`));
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
