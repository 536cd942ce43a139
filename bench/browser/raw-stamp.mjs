// The start-up breakdown's plain module worker: answers one message with when it was evaluated and ran.
const abs = () => performance.timeOrigin + performance.now();
const workEval = abs();
self.onmessage = () => {
  self.postMessage({ origin: performance.timeOrigin, workEval, exec: abs(), resources: [] });
};
