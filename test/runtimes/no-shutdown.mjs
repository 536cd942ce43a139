// A script that uses a workgroup and never calls shutdown(): with the Node entry the process must end by
// itself once the work is done (idle workers do not keep it alive). Run by test/runtimes/run.mjs.
const { IsolateWorkgroup } = await import(new URL('../../dist/index.js', import.meta.url).href);
const work = await import(new URL('./work.mjs', import.meta.url).href);

const wg = new IsolateWorkgroup(2, { modules: [new URL('./work.mjs', import.meta.url)] });
await wg.launch();
const sums = await Promise.all(Array.from({ length: 100 }, (_, i) => wg.dispatch(new work.Add(i, 1))));
console.log(`done: ${sums.every((v, i) => v === i + 1) ? 'ok' : 'wrong results'}`);
