// An AbortSignal that aborts when any of its parents does, and lets go of the parents when disposed.
// (AbortSignal.any keeps listeners on long-lived parents such as the shutdown signal.)
export interface LinkedSignal {
  readonly signal: AbortSignal;
  dispose(): void;
}

export function linkedSignal(...parents: AbortSignal[]): LinkedSignal {
  const controller = new AbortController();
  const listeners: [AbortSignal, () => void][] = [];
  for (const parent of parents) {
    if (parent.aborted) {
      controller.abort(parent.reason);
      break;
    }
    const onAbort = () => controller.abort(parent.reason);
    parent.addEventListener('abort', onAbort, { once: true });
    listeners.push([parent, onAbort]);
  }
  return {
    signal: controller.signal,
    dispose: () => {
      for (const [parent, onAbort] of listeners) parent.removeEventListener('abort', onAbort);
    },
  };
}
