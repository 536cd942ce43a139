/**
 * Codec benchmark: encode into / decode from a SharedArrayBuffer region (the ring's hot path), against
 * the baselines a user would otherwise reach for: JSON (stringify + TextEncoder.encodeInto the SAB; copy
 * out + TextDecoder + parse) and v8.serialize/deserialize (+ the copy into and out of the SAB), and
 * msgpackr when it is installed. Every codec's round trip is checked before it is timed.
 *
 * Run: `npx tsx bench/codec.bench.ts` (add `--json` for machine-readable output, `--time=ms` per task).
 * Numbers are median ns per operation; each task times a batch of operations so the timer's own cost is
 * noise. Nothing here asserts on time.
 */
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import v8 from 'node:v8';
import { Bench } from 'tinybench';
import { ByteReader, ByteWriter, decodeValue, encodeValue, type DecodeHooks, type EncodeHooks } from '../src/codec/codec.js';

class TinyJob {
  a = 1;
  b = 2;
  sum(): number {
    return this.a + this.b;
  }
}

const classes: Function[] = [TinyJob];
const encodeHooks: EncodeHooks = {
  classRef: (ctor) => {
    const i = classes.indexOf(ctor);
    return i < 0 ? undefined : i;
  },
  sharedBuffer: () => 0,
};
const decodeHooks: DecodeHooks = {
  classByRef: (ref) => classes[ref as number]!,
  sharedBuffer: () => {
    throw new Error('no shared buffers in this benchmark');
  },
};

const medium = {
  id: 12345,
  name: 'resize-thumbnail',
  owner: 'user@example.com',
  priority: 3,
  ratio: 0.75,
  enabled: true,
  tags: ['image', 'png', 'fast'],
  size: { width: 1920, height: 1080 },
  path: '/var/data/images/0001.png',
  created: 1_700_000_000_000,
};
const bigF64 = new Float64Array(8192).map((_, i) => Math.sin(i) * 1000);

interface Codec {
  readonly name: string;
  encode(value: unknown): number; // returns the frame length in `sab`
  decode(length: number): unknown;
}

const sab = new SharedArrayBuffer(1 << 20);
const target = new Uint8Array(sab);

const writer = new ByteWriter();
const reader = new ByteReader();
const ours: Codec = {
  name: 'isolate-workgroup codec',
  encode(value) {
    writer.begin(target, 0, target.length);
    encodeValue(writer, value, encodeHooks, 'job');
    return writer.length;
  },
  decode(length) {
    reader.reset(target, 0, length);
    return decodeValue(reader, decodeHooks);
  },
};

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();
const json: Codec = {
  name: 'JSON + TextEncoder',
  encode(value) {
    const text = JSON.stringify(value instanceof Float64Array ? Array.from(value) : value);
    return textEncoder.encodeInto(text, target).written;
  },
  decode(length) {
    return JSON.parse(textDecoder.decode(target.slice(0, length))) as unknown;
  },
};

const v8codec: Codec = {
  name: 'v8.serialize',
  encode(value) {
    const bytes = v8.serialize(value);
    target.set(bytes);
    return bytes.length;
  },
  decode(length) {
    return v8.deserialize(target.slice(0, length)) as unknown;
  },
};

async function loadMsgpackr(): Promise<Codec | undefined> {
  try {
    const name = 'msgpackr';
    const m = (await import(name)) as { pack(v: unknown): Uint8Array; unpack(b: Uint8Array): unknown };
    return {
      name: 'msgpackr',
      encode(value) {
        const bytes = m.pack(value);
        target.set(bytes);
        return bytes.length;
      },
      decode(length) {
        return m.unpack(target.slice(0, length));
      },
    };
  } catch {
    return undefined;
  }
}

interface Case {
  readonly name: string;
  readonly value: unknown;
  readonly batch: number;
  /** Turns a baseline's decoded value into what ours decodes, for the equality check. */
  readonly normalize: (decoded: unknown) => unknown;
}

const cases: Case[] = [
  { name: 'tiny job (class instance {a:1,b:2})', value: new TinyJob(), batch: 2000, normalize: (d) => Object.assign(new TinyJob(), d) },
  { name: 'medium object (10 fields)', value: medium, batch: 500, normalize: (d) => d },
  {
    name: 'Float64Array 64 KiB',
    value: bigF64,
    batch: 4,
    normalize: (d) => (d instanceof Float64Array ? d : new Float64Array(d as number[])),
  },
];

function check(codec: Codec, c: Case): boolean {
  const decoded = c.normalize(codec.decode(codec.encode(c.value)));
  const same = codec === ours ? isDeepStrictEqual(decoded, c.value) && Object.getPrototypeOf(decoded) === Object.getPrototypeOf(c.value) : isDeepStrictEqual(decoded, c.value);
  if (!same) console.error(`${codec.name} does not round-trip "${c.name}"; skipped`);
  return same;
}

interface Row {
  case: string;
  codec: string;
  bytes: number;
  encodeNs: number;
  decodeNs: number;
  roundTripNs: number;
}

async function main(): Promise<void> {
  const timeArg = process.argv.find((a) => a.startsWith('--time='));
  const time = timeArg === undefined ? 400 : Number(timeArg.slice(7));
  const codecs = [ours, json, v8codec];
  const msgpackr = await loadMsgpackr();
  if (msgpackr === undefined) console.error('msgpackr is not installed: skipped');
  else codecs.push(msgpackr);

  const rows: Row[] = [];
  for (const c of cases) {
    for (const codec of codecs) {
      if (!check(codec, c)) continue;
      const length = codec.encode(c.value);
      const n = c.batch;
      let sink: unknown;
      const bench = new Bench({ time, warmupTime: 100 });
      bench.add('encode', () => {
        for (let i = 0; i < n; i++) codec.encode(c.value);
      });
      bench.add('decode', () => {
        for (let i = 0; i < n; i++) sink = codec.decode(length);
      });
      bench.add('round trip', () => {
        for (let i = 0; i < n; i++) sink = codec.decode(codec.encode(c.value));
      });
      await bench.run();
      void sink;
      const ns = (name: string): number => {
        const r = bench.tasks.find((t) => t.name === name)!.result;
        return 'latency' in r ? (r.latency.p50 * 1e6) / n : NaN; // median batch: robust to a busy machine
      };
      rows.push({ case: c.name, codec: codec.name, bytes: length, encodeNs: ns('encode'), decodeNs: ns('decode'), roundTripNs: ns('round trip') });
    }
  }

  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ node: process.version, cpus: os.cpus().length, load: os.loadavg()[0], rows }, null, 2));
    return;
  }
  const base = new Map(rows.filter((r) => r.codec === ours.name).map((r) => [r.case, r.roundTripNs]));
  const load = os.loadavg()[0]!.toFixed(1);
  console.log(`Node ${process.version}, ${os.cpus().length} CPUs, load ${load}; median ns per operation (lower is better); ratio = round trip / ours`);
  console.table(
    rows.map((r) => ({
      case: r.case,
      codec: r.codec,
      bytes: r.bytes,
      'encode ns': Math.round(r.encodeNs),
      'decode ns': Math.round(r.decodeNs),
      'round trip ns': Math.round(r.roundTripNs),
      ratio: `${(r.roundTripNs / base.get(r.case)!).toFixed(2)}x`,
    })),
  );
}

await main();
