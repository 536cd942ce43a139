// workerpool's side of the benchmark work: methods registered with workerpool.worker(), called with exec(name, args).
import workerpool from 'workerpool';
import { barrier, inc, increment, spin } from './tasks.mjs';

workerpool.worker({
  inc,
  increment,
  spinTask: (us, id) => spin(us, id),
  barrierTask: (sab, parties) => barrier(sab, parties),
});
