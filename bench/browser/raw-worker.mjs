// The baseline's worker: a hand-written postMessage pool member. One message per job, one per answer.
self.onmessage = (e) => {
  const { id, a, b } = e.data;
  self.postMessage({ id, r: a + b });
};
