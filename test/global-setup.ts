// Builds dist/ once before any test file runs: worker threads load the built JavaScript, since
// Node 20 cannot load `.ts` in a worker. Tests never depend on a stale dist/.
// @ts-expect-error -- plain .mjs build script without declarations
import { buildLib } from '../scripts/build.mjs';

export default async function setup(): Promise<void> {
  await (buildLib as (o: { quiet: boolean }) => Promise<void>)({ quiet: true });
}
