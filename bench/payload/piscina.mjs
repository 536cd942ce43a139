// piscina's side of the payload benchmark: the default export gets the array (copied, or moved with
// Piscina.move) and returns its sum.
import { sum } from './sum.mjs';

export default function (data) {
  return sum(data);
}
