// The config layer's public API: load and validate ccom.yaml / ccom.json, and detect an app for `ccom init`.
export { CONFIG_FILES, loadConfig, parseConfig, parseConfigText } from './load.js';
export { parseDuration, parseFraction, formatDuration } from './duration.js';
export { detectApp } from './detect.js';
export type { DetectedApp } from './detect.js';
export { renderConfigYaml } from './render.js';
export { writeConfig } from './write.js';
export type { Config, LoadedConfig } from './types.js';
