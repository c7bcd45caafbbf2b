'use strict';
// Node entry point (CommonJS). See index.d.ts for the API.
const { analyze, analyzeWithOutputs, check, version } = require('./core.cjs');

module.exports = { analyze, analyzeWithOutputs, check, version };
