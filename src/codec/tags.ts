/**
 * The codec's wire format: one tag byte per value, then the value's payload. Every multi-byte
 * integer below is an unsigned LEB128 varint (`vu`, at most 5 bytes, values < 2^35; the encoder may pad
 * a varint with 0x80 continuation bytes to a width it reserved) or a zigzag varint (`vz`: an int32 n as
 * the vu of (n << 1) ^ (n >> 31)), and every float is 8 bytes in the host's byte order (frames never
 * leave the machine: producer and consumer are threads of one process).
 *
 * | tag          | byte       | payload                                                                  |
 * |--------------|------------|--------------------------------------------------------------------------|
 * | (small int)  | 0x40..0xFF | none: the value is `tag - 0x60` (-32..159)                               |
 * | UNDEFINED    | 0x00       | —                                                                        |
 * | NULL         | 0x01       | —                                                                        |
 * | FALSE, TRUE  | 0x02, 0x03 | —                                                                        |
 * | INT          | 0x04       | vz n, an int32                                                           |
 * | F64          | 0x05       | 8 bytes (any double: NaN, ±Infinity, non-int32 integers)                 |
 * | NEG_ZERO     | 0x06       | — (-0)                                                                   |
 * | BIGINT_POS   | 0x07       | vu byteCount, magnitude big-endian                                       |
 * | BIGINT_NEG   | 0x08       | vu byteCount, magnitude big-endian (value is minus the magnitude)        |
 * | STR_ASCII    | 0x09       | vu byteLength, bytes < 0x80                                              |
 * | STR_UTF8     | 0x0A       | vu byteLength, well-formed UTF-8                                         |
 * | STR_UTF16    | 0x0B       | vu unitCount, 2 bytes per UTF-16 code unit (strings with lone surrogates)|
 * | REF          | 0x0C       | vu index of an object decoded earlier in this frame (shared refs, cycles)|
 * | ARRAY        | 0x0D       | vu length, then elements; a HOLE run counts as `run` elements            |
 * | HOLE         | 0x0E       | vu run (>= 1): that many holes; only inside an ARRAY                     |
 * | OBJECT       | 0x0F       | vu count, then count × (string key value, value)                         |
 * | OBJECT_NULL  | 0x10       | as OBJECT, with a null prototype                                         |
 * | MAP          | 0x11       | vu count, then count × (key value, value)                                |
 * | SET          | 0x12       | vu count, then count values                                              |
 * | DATE         | 0x13       | 8-byte time value (NaN for an invalid Date)                              |
 * | REGEXP       | 0x14       | source string value, flags string value, lastIndex value                 |
 * | ARRAYBUFFER  | 0x15       | vu byteLength, bytes; from 64 bytes on, a pad count byte (0..7) and that |
 * |              |            | many zero bytes come first, so the bytes start 8-byte aligned in memory  |
 * | SAB          | 0x16       | vz id from `EncodeHooks.sharedBuffer`                                    |
 * | BIG_BINARY   | 0x17       | vz handle from `EncodeHooks.bigBinary`, vu check (`bigBinaryCheck`, the  |
 * |              |            | block's generation; 0 without the hook), vu byteLength                   |
 * | VIEW         | 0x18       | kind byte (VIEW_KINDS), buffer (ARRAYBUFFER/SAB/BIG_BINARY/REF),         |
 * |              |            | vu byteOffset into that buffer, vu length (elements; bytes for DataView) |
 * | ERROR        | 0x19       | kind byte (ERROR_KINDS, or CLASS_NUM/CLASS_STR + ref), flags byte,       |
 * |              |            | the flagged values (message, stack, cause, errors, name), then as OBJECT |
 * |              |            | (vu count, count × (key, value)) for the own enumerable properties       |
 * | CLASS_NUM    | 0x1A       | vz class id, then as OBJECT: vu count, count × (key, value)              |
 * | CLASS_STR    | 0x1B       | class id as a string value, then as CLASS_NUM                            |
 *
 * Object identity: every object value (the rows from ARRAY down, except HOLE) takes the next
 * index in the frame's object table when its tag is read, before its children, so a REF may point at a
 * container still being decoded (a cycle). A VIEW takes its index before its buffer does.
 */

