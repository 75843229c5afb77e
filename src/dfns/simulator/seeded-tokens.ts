/**
 * `seededTokens`: the access tokens of seeded SAs/PATs by name. Minted on first read (a JWT
 * signature each), so seeding 10,000 generated items costs nothing until a test asks for one.
 */
export class LazyTokenMap implements ReadonlyMap<string, string> {
  readonly #minters = new Map<string, () => string>();
  readonly #minted = new Map<string, string>();

  define(name: string, mint: () => string): void {
    this.#minters.set(name, mint);
  }

  get(name: string): string | undefined {
    const cached = this.#minted.get(name);
    if (cached !== undefined) return cached;
    const mint = this.#minters.get(name);
    if (!mint) return undefined;
    const token = mint();
    this.#minted.set(name, token);
    return token;
  }

  has(name: string): boolean {
    return this.#minters.has(name);
  }

  get size(): number {
    return this.#minters.size;
  }

  *keys(): MapIterator<string> {
    yield* this.#minters.keys();
  }

  *values(): MapIterator<string> {
    for (const name of this.#minters.keys()) yield this.get(name)!;
  }

  *entries(): MapIterator<[string, string]> {
    for (const name of this.#minters.keys()) yield [name, this.get(name)!];
  }

  [Symbol.iterator](): MapIterator<[string, string]> {
    return this.entries();
  }

  forEach(callback: (value: string, key: string, map: ReadonlyMap<string, string>) => void, thisArg?: unknown): void {
    for (const [name, token] of this.entries()) callback.call(thisArg, token, name, this);
  }
}
