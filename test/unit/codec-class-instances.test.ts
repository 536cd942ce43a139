// Instances of work-module classes come back with their prototype (instanceof, methods, prototype
// getters) and their own enumerable fields; unknown classes are refused with the fix in the message; a
// class whose module is not loaded yet suspends the decode, which succeeds when retried.
import { describe, expect, it } from 'vitest';
import {
  ByteReader,
  DecodeSuspend,
  UnsendableError,
  decodeFromBytes,
  decodeValue,
  encodeToBytes,
  type DecodeHooks,
  type EncodeHooks,
} from '../../src/codec/codec.js';

class Point {
  x = 0;
  y = 0;
  static create(x: number, y: number): Point {
    const p = new Point();
    p.x = x;
    p.y = y;
    return p;
  }
  get length(): number {
    return Math.hypot(this.x, this.y);
  }
  scale(k: number): Point {
    return Point.create(this.x * k, this.y * k);
  }
}

class Segment {
  from: Point;
  to: Point;
  constructor(from: Point, to: Point) {
    this.from = from;
    this.to = to;
  }
}

class Labelled extends Point {
  label = 'p';
  #secret = 42;
  get secret(): number {
    return this.#secret;
  }
}

class WithSetter {
  _v = 1;
  set v(x: number) {
    throw new Error(`setter ran with ${x}`);
  }
}
Object.defineProperty(WithSetter.prototype, 'readOnly', { value: 1, writable: false });

class Unknown {
  a = 1;
}

const classes: Function[] = [Point, Segment, Labelled, WithSetter];
const byString = new Map<string, Function>([['file:///work.js#Segment', Segment]]);

const encodeHooks: EncodeHooks = {
  classRef: (ctor) => {
    if (ctor === Segment) return 'file:///work.js#Segment';
    const i = classes.indexOf(ctor);
    return i < 0 ? undefined : i;
  },
  sharedBuffer: () => 0,
};
const decodeHooks: DecodeHooks = {
  classByRef: (ref) => (typeof ref === 'string' ? byString.get(ref)! : classes[ref]!),
  sharedBuffer: () => {
    throw new Error('none');
  },
};

function roundTrip<T>(value: T): T {
  return decodeFromBytes(encodeToBytes(value, encodeHooks, 'job'), decodeHooks) as T;
}

describe('codec class instances', () => {
  it('come back with their prototype: instanceof, methods and prototype getters work', () => {
    const back = roundTrip(Point.create(3, 4));
    expect(back).toBeInstanceOf(Point);
    expect(back.length).toBe(5);
    expect(back.scale(2).x).toBe(6);
    expect(Object.keys(back)).toEqual(['x', 'y']);
  });

  it('string class ids work, nested instances and shared instances too', () => {
    const p = Point.create(1, 2);
    const back = roundTrip(new Segment(p, p));
    expect(back).toBeInstanceOf(Segment);
    expect(back.from).toBeInstanceOf(Point);
    expect(back.from).toBe(back.to);
  });

  it('subclass instances keep the subclass; #private fields are not sent and reading one throws', () => {
    const l = new Labelled();
    l.x = 9;
    const back = roundTrip(l);
    expect(back).toBeInstanceOf(Labelled);
    expect(back).toBeInstanceOf(Point);
    expect(back.label).toBe('p');
    expect(back.x).toBe(9);
    expect(() => back.secret).toThrow(TypeError);
  });

  it('own accessor properties are sent as their current value; the constructor does not run', () => {
    const p = Point.create(1, 1);
    Object.defineProperty(p, 'computed', { get: () => 7, enumerable: true });
    Object.defineProperty(p, 'hidden', { value: 1, enumerable: false });
    const back = roundTrip(p) as Point & { computed: number; hidden?: number };
    expect(Object.getOwnPropertyDescriptor(back, 'computed')?.value).toBe(7);
    expect(back.hidden).toBeUndefined();
  });

  it('fields named like a prototype setter or read-only property are defined, not assigned', () => {
    const o = new WithSetter();
    Object.defineProperty(o, 'v', { value: 5, enumerable: true, writable: true, configurable: true });
    Object.defineProperty(o, 'readOnly', { value: 2, enumerable: true, writable: true, configurable: true });
    const back = roundTrip(o) as WithSetter & { readOnly: number };
    expect(back).toBeInstanceOf(WithSetter);
    expect(Object.getOwnPropertyDescriptor(back, 'v')?.value).toBe(5);
    expect(back.readOnly).toBe(2);
  });

  it('an unknown class is refused with its name, the path and the fix', () => {
    let error: unknown;
    try {
      encodeToBytes({ list: [1, 2, 3, new Unknown()] }, encodeHooks, 'job');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UnsendableError);
    const u = error as UnsendableError;
    expect(u.path).toBe('job.list[3]');
    expect(u.message).toContain('job.list[3] is an instance of class Unknown');
    expect(u.message).toContain('export it from a work module listed in `modules`');
    expect(u.message).toContain('static module = import.meta.url');
  });

  it('an object with a hand-made prototype is refused', () => {
    expect(() => encodeToBytes({ o: Object.create({ a: 1 }) as object }, encodeHooks, 'job')).toThrow(/job\.o is an object whose prototype is not a class/);
  });

  it('a decode hook that suspends once (module not imported yet) succeeds when the same bytes are decoded again', async () => {
    const bytes = encodeToBytes({ when: new Date(1), p: Point.create(1, 2), s: new Segment(Point.create(0, 0), Point.create(1, 1)) }, encodeHooks, 'job');
    let loaded = false;
    let suspensions = 0;
    const hooks: DecodeHooks = {
      classByRef: (ref) => {
        if (typeof ref === 'string' && !loaded) {
          suspensions++;
          throw new DecodeSuspend(
            Promise.resolve().then(() => {
              loaded = true;
            }),
          );
        }
        return decodeHooks.classByRef(ref);
      },
      sharedBuffer: decodeHooks.sharedBuffer,
    };
    const r = new ByteReader();
    let value: unknown;
    for (;;) {
      r.reset(bytes, 0, bytes.length);
      try {
        value = decodeValue(r, hooks);
        break;
      } catch (e) {
        if (!(e instanceof DecodeSuspend)) throw e;
        await e.until;
      }
    }
    expect(suspensions).toBe(1);
    const v = value as { p: Point; s: Segment };
    expect(v.p.length).toBeCloseTo(Math.sqrt(5));
    expect(v.s.to.x).toBe(1);
  });

  it('a class ref the decoder cannot map is the hook\'s error, and a non-class answer is a CodecError', () => {
    const bytes = encodeToBytes(Point.create(1, 1), encodeHooks, 'job');
    expect(() =>
      decodeFromBytes(bytes, {
        ...decodeHooks,
        classByRef: () => {
          throw new RangeError('unknown class #0');
        },
      }),
    ).toThrow('unknown class #0');
    expect(() => decodeFromBytes(bytes, { ...decodeHooks, classByRef: () => (() => 1) as Function })).toThrow(/did not give a class/);
  });
});
