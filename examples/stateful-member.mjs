// A stateful member: an object that lives inside one worker, keeps its state between calls and is
// called RPC-style through a proxy. It can also call back to the main thread with notifyHost().
//
//   npm run build && node examples/stateful-member.mjs
import { isMainThread } from 'node:worker_threads';
import { IsolateWorkgroup, WorkerCommand, WorkgroupMember } from 'isolate-workgroup';

export class AddText extends WorkerCommand {
  constructor(text) {
    super();
    this.text = text;
  }
}

export class TopWords extends WorkerCommand {
  constructor(n) {
    super();
    this.n = n;
  }
}

/** Sent by the member to the main thread when it meets a word it was told to watch. */
export class Spotted extends WorkerCommand {
  constructor(word) {
    super();
    this.word = word;
  }
}

/** Counts words across every text it is given; the counts stay in the worker between calls. */
export class WordCounter extends WorkgroupMember {
  constructor(watch) {
    super();
    this.watch = watch; // fields set here travel to the worker with the member
  }
  setup() {
    this.counts = new Map(); // built in the worker, never sent
    this.texts = 0;
  }
  async handle(command) {
    if (command instanceof AddText) {
      for (const word of command.text.toLowerCase().match(/[a-z']+/g) ?? []) {
        const seen = (this.counts.get(word) ?? 0) + 1;
        this.counts.set(word, seen);
        if (word === this.watch && seen === 1) await this.notifyHost(new Spotted(word));
      }
      return ++this.texts;
    }
    if (command instanceof TopWords) {
      return [...this.counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, command.n);
    }
    throw new TypeError(`WordCounter cannot handle ${command?.constructor?.name}`);
  }
  dispose() {
    this.counts.clear();
  }
}

const TEXTS = [
  'It was the best of times, it was the worst of times, it was the age of wisdom',
  'it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity',
  'it was the season of Light, it was the season of Darkness, it was the spring of hope',
];

async function main() {
  const wg = new IsolateWorkgroup(2, { modules: [import.meta.url] });
  await wg.launch();
  try {
    // addInstance places each member on the worker with the fewest members.
    const onNotify = (command) => {
      if (command instanceof Spotted) console.log(`  (main thread) the member spotted "${command.word}"`);
      return true;
    };
    const english = await wg.addInstance(new WordCounter('wisdom'), { onNotify });
    const other = await wg.addInstance(new WordCounter('hope'), { onNotify });
    console.log(`members ${english.memberId} and ${other.memberId} live on workers ${english.isolateIndex} and ${other.isolateIndex}`);

    for (const text of TEXTS) {
      const texts = await english.invoke(new AddText(text));
      console.log(`member ${english.memberId} has read ${texts} text(s)`);
    }
    await other.invoke(new AddText(TEXTS[2]));

    const top = await english.invoke(new TopWords(3));
    console.log(`top words: ${top.map(([w, n]) => `${w} ×${n}`).join(', ')}`);

    // Many calls in flight to one member are fine: each answer finds its own caller.
    const all = await Promise.all(TEXTS.map((t) => other.invoke(new AddText(t))));
    console.log(`concurrent calls answered ${all.join(', ')}`);

    await wg.destroyInstance(english); // runs dispose() in the worker
    await wg.destroyInstance(other);
    console.log(`members left: ${wg.memberCount}`);
  } finally {
    await wg.shutdown();
  }
}

if (isMainThread) {
  main().catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
}
