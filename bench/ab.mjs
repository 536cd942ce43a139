// A/B of two builds of the library on the same machine, alternating: `node bench/ab.mjs <root-a> <root-b>
// [rounds]` where each root is a checkout with dist/ built (`node scripts/build.mjs`) and its own
// test/fixtures/work.mjs. Per build and round, in a fresh process each: 100,000 tiny jobs at once, the same
// with 1,024 in flight, 5,000 one-at-a-time round trips (p50, p99) and 1,000,000 in one dispatchAll. Prints the per-round figures and
// the medians; compare the builds with each other, never with another run.
//   git worktree add /tmp/old <commit> && (cd /tmp/old && ln -s "$PWD/node_modules" . && node scripts/build.mjs)
//   node bench/ab.mjs /tmp/old .
import { execFileSync } from 'node:child_process';
import path from 'node:path';

if (process.argv[2] === '--child') {
  const root = process.argv[3];
  const lib = await import(path.join(root, 'dist/index.js'));
  const work = await import(path.join(root, 'test/fixtures/work.mjs'));
  const wg = new lib.IsolateWorkgroup(2, { modules: [new URL(`file://${path.join(root, 'test/fixtures/work.mjs')}`)] });
  await wg.launch();
  for (let i = 0; i < 2000; i++) await wg.dispatch(new work.Add(i, 1));
  const N = 100_000;
  let t = performance.now();
  await Promise.all(Array.from({ length: N }, (_, i) => wg.dispatch(new work.Add(i, 1))));
  const tiny = N / ((performance.now() - t) / 1000);
  t = performance.now();
  let sent = 0;
  let done = 0;
  await new Promise((resolve) => {
    const next = () => {
      if (done === N) return resolve();
      while (sent < N && sent - done < 1024) {
        sent++;
        wg.dispatch(new work.Add(sent, 1)).then(() => (done++, next()));
      }
    };
    next();
  });
  const windowed = N / ((performance.now() - t) / 1000);
  const lat = [];
  for (let i = 0; i < 5000; i++) {
    const s = performance.now();
    await wg.dispatch(new work.Add(i, 1));
    lat.push((performance.now() - s) * 1000);
  }
  lat.sort((a, b) => a - b);
  // 1,000,000 tiny jobs in one dispatchAll (the best of 3; jobs created before the clock starts).
  let batch = 0;
  for (let r = 0; r < 3; r++) {
    const jobs = Array.from({ length: 1_000_000 }, (_, i) => new work.Add(i, 1));
    t = performance.now();
    const out = await wg.dispatchAll(jobs);
    batch = Math.max(batch, jobs.length / ((performance.now() - t) / 1000));
    if (out[999_999] !== 1_000_000) throw new Error('dispatchAll: wrong result');
  }
  await wg.shutdown();
  console.log(JSON.stringify({ tiny, windowed, p50: lat[2500], p99: lat[4950], batch }));
} else {
  const [a, b] = [path.resolve(process.argv[2]), path.resolve(process.argv[3])];
  const rounds = Number(process.argv[4] ?? 3);
  const runs = { a: [], b: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [k, root] of [['a', a], ['b', b]]) {
      const out = JSON.parse(execFileSync(process.execPath, [process.argv[1], '--child', root], { encoding: 'utf8' }).trim().split('\n').at(-1));
      runs[k].push(out);
      console.log(`round ${r + 1} ${k}: ${Math.round(out.tiny)} jobs/s at once, ${Math.round(out.windowed)} jobs/s windowed, round trip p50 ${out.p50.toFixed(1)} µs, p99 ${out.p99.toFixed(1)} µs, one dispatchAll ${Math.round(out.batch)} jobs/s`);
    }
  }
  const med = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  for (const key of ['tiny', 'windowed', 'p50', 'p99', 'batch']) {
    const ma = med(runs.a.map((x) => x[key]));
    const mb = med(runs.b.map((x) => x[key]));
    console.log(`${key}: a ${ma.toFixed(1)}, b ${mb.toFixed(1)}, b/a ${(mb / ma).toFixed(2)}`);
  }
}
