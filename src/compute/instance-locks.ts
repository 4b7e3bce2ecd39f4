/**
 * Per-instance serialisation on a compute host: operations on one instance run one after the
 * other in arrival order (a delete queued behind a build waits for it), different instances run
 * in parallel. No timers; entries disappear when idle.
 */
export class InstanceLocks {
  private readonly tails = new Map<string, Promise<void>>();

  busy(uuid: string): boolean {
    return this.tails.has(uuid);
  }

  run<T>(uuid: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(uuid) ?? Promise.resolve();
    const result = prev.then(fn);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(uuid, tail);
    void tail.then(() => {
      if (this.tails.get(uuid) === tail) this.tails.delete(uuid);
    });
    return result;
  }
}
