/**
 * Bulk writes count after they succeed: `onValue` (contained by the caller) gets the value the
 * app's promise `result` fulfils with. A rejection stays the app's own: the app keeps `result`
 * itself, and the branch added here only swallows its own copy of the rejection.
 */
export function whenFulfilled(result: unknown, onValue: (value: unknown) => void): void {
  // Only the ORMs' own native promises: a foreign thenable's `then` could do anything.
  if (result instanceof Promise) result.then(onValue, ignore);
}

function ignore(): void {}
