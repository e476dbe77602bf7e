import { isWrapped } from '@opentelemetry/instrumentation';

export type Method = (...args: never[]) => unknown;
export type Wrapper = (original: Method) => Method;
type Target = Record<string, Method>;

/**
 * The methods an adapter has wrapped, by object: an app can load a framework twice (two copies,
 * or both bundles of a package), and an adapter's `disable` must restore every object it touched.
 * Wrapping the same method again is harmless (an ES module import can report a module to both
 * module hooks); `restore` unwraps each method still wrapped, once.
 */
export class WrappedMethods {
  private readonly targets = new Map<Target, Set<string>>();

  constructor(
    private readonly wrapMethod: (target: Target, method: string, wrapper: Wrapper) => void,
    private readonly unwrapMethod: (target: Target, method: string) => void,
  ) {}

  wrap(target: Target, method: string, wrapper: Wrapper): void {
    this.wrapMethod(target, method, wrapper);
    let methods = this.targets.get(target);
    if (methods === undefined) this.targets.set(target, (methods = new Set()));
    methods.add(method);
  }

  /** Whether any of `target`'s methods has been wrapped. */
  has(target: Target): boolean {
    return this.targets.has(target);
  }

  restore(): void {
    for (const [target, methods] of this.targets) for (const method of methods) if (isWrapped(target[method])) this.unwrapMethod(target, method);
    this.targets.clear();
  }
}
