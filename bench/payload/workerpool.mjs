// workerpool's side of the payload benchmark.
import workerpool from 'workerpool';
import { sum } from './sum.mjs';

workerpool.worker({ sum });
