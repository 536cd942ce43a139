// The payload benchmark's work, shared by every library's worker: the sum of a Float64Array (or of an
// ArrayBuffer viewed as one), in one plain loop.
export function sum(data) {
  const a = data instanceof Float64Array ? data : new Float64Array(data.buffer ?? data, data.byteOffset ?? 0, (data.byteLength ?? data.length * 8) / 8);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}
