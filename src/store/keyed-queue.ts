// Jobs under one key run one after another (changes to one invite, grants to one
// account); jobs under different keys do not wait for each other. A lone job starts
// at once, in the caller's turn.
export class KeyedQueue {
  private readonly running = new Map<string, Promise<unknown>>();

  /** Run `job` after the one running under `key`, if any; the next under `key` waits for it. */
  run<T>(key: string, job: () => Promise<T>): Promise<T> {
    const before = this.running.get(key);
    const p = before ? before.catch(() => {}).then(job) : job();
    this.running.set(key, p);
    void p.finally(() => { if (this.running.get(key) === p) this.running.delete(key); }).catch(() => {});
    return p;
  }

  /** Is a job under `key` running or waiting? */
  has(key: string): boolean {
    return this.running.has(key);
  }

  /** Every job asked for so far has ended (failures included). */
  async settled(): Promise<void> {
    await Promise.all([...this.running.values()].map((p) => p.catch(() => {})));
  }
}
