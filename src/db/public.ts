/** The public db API, re-exported by src/index.ts (not yet implemented). */
export {};
