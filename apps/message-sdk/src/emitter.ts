// A small typed event emitter that runs in browsers and Node alike (no node:events).
export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  readonly #handlers = new Map<keyof Events, Set<Events[keyof Events]>>();

  on<K extends keyof Events>(name: K, handler: Events[K]): () => void {
    let set = this.#handlers.get(name);
    if (!set) this.#handlers.set(name, (set = new Set()));
    set.add(handler);
    return () => this.off(name, handler);
  }

  off<K extends keyof Events>(name: K, handler: Events[K]): void {
    this.#handlers.get(name)?.delete(handler);
  }

  protected emit<K extends keyof Events>(name: K, ...args: Parameters<Events[K]>): void {
    for (const handler of [...(this.#handlers.get(name) ?? [])]) {
      try {
        (handler as (...a: Parameters<Events[K]>) => void)(...args);
      } catch (err) {
        // A failing handler must not break delivery to the others.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }
}
