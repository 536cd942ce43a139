// Types for the plain-JavaScript work shared by every library's worker file (tasks.mjs).
export declare function inc(x: number): number;
export declare function spin(us: number, id: number): number;
export declare function barrier(sab: SharedArrayBuffer, parties: number): number;
export declare function increment(): number;
