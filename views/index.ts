import { CACHE } from './cache.js';
import { DB } from './db.js';
import type { FamilyDef } from './family.js';
import { HTTP } from './http.js';
import { MIGRATIONS } from './migrations.js';
import { MODELS } from './models.js';
import { SELF, SELF_FAMILIES } from './self.js';

export { BODY_BUCKETS, bucketBounds, DEFAULT_LATENCY_BUCKETS } from './buckets.js';
export { deriveFamily, djangoName, extraLabelsOf } from './family.js';
export type { BucketLayout, FamilyDef, FamilyType, MergeRule } from './family.js';
export { CACHE, DB, HTTP, MIGRATIONS, MODELS, SELF, SELF_FAMILIES };

/** The 34 django-prometheus families, in exposition order. */
export const ALL_FAMILIES: readonly FamilyDef[] = Object.freeze([
  ...Object.values(HTTP),
  ...Object.values(DB),
  ...Object.values(CACHE),
  ...Object.values(MODELS),
  ...Object.values(MIGRATIONS),
]);
