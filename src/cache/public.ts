/** The public cache API, re-exported by src/index.ts (not yet implemented). */
export {};