export const Tag = {
  UNDEFINED: 0x00,
  NULL: 0x01,
  FALSE: 0x02,
  TRUE: 0x03,
  INT: 0x04,
  F64: 0x05,
  NEG_ZERO: 0x06,
  BIGINT_POS: 0x07,
  BIGINT_NEG: 0x08,
  STR_ASCII: 0x09,
  STR_UTF8: 0x0a,
  STR_UTF16: 0x0b,
  REF: 0x0c,
  ARRAY: 0x0d,
  HOLE: 0x0e,
  OBJECT: 0x0f,
  OBJECT_NULL: 0x10,
  MAP: 0x11,
  SET: 0x12,
  DATE: 0x13,
  REGEXP: 0x14,
  ARRAYBUFFER: 0x15,
  SAB: 0x16,
  BIG_BINARY: 0x17,
  VIEW: 0x18,
  ERROR: 0x19,
  CLASS_NUM: 0x1a,
  CLASS_STR: 0x1b,
} as const;

/** First tag byte that is a small integer; its value is `tag - SMALL_INT_BIAS`. */
export const SMALL_INT_FIRST = 0x40;
export const SMALL_INT_BIAS = 0x60;
export const SMALL_INT_MIN = SMALL_INT_FIRST - SMALL_INT_BIAS; // -32
export const SMALL_INT_MAX = 0xff - SMALL_INT_BIAS; // 159

/** Nesting limit of both directions: deeper values are refused (encode) or rejected (decode). */
export const MAX_DEPTH = 1000;

/** Default `EncodeHooks.bigBinaryThreshold` (bytes). */
export const DEFAULT_BIG_BINARY_THRESHOLD = 64 * 1024;

type ViewCtor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView;

const float16 = (globalThis as { Float16Array?: ViewCtor }).Float16Array;

/**
 * View kinds, by wire number. `size` is the element size; DataView's length is in bytes. Float16Array
 * has its number even where it is missing, so a frame means the same on every platform; decoding it
 * where it is missing is a CodecError.
 */
export const VIEW_KINDS: readonly { readonly name: string; readonly ctor: ViewCtor | undefined; readonly size: number }[] = [
  { name: 'Int8Array', ctor: Int8Array, size: 1 },
  { name: 'Uint8Array', ctor: Uint8Array, size: 1 },
  { name: 'Uint8ClampedArray', ctor: Uint8ClampedArray, size: 1 },
  { name: 'Int16Array', ctor: Int16Array, size: 2 },
  { name: 'Uint16Array', ctor: Uint16Array, size: 2 },
  { name: 'Int32Array', ctor: Int32Array, size: 4 },
  { name: 'Uint32Array', ctor: Uint32Array, size: 4 },
  { name: 'Float32Array', ctor: Float32Array, size: 4 },
  { name: 'Float64Array', ctor: Float64Array, size: 8 },
  { name: 'BigInt64Array', ctor: BigInt64Array, size: 8 },
  { name: 'BigUint64Array', ctor: BigUint64Array, size: 8 },
  { name: 'Float16Array', ctor: float16, size: 2 },
  { name: 'DataView', ctor: DataView as unknown as ViewCtor, size: 1 },
];
export const VIEW_KIND_DATAVIEW = 12;

type ErrorCtor = new (...args: never[]) => Error;

/** Built-in error classes, by wire number; a user class uses CLASS_NUM/CLASS_STR as its kind byte. */
export const ERROR_KINDS: readonly ErrorCtor[] = [
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
  AggregateError,
];

/** ERROR flags byte: which fields follow (each as a value, in this order). */
export const ErrorFlag = {
  MESSAGE: 1,
  STACK: 2,
  CAUSE: 4,
  ERRORS: 8,
  NAME: 16,
} as const;
export const ERROR_FLAGS_ALL = 31;
