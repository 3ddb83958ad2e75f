// Stand-ins for the global fetch, so the client's tests need no server.

/** A fetch answered by `handler`; a throw in it becomes a rejected fetch, as a network error would. */
export function fakeFetch(
  handler: (url: URL, init: RequestInit) => Response | Promise<Response>,
): typeof fetch {
  const fake = (input: string | URL, init: RequestInit = {}): Promise<Response> =>
    Promise.resolve().then(() => handler(new URL(input), init));
  return fake as typeof fetch;
}

/** A server that never answers: the fetch only ends when its signal aborts. */
export const hangingFetch = fakeFetch(
  (_url, init) =>
    new Promise<Response>((_resolve, reject) => {
      init.signal?.addEventListener('abort', () =>
        reject(new Error('aborted', { cause: init.signal?.reason })),
      );
    }),
);
