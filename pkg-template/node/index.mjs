// Node entry point (ES module): the same module as index.cjs, so the wasm is
// instantiated once even when both are loaded.
import { createRequire } from 'node:module';

const { analyze, analyzeWithOutputs, check, version } = createRequire(import.meta.url)('./core.cjs');

export { analyze, analyzeWithOutputs, check, version };
