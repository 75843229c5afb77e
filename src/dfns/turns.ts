/**
 * Callers take turns, one at a time, in arrival order (a request budget hands out starts this way,
 * so a fake clock moved by one caller's wait is seen by the next). A turn that fails never wedges
 * the callers behind it.
 */
export class Turns {
  #tail: Promise<void> = Promise.resolve();
  #waiting = 0;

  /** Callers whose turn has not finished yet. */
  get waiting(): number {
    return this.#waiting;
  }

  take<T>(turn: () => Promise<T>): Promise<T> {
    this.#waiting += 1;
    const mine = this.#tail.then(turn);
    this.#tail = mine.then(() => undefined, () => undefined);
    return mine.finally(() => {
      this.#waiting -= 1;
    });
  }
}
