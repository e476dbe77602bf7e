/** What an adapter's instrumentation offers: patching its modules, and undoing that. */
interface Toggle {
  enable(): void;
  disable(): void;
}

/**
 * An adapter's enable function over one instrumentation per process, re-enabled by a restarted
 * distribution: its module hooks stay registered and `enable` re-patches the modules already
 * loaded, which a new instance could not. The function returns what disables it.
 */
export function reusedInstrumentation(create: () => Toggle): () => () => void {
  let instrumentation: Toggle | undefined;
  return () => {
    if (instrumentation === undefined) instrumentation = create();
    else instrumentation.enable();
    const enabled = instrumentation;
    return () => enabled.disable();
  };
}
