import type { Logger } from '../log.js';
import type { Env, SettingReader } from '../settings.js';

/** How the metrics endpoints (the dedicated server and the in-app handlers) are protected. */
export interface EndpointSettings {}

/** With none of its variables set. */
export const ENDPOINT_DEFAULTS: EndpointSettings = Object.freeze({});

export function readEndpointSettings(_read: SettingReader, _env: Env, _log: Logger): EndpointSettings {
  return ENDPOINT_DEFAULTS;
}
