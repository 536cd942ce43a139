// tinypool's side of the benchmark work: named exports, called with run(arg, { name }).
import { barrier, inc, increment, spin } from './tasks.mjs';

export { inc, increment };
export const spinTask = ({ us, id }) => spin(us, id);
export const barrierTask = ({ sab, parties }) => barrier(sab, parties);
export default inc;
