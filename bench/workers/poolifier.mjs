// poolifier's side of the benchmark work: named task functions of a ThreadWorker, called with execute(data, name).
import { ThreadWorker } from 'poolifier';
import { barrier, inc, increment, spin } from './tasks.mjs';

export default new ThreadWorker({
  inc: (x) => inc(x),
  increment: () => increment(),
  spinTask: ({ us, id }) => spin(us, id),
  barrierTask: ({ sab, parties }) => barrier(sab, parties),
});
